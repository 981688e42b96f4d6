"""Accepting one signed publish delivery: verify, parse, resolve, claim once, start.

`PublishWebhook.accept` is the whole core of the webhook; the Lambda handler only turns the
API Gateway event into `(body, headers)` and the result or `WebhookError` into a response.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from urllib.parse import quote

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ConfigDict, Field

from flowops.bounded import FLOW_YAML_LIMITS, HostileInputError, prescan_yaml
from flowops.clock import Clock, SystemClock
from flowops.observability import logger
from flowops.store import StoreError
from flowops.webhook.errors import (
    DeliveryConflictError,
    DependencyUnavailableError,
    InvalidRequestError,
    PayloadTooLargeError,
    RouteDisabledError,
    UnknownEnvironmentError,
)
from flowops.webhook.lookup import FlowDirectory, SubstitutionsSource
from flowops.webhook.models import (
    DEFAULT_MAX_INLINE_YAML_BYTES,
    ArtifactYamlSource,
    CheckedInVersionSource,
    InlineYamlSource,
    PublishAccepted,
    PublishExecutionInput,
    PublishRequest,
    PublishSource,
    PublishTarget,
    parse_publish_request,
)
from flowops.webhook.release import BundleStore, parse_release_request, release_execution_input
from flowops.webhook.replay import (
    DeliveryLedger,
    DeliveryRecord,
    DeliveryStatus,
    body_digest,
    check_timestamp,
    execution_name_for,
    parse_timestamp,
    validate_delivery_id,
)
from flowops.webhook.secret import WebhookSecretSource
from flowops.webhook.signature import (
    BOUND_SIGNATURE_HEADER,
    FLOWOPS_DELIVERY_HEADER,
    GITHUB_DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    bound_message,
    verify,
)
from flowops.webhook.starter import ExecutionNameTakenError, ExecutionStarter

# Step Functions refuses execution input over 256 KiB; keep room for the state machine's own data.
MAX_EXECUTION_INPUT_BYTES = 240 * 1024
_AWS_ERRORS = (ClientError, BotoCoreError)
# Lookups go through flowops.store, which translates AWS errors into StoreError subclasses.
_LOOKUP_ERRORS = (*_AWS_ERRORS, StoreError)
# How many times a claim is retried when the record it lost to vanished (released) mid-read.
_CLAIM_ATTEMPTS = 3
# Names stay taken for 90 days and a claim lasts 7: at most 13 earlier generations can hold one.
_MAX_GENERATION_STEPS = 16
_CLOCK_SKEW_SECONDS = 60


class WebhookLimits(BaseModel):
    model_config = ConfigDict(frozen=True)

    max_body_bytes: int = Field(default=256 * 1024, ge=1)
    max_inline_yaml_bytes: int = Field(default=DEFAULT_MAX_INLINE_YAML_BYTES, ge=1)
    timestamp_tolerance_seconds: int = Field(default=300, ge=1)
    delivery_ttl_seconds: int = Field(default=7 * 24 * 3600, ge=1)
    claim_lease_seconds: int = Field(default=120, ge=1)


def _lower_keys(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def _refuse_hostile_yaml(request: PublishRequest) -> None:
    """400 for inline YAML over the parser's limits (depth, aliases, size), before any run starts.

    Only the limits are checked here (a walk of the parser's events, no document is built);
    ordinary YAML mistakes are reported by the run's validation, with line numbers and hints.
    """
    import yaml

    if request.yaml is None:
        return
    try:
        prescan_yaml(request.yaml, FLOW_YAML_LIMITS)
    except HostileInputError as error:
        raise InvalidRequestError(f"invalid publish request: yaml: {error}", ("yaml",)) from None
    except yaml.YAMLError:
        return


def _source_of(request: PublishRequest) -> PublishSource:
    if request.yaml is not None:
        return InlineYamlSource(yaml=request.yaml)
    if request.yaml_s3_key is not None:
        return ArtifactYamlSource(yaml_s3_key=request.yaml_s3_key)
    # The request model guarantees exactly one source, so this is the version.
    return CheckedInVersionSource(version=str(request.version))


class PublishWebhook:
    """The `/publish` route's core. Every collaborator is injectable (fakes in unit tests)."""

    def __init__(
        self,
        *,
        org: str,
        secrets: WebhookSecretSource,
        ledger: DeliveryLedger,
        starter: ExecutionStarter,
        flows: FlowDirectory | None = None,
        substitutions: SubstitutionsSource | None = None,
        limits: WebhookLimits | None = None,
        clock: Clock | None = None,
        status_base_url: str = "",
        release_starter: ExecutionStarter | None = None,
        bundles: BundleStore | None = None,
    ) -> None:
        self.org = org
        self._secrets = secrets
        self._ledger = ledger
        self._starter = starter
        self._flows = flows
        self._substitutions = substitutions
        self.limits = limits or WebhookLimits()
        self._clock: Clock = clock or SystemClock()
        self._status_base_url = status_base_url.rstrip("/")
        self._release_starter = release_starter
        self._bundles = bundles

    def __repr__(self) -> str:
        return f"PublishWebhook(org={self.org!r})"

    def accept(self, body: bytes, headers: Mapping[str, str]) -> PublishAccepted:
        """Start (at most once per delivery id) the publish execution a signed request asks for.

        Order matters: size first (no work on oversized bodies), then authenticity, then the
        body, then lookups, and only then the claim, so a refused request never leaves a claim
        behind that would make its corrected retry look like a replay.
        """
        if len(body) > self.limits.max_body_bytes:
            raise PayloadTooLargeError(
                f"request body is {len(body)} bytes; the limit is {self.limits.max_body_bytes} bytes"
            )
        lowered = _lower_keys(headers)
        delivery_id = self._authenticate(body, lowered)
        request = parse_publish_request(body, max_inline_yaml_bytes=self.limits.max_inline_yaml_bytes)
        _refuse_hostile_yaml(request)
        target = self._resolve_target(request)
        self._check_environment(request.environment)

        execution_name = execution_name_for(delivery_id)
        execution_input = PublishExecutionInput(
            delivery_id=delivery_id,
            execution_name=execution_name,
            org=self.org,
            environment=request.environment,
            flow=target,
            source=_source_of(request),
            requester=request.requester,
            reason=request.reason,
            force_unlock=request.force_unlock,
            allow_drift=request.allow_drift,
            received_at=datetime.fromtimestamp(self._clock.now(), tz=UTC).isoformat(),
        )
        input_json = execution_input.model_dump_json()
        # A later generation's name is a few characters longer: far inside the margin kept here.
        if len(input_json.encode("utf-8")) > MAX_EXECUTION_INPUT_BYTES:
            raise PayloadTooLargeError(
                "the publish request does not fit in an execution input; upload the YAML and send yaml_s3_key"
            )
        return self._start_once(
            delivery_id,
            body_digest(body),
            lambda name: execution_input.model_copy(update={"execution_name": name}).model_dump_json(),
            self._starter,
        )

    def accept_release(self, body: bytes, headers: Mapping[str, str]) -> PublishAccepted:
        """Start (at most once per delivery id) the release a signed `/release` request asks for:
        the same size limit, signatures, timestamp window and delivery claim as `accept`."""
        if self._release_starter is None or self._bundles is None:
            raise RouteDisabledError("this webhook serves no releases (no release state machine configured)")
        if len(body) > self.limits.max_body_bytes:
            raise PayloadTooLargeError(
                f"request body is {len(body)} bytes; the limit is {self.limits.max_body_bytes} bytes: "
                "upload the bundle (flowops release does) and send bundle_sha256"
            )
        delivery_id = self._authenticate(body, _lower_keys(headers))
        request = parse_release_request(body)
        try:
            execution_input = release_execution_input(self.org, request, self._bundles)
        except _LOOKUP_ERRORS as error:
            logger.error("bundle store unavailable", extra={"error_type": type(error).__name__})
            raise DependencyUnavailableError(
                "could not store or read the release bundle; retry later"
            ) from None
        input_json = execution_input.model_dump_json()
        return self._start_once(
            delivery_id, body_digest(body), lambda _name: input_json, self._release_starter
        )

    # -- steps ---------------------------------------------------------------------------------

    def _authenticate(self, body: bytes, headers: Mapping[str, str]) -> str:
        """Verify both signatures and the timestamp; return the delivery id."""
        try:
            secret = self._secrets.current()
        except (*_AWS_ERRORS, RuntimeError) as error:
            logger.error("webhook secret unavailable", extra={"error_type": type(error).__name__})
            raise DependencyUnavailableError("the webhook secret is unavailable; retry later") from None
        verify(body, headers.get(SIGNATURE_HEADER.lower()), secret, header=SIGNATURE_HEADER)
        delivery_id = validate_delivery_id(
            headers.get(FLOWOPS_DELIVERY_HEADER.lower()) or headers.get(GITHUB_DELIVERY_HEADER.lower())
        )
        timestamp_text = (headers.get(TIMESTAMP_HEADER.lower()) or "").strip()
        # Its format first: the signed message below is built from it (no 500 on `²` or `\udc80`).
        parse_timestamp(timestamp_text)
        verify(
            bound_message(body, timestamp=timestamp_text, delivery_id=delivery_id),
            headers.get(BOUND_SIGNATURE_HEADER.lower()),
            secret,
            header=BOUND_SIGNATURE_HEADER,
        )
        check_timestamp(
            timestamp_text, now=self._clock.now(), tolerance_seconds=self.limits.timestamp_tolerance_seconds
        )
        return delivery_id

    def _resolve_target(self, request: PublishRequest) -> PublishTarget:
        if self._flows is None:
            return PublishTarget(id=request.flow.id, name=request.flow.name, type=request.flow.type)
        try:
            return self._flows.resolve(request.flow)
        except _LOOKUP_ERRORS as error:
            logger.error("flow lookup failed", extra={"error_type": type(error).__name__})
            raise DependencyUnavailableError("could not read the current lock; retry later") from None

    def _check_environment(self, environment: str) -> None:
        if self._substitutions is None:
            return
        try:
            known = self._substitutions.substitutions_for(environment)
        except _LOOKUP_ERRORS as error:
            logger.error("substitutions lookup failed", extra={"error_type": type(error).__name__})
            raise DependencyUnavailableError(
                "could not read the environment substitutions; retry later"
            ) from None
        if known is None:
            raise UnknownEnvironmentError(f"no substitutions are kept for environment {environment!r}")

    def _start_once(
        self, delivery_id: str, digest: str, render: Callable[[str], str], starter: ExecutionStarter
    ) -> PublishAccepted:
        """Claim the delivery and start its execution once; `render(name)` is the execution input."""
        now = self._clock.now()
        name = execution_name_for(delivery_id)
        mine = DeliveryRecord(
            delivery_id=delivery_id,
            body_sha256=digest,
            execution_name=name,
            execution_arn=starter.execution_arn(name),
            status=DeliveryStatus.CLAIMED,
            claimed_at=now,
            expires_at=int(now) + self.limits.delivery_ttl_seconds,
            claim_token=uuid.uuid4().hex,
        )
        for _ in range(_CLAIM_ATTEMPTS):
            try:
                existing = self._ledger.claim(mine)
                if existing is None:
                    return self._start(mine, render, starter)
                if _is_own_claim(existing, mine):
                    # Our own write (the claim, or a renewal below) went through although its
                    # answer said it did not, as an ambiguous conditional write can: the claim is
                    # ours, so start its run instead of answering with one never started.
                    return self._start(existing, render, starter)
                if existing.expires_at <= now:
                    # The earlier use's claim has ended, but DynamoDB deletes expired items lazily
                    # (up to days later), so the TTL is compared here: this is a new request.
                    successor = self._next_generation(mine, existing.generation + 1, starter)
                    if self._ledger.replace(existing, successor):
                        logger.info(
                            "delivery id reused after its claim expired: new run",
                            extra={"delivery_id": delivery_id, "generation": successor.generation},
                        )
                        return self._start(successor, render, starter)
                    continue  # another delivery renewed or removed it first: look again
            except LookupError:
                continue  # the record we lost to was released while we read it: claim again
            except _AWS_ERRORS as error:
                logger.error("delivery ledger unavailable", extra={"error_type": type(error).__name__})
                raise DependencyUnavailableError("could not record the delivery; retry later") from None
            return self._answer_repeat(mine, existing, render, starter)
        raise DependencyUnavailableError("the delivery is being retried concurrently; retry later")

    def _next_generation(
        self, record: DeliveryRecord, generation: int, starter: ExecutionStarter
    ) -> DeliveryRecord:
        name = execution_name_for(record.delivery_id, generation)
        return record.model_copy(
            update={
                "generation": generation,
                "execution_name": name,
                "execution_arn": starter.execution_arn(name),
            }
        )

    def _answer_repeat(
        self,
        mine: DeliveryRecord,
        existing: DeliveryRecord,
        render: Callable[[str], str],
        starter: ExecutionStarter,
    ) -> PublishAccepted:
        if existing.body_sha256 != mine.body_sha256:
            logger.warning("delivery id reused with another body", extra={"delivery_id": mine.delivery_id})
            raise DeliveryConflictError(
                f"delivery {mine.delivery_id} was already accepted with another body; use a new delivery id"
            )
        lease_expired = self._clock.now() - existing.claimed_at > self.limits.claim_lease_seconds
        # A CLAIMED record past its lease: the invocation that claimed it died before starting.
        # The execution name keeps a late start by that invocation and ours from making two.
        abandoned = existing.status is DeliveryStatus.CLAIMED and lease_expired
        if abandoned and self._ledger.take_over(existing, now=mine.claimed_at):
            # The claim's own generation and name: the dead owner may have started it already.
            taken_over = existing.model_copy(update={"claimed_at": mine.claimed_at})
            return self._start(taken_over, render, starter)
        logger.info(
            "replayed delivery: no new execution",
            extra={"delivery_id": mine.delivery_id, "execution_name": existing.execution_name},
        )
        return self._accepted(existing, replayed=True)

    def _start(
        self, record: DeliveryRecord, render: Callable[[str], str], starter: ExecutionStarter
    ) -> PublishAccepted:
        for _ in range(_MAX_GENERATION_STEPS):
            input_json = render(record.execution_name)
            # An execution of this claim started at or after the claim was created (`expires_at`
            # is set then and never moved); allow for clock skew between Lambda and Step Functions.
            created_at = record.expires_at - self.limits.delivery_ttl_seconds
            try:
                execution_arn = starter.start(
                    record.execution_name, input_json, not_before=created_at - _CLOCK_SKEW_SECONDS
                )
            except ExecutionNameTakenError:
                # An earlier use of this id ran under this name and DynamoDB has since deleted its
                # claim: never answer with that run; move this claim to the next generation.
                successor = self._next_generation(record, record.generation + 1, starter)
                try:
                    moved = self._ledger.replace(record, successor)
                except _AWS_ERRORS as error:
                    logger.error("delivery ledger unavailable", extra={"error_type": type(error).__name__})
                    moved = False
                if not moved:
                    raise DependencyUnavailableError(
                        "the delivery is being retried concurrently; retry later"
                    ) from None
                record = successor
                continue
            except _AWS_ERRORS as error:
                logger.error(
                    "could not start the publish execution",
                    extra={"delivery_id": record.delivery_id, "error_type": type(error).__name__},
                )
                self._release_quietly(record)
                raise DependencyUnavailableError(
                    "could not start the publish execution; retry the delivery"
                ) from None
            try:
                self._ledger.mark_started(record.delivery_id, execution_arn)
            except _AWS_ERRORS as error:
                # The execution exists and its name is derived from the delivery id, so a replay
                # still cannot start another one; the record just stays CLAIMED until its TTL.
                logger.warning(
                    "could not mark the delivery started", extra={"error_type": type(error).__name__}
                )
            logger.info(
                "publish execution started",
                extra={"delivery_id": record.delivery_id, "execution_name": record.execution_name},
            )
            return self._accepted(record.model_copy(update={"execution_arn": execution_arn}), replayed=False)
        self._release_quietly(record)
        raise DependencyUnavailableError("no free execution name for this delivery id; use a new delivery id")

    def _release_quietly(self, record: DeliveryRecord) -> None:
        try:
            self._ledger.release(record.delivery_id, claimed_at=record.claimed_at)
        except _AWS_ERRORS as error:
            # The claim then expires with its lease; a retry after that takes over.
            logger.warning("could not release the delivery claim", extra={"error_type": type(error).__name__})

    def _accepted(self, record: DeliveryRecord, *, replayed: bool) -> PublishAccepted:
        return PublishAccepted(
            execution_arn=record.execution_arn,
            execution_name=record.execution_name,
            status_url=(
                f"{self._status_base_url}/runs/{record.execution_name}"
                if self._status_base_url
                else execution_console_url(record.execution_arn)
            ),
            delivery_id=record.delivery_id,
            replayed=replayed,
        )


# Console host per AWS partition (the execution ARN names its partition and region).
_CONSOLE_HOSTS = {
    "aws": "{region}.console.aws.amazon.com",
    "aws-cn": "{region}.console.amazonaws.cn",
    "aws-us-gov": "{region}.console.amazonaws-us-gov.com",
}


def execution_console_url(execution_arn: str) -> str:
    """The Step Functions console page of an execution: an absolute URL that works in AWS and
    shows the run only to someone signed in to the account with `states:DescribeExecution`
    (IAM is the authorisation; the webhook adds no anonymous read route). "" for an ARN that
    names no known partition and region."""
    parts = execution_arn.split(":")
    if len(parts) < 8 or parts[0] != "arn" or parts[2] != "states" or parts[5] != "execution":
        return ""
    host = _CONSOLE_HOSTS.get(parts[1])
    region = parts[3]
    if host is None or not region:
        return ""
    page = f"#/v2/executions/details/{quote(execution_arn, safe=':')}"
    return f"https://{host.format(region=region)}/states/home?region={region}{page}"


def _is_own_claim(existing: DeliveryRecord, mine: DeliveryRecord) -> bool:
    """The stored record is the claim this request wrote (its random token), still CLAIMED."""
    return (
        existing.status is DeliveryStatus.CLAIMED
        and bool(mine.claim_token)
        and existing.claim_token == mine.claim_token
    )
