"""EventBridge's default event bus for the local cloud: the SYNTHESIZED rules, matched and delivered.

moto's EventBridge does not deliver to Lambda or Step Functions targets, so the local runtime
routes events itself, from the template rather than a hand-kept list:

- Rules are the template's `AWS::Events::Rule` resources that have an `EventPattern` (intrinsics
  resolved to local ARNs) and are `ENABLED`. Scheduled rules (`ScheduleExpression`) never fire
  locally: the CLI and the demo start what they would start.
- Matching uses moto's EventBridge pattern matcher (`moto.events.models.EventPattern`): exact
  values, `prefix`, `suffix`, `anything-but` (values or a nested `prefix`), `exists`, `numeric`,
  `equals-ignore-case`, `wildcard`, `$or`, nested objects, and array event values (any element
  matches). Patterns are validated as PutRule validates them (`EventPatternError` at start).
- A matched target receives what EventBridge would send: the whole event, or its `Input`,
  `InputPath`, or `InputTransformer` (`InputPathsMap` + `InputTemplate`, with the predefined
  `<aws.events.rule-arn>`, `<aws.events.rule-name>`, `<aws.events.event>`,
  `<aws.events.event.json>` and `<aws.events.event.ingestion-time>`).
- Delivery is asynchronous, as in EventBridge: `put_event` returns at once and each target is
  invoked on a thread of its own (`deliver` is the cloud's: Lambda invoke, StartExecution, SQS,
  SNS). One attempt per target; EventBridge's and Lambda's async retries are not modelled, so a
  failed delivery is visible in `deliveries` rather than retried away. `drain()` waits until every
  event put so far (and every event announced with `announce()`) has been delivered.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from flowops.local.runtime.resources import LocalResources

DEFAULT_DRAIN_SECONDS = 60.0
_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")


class EventPatternError(ValueError):
    """A rule's EventPattern that EventBridge's PutRule would refuse."""


class EventDeliveryTimeoutError(TimeoutError):
    pass


def validated_pattern(pattern: Any) -> dict[str, Any]:
    """The pattern as EventBridge accepts it: an object whose leaves are non-empty arrays."""
    from moto.events.exceptions import InvalidEventPatternException
    from moto.events.models import EventPatternParser

    if not isinstance(pattern, Mapping):
        raise EventPatternError(f"an event pattern must be a JSON object, not {type(pattern).__name__}")
    try:
        return EventPatternParser(json.dumps(pattern)).parse()
    except InvalidEventPatternException as error:
        raise EventPatternError(f"invalid event pattern {json.dumps(pattern)}: {error.message}") from error


def pattern_matches(pattern: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """True when `event` matches the EventBridge `pattern` (see the module docstring)."""
    from moto.events.models import EventPattern

    return bool(EventPattern(json.dumps(pattern), dict(pattern)).matches_event(dict(event)))


def _json_path(event: Any, path: str) -> tuple[bool, Any]:
    """Dot-notation JSONPath (`$`, `$.detail.status`, `$.resources[0]`): (found, value)."""
    if path == "$":
        return True, event
    if not path.startswith("$."):
        raise ValueError(f"unsupported input path {path!r}: EventBridge paths start with '$.'")
    value = event
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path[2:]):
        if part.startswith("["):
            index = int(part[1:-1])
            if not isinstance(value, list) or index >= len(value):
                return False, None
            value = value[index]
        elif isinstance(value, Mapping) and part in value:
            value = value[part]
        else:
            return False, None
    return True, value


def transform_input(
    transformer: Mapping[str, Any], event: Mapping[str, Any], *, rule_name: str, rule_arn: str
) -> str:
    """What an `InputTransformer` sends for `event`.

    A JSON template (`{...}` or `[...]`) gets each `<name>` inside a JSON string as the raw value
    (strings unquoted, escaped for the string) and each bare `<name>` as the value's JSON; a text
    template gets raw values. A path the event does not have defines no variable: its placeholder
    becomes `null` (bare, JSON) or empty text.
    """
    values: dict[str, Any] = {}
    for name, path in (transformer.get("InputPathsMap") or {}).items():
        found, value = _json_path(event, str(path))
        if found:
            values[str(name)] = value
    without_detail = {key: value for key, value in event.items() if key != "detail"}
    values.update(
        {
            "aws.events.rule-name": rule_name,
            "aws.events.rule-arn": rule_arn,
            "aws.events.event.ingestion-time": event.get("time", ""),
        }
    )
    json_only = {"aws.events.event": without_detail, "aws.events.event.json": dict(event)}
    template = str(transformer.get("InputTemplate", ""))
    is_json = template.strip()[:1] in ("{", "[")

    def raw(value: Any) -> str:
        return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))

    if not is_json:
        return _PLACEHOLDER.sub(
            lambda match: raw(values.get(match.group(1), json_only.get(match.group(1), ""))), template
        )
    out: list[str] = []
    in_string = False
    index = 0
    while index < len(template):
        char = template[index]
        match = _PLACEHOLDER.match(template, index) if char == "<" else None
        if match is not None:
            name = match.group(1)
            if name in json_only:
                out.append(json.dumps(json_only[name], separators=(",", ":")))
            elif in_string:
                text = raw(values[name]) if name in values else ""
                out.append(json.dumps(text)[1:-1])
            else:
                out.append(json.dumps(values[name], separators=(",", ":")) if name in values else "null")
            index = match.end()
            continue
        if char == "\\" and in_string and index + 1 < len(template):
            out.append(template[index : index + 2])
            index += 2
            continue
        if char == '"':
            in_string = not in_string
        out.append(char)
        index += 1
    return "".join(out)


def target_payload(
    target: Mapping[str, Any], event: Mapping[str, Any], *, rule_name: str, rule_arn: str
) -> str:
    """The text EventBridge sends `target` for `event` (Input, InputPath, InputTransformer or the event)."""
    if "Input" in target:
        return str(target["Input"])
    if "InputPath" in target:
        found, value = _json_path(event, str(target["InputPath"]))
        return json.dumps(value if found else None)
    if "InputTransformer" in target:
        return transform_input(target["InputTransformer"], event, rule_name=rule_name, rule_arn=rule_arn)
    return json.dumps(event)


@dataclass(frozen=True)
class LocalRule:
    name: str
    arn: str
    logical_id: str
    pattern: dict[str, Any]
    targets: tuple[dict[str, Any], ...]

    def matches(self, event: Mapping[str, Any]) -> bool:
        return pattern_matches(self.pattern, event)


def rules_from_template(resources: LocalResources) -> list[LocalRule]:
    """The template's enabled event-pattern rules on the default bus, intrinsics resolved."""
    rules = []
    for resource in resources.of_type("AWS::Events::Rule"):
        properties = resources.resolve(resource.properties)
        if "EventPattern" not in properties or properties.get("State", "ENABLED") != "ENABLED":
            continue
        if properties.get("EventBusName", "default") not in ("default", None):
            continue  # only the default bus carries AWS service events
        pattern = properties["EventPattern"]
        if isinstance(pattern, str):
            pattern = json.loads(pattern)
        rules.append(
            LocalRule(
                name=resource.ref,
                arn=resource.arn,
                logical_id=resource.logical_id,
                pattern=validated_pattern(pattern),
                targets=tuple(dict(target) for target in properties.get("Targets", [])),
            )
        )
    return rules


class Delivery(BaseModel):
    """One event delivered (or not) to one target of one rule."""

    model_config = ConfigDict(frozen=True)

    rule: str
    """The rule's logical id."""
    target_arn: str
    event_id: str
    detail_type: str
    payload: str
    """What the target received (after Input/InputPath/InputTransformer)."""
    error: str | None = None
    """Why the delivery or the target failed (a Lambda function error included)."""


Deliver = Callable[[str, str], str | None]
"""(target ARN, payload) -> None when delivered, else the error text."""


@dataclass
class LocalEventBus:
    rules: list[LocalRule]
    deliver: Deliver
    account_id: str = "123456789012"
    region: str = "eu-west-1"
    deliveries: list[Delivery] = field(default_factory=list)
    _in_flight: int = 0
    _condition: threading.Condition = field(default_factory=threading.Condition)

    # -- events ------------------------------------------------------------------------------

    def event(
        self, source: str, detail_type: str, detail: Mapping[str, Any], resources: list[str] | None = None
    ) -> dict[str, Any]:
        """An event envelope as EventBridge delivers it."""
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": detail_type,
            "source": source,
            "account": self.account_id,
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.region,
            "resources": list(resources or []),
            "detail": dict(detail),
        }

    def put_event(self, event: Mapping[str, Any]) -> int:
        """Route `event` to the targets of every matching rule (asynchronously); how many targets."""
        matched = [(rule, target) for rule in self.rules if rule.matches(event) for target in rule.targets]
        for rule, target in matched:
            with self._condition:
                self._in_flight += 1
            threading.Thread(
                target=self._deliver_one,
                args=(rule, target, dict(event)),
                name=f"eventbridge-{rule.logical_id}",
                daemon=True,
            ).start()
        return len(matched)

    @contextmanager
    def announce(self) -> Iterator[None]:
        """Count an event that is about to be put as in flight (so `drain` waits for it)."""
        with self._condition:
            self._in_flight += 1
        try:
            yield
        finally:
            self._done()

    def drain(self, timeout: float = DEFAULT_DRAIN_SECONDS) -> list[Delivery]:
        """Wait until every event put (or announced) so far is delivered; all deliveries so far."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while self._in_flight:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise EventDeliveryTimeoutError(
                        f"{self._in_flight} event deliveries still running after {timeout:.0f} s"
                    )
                self._condition.wait(min(left, 0.5))
            return list(self.deliveries)

    def deliveries_to(self, rule: str) -> list[Delivery]:
        """Deliveries of the rule whose logical id (or its stem without CDK's hash) contains `rule`."""
        return [delivery for delivery in self.deliveries if rule in delivery.rule]

    # -- delivery ----------------------------------------------------------------------------

    def _deliver_one(self, rule: LocalRule, target: Mapping[str, Any], event: dict[str, Any]) -> None:
        arn = str(target.get("Arn", ""))
        payload = ""
        error: str | None
        try:
            payload = target_payload(target, event, rule_name=rule.name, rule_arn=rule.arn)
            error = self.deliver(arn, payload)
        except Exception as failure:  # a delivery failure is recorded, never raised into moto
            error = f"{type(failure).__name__}: {failure}"
        delivery = Delivery(
            rule=rule.logical_id,
            target_arn=arn,
            event_id=str(event.get("id", "")),
            detail_type=str(event.get("detail-type", "")),
            payload=payload,
            error=error,
        )
        with self._condition:
            self.deliveries.append(delivery)
        self._done()

    def _done(self) -> None:
        with self._condition:
            self._in_flight -= 1
            self._condition.notify_all()
