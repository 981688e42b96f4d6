"""Fault campaign: randomized executions of the SYNTHESIZED scan and publish state machines
against the simulator, with faults mixed at random, and the invariants checked after every run.

    python -m bench.campaign                 # 300 runs, seed 1, time scale x60
    python -m bench.campaign --runs 30 --seed 7

One world (simulator + LocalCloud, `bench.harness`) serves every run; between runs the injected
conditions are undone and the org keeps evolving. Each run draws a workflow (scan or publish,
and which flow) and one to three fault kinds from a seeded RNG, so a campaign is reproducible
for a seed (up to thread timing).

How faults are injected
- Genesys side (5xx bursts, 429 storms, latency spikes, connection resets, token expiry, publish
  job Failure): the simulator's fault spec (`SimulatorServer.set_faults`, docs/simulator.md).
- A job stuck past its deadline: the simulator's Architect jobs stay `Started` (its `job=stuck`
  fault) and the run's `timing.publish_deadline_seconds` is 30 simulated seconds; only that
  fault is cleared when the rollback starts, so the jobs work again (the late one finishes too).
- A flow locked mid-run: a hook before the real StartPublish handler locks the flow in
  Architect (as a person checking it out would); for scans, a random flow is locked before the
  page reads. A hook before the rollback handler may unlock it again (rollback then succeeds).
- Dependency index rebuilding / stuck: the simulator's index status (NOTBUILT, so the scan starts
  a rebuild; `index=stuck` with a short deadline for a rebuild that never finishes).
- S3 and DynamoDB errors: `AwsFaultInjector` wraps `botocore.client.BaseClient._make_api_call`
  (every boto3 client in the process, so also the clients the handlers build in their own
  threads). While armed, it fails chosen S3/DynamoDB operations the way AWS does — a
  `ClientError` with `SlowDown` (S3 503), `ProvisionedThroughputExceededException` /
  `ThrottlingException` (DynamoDB), or `ConditionalCheckFailedException` on a conditional write
  — for a burst of `count` matching calls after skipping `skip` of them, so that faults land on
  different steps. Throttling fails the call before AWS applies it; the conditional-check
  failure is the AMBIGUOUS write: the call is applied, then the caller gets
  `ConditionalCheckFailedException`, as when botocore retries a conditional write whose first
  answer was lost and the retry finds the first attempt's result. Calls made by moto's own
  interpreter (Lambda invokes) and by the checks below
  are never touched (other services, or the injector is disarmed).

Faults added by issue 12 (each injected in at least runs // 15 runs)
- A job finishing after its deadline AND after the rollback started: the job stays Started past
  a 30-second deadline and is released only at the 1st-3rd poll of the rollback step's fence.
- Answers lost after a successful write: the simulator's `lost-answer` fault (the next upload or
  job registration, or 30% of all writes) applies the write and drops the connection.
- AWS connection errors: `EndpointConnectionError` (nothing reached AWS) or
  `ConnectionClosedError` after the call was applied, on S3 or DynamoDB.
- The flow renamed or deleted mid-run: before StartPublish, or while its job is held (the job,
  addressed by name, then creates a new flow). Undone after the run's checks.
- Hostile YAML: a document nested 5,000 deep, or a 9x9 alias bomb, as the inline source.
- An expired delivery id reused: the run is started through the real webhook core
  (`PublishWebhook` on the state table's delivery ledger and the publish state machine) with the
  delivery id of the previous publish run, whose claim has expired: its record's `expires_at`
  is moved into the past (DynamoDB deletes expired items lazily, so it is still there), or, after
  an earlier reuse, sometimes deleted (the TTL sweep ran); a first use started directly gets the
  record its webhook would have left. The delivery must start a NEW execution (not replayed,
  neither the old ARN nor the old name), and that run is checked like any other.

Invariants (checked after every run, with the injector disarmed)
1. The execution reached a defined terminal state (a named Succeed/Fail state of the machine).
2. Publish: the org runs exactly what the run item, the audit trail and the lock say, read from
   the simulator as the published version AND its content: Published = the YAML this run
   deployed; RolledBack = the content of the known-good release the run item names;
   PublishFailed/ValidationFailed = version, content and lock untouched; RollbackFailed and
   ReleaseUnrecorded = the live version in the run item (then a repair scan, as it says). No
   stray flow is left with a published flow's name.
3. Every lock under `locks/<org>/` (the current one included) exists, is byte-identical to its
   content address (sha256 of the body = key), and the pointer's sha verifies; every flow YAML
   artifact a run item or the lock history names exists.
4. Audit events tell the same story: exactly one terminal publish event per publish run, whose kind
   matches the terminal state; a completed scan has a `scan.completed` event for its lock.
5. No publish lease is left behind.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from bench.harness import (
    PUBLISH_SOURCES,
    PUBLISH_STATE_MACHINE,
    PUBLISHABLE_FLOWS,
    SCAN_STATE_MACHINE,
    World,
    open_world,
)

RUN_TIMEOUT_SECONDS = 240.0
# What the campaign's deliveries are signed with (its own webhook core; never a real secret).
CAMPAIGN_WEBHOOK_SECRET = "campaign-webhook-secret-3c9e"


class FaultKind(StrEnum):
    SERVER_ERROR_BURST = "5xx burst"
    RATE_LIMIT_STORM = "429 storm"
    LATENCY_SPIKE = "latency spike"
    CONNECTION_RESET = "connection reset"
    TOKEN_EXPIRY = "token expiry"
    PUBLISH_JOB_FAILURE = "publish job Failure"
    JOB_PAST_DEADLINE = "job stuck past deadline"
    FLOW_LOCKED_MID_RUN = "flow locked mid-run"
    INDEX_REBUILDING = "dependency index rebuilding"
    INDEX_STUCK = "dependency index stuck"
    S3_THROTTLING = "S3 throttling"
    DYNAMODB_THROTTLING = "DynamoDB throttling"
    DYNAMODB_CONDITION_FAILED = "DynamoDB conditional-check failure"
    # issue 12
    JOB_FINISHES_AFTER_ROLLBACK_STARTED = "job done after deadline + rollback start"
    ANSWER_LOST_AFTER_WRITE = "answer lost after a successful write"
    AWS_CONNECTION_ERRORS = "AWS connection errors"
    FLOW_RENAMED_MID_RUN = "flow renamed mid-run"
    FLOW_DELETED_MID_RUN = "flow deleted mid-run"
    HOSTILE_YAML = "hostile YAML"
    EXPIRED_DELIVERY_REUSED = "expired delivery id reused"


SHARED_FAULTS = (
    FaultKind.SERVER_ERROR_BURST,
    FaultKind.RATE_LIMIT_STORM,
    FaultKind.LATENCY_SPIKE,
    FaultKind.CONNECTION_RESET,
    FaultKind.TOKEN_EXPIRY,
    FaultKind.FLOW_LOCKED_MID_RUN,
    FaultKind.S3_THROTTLING,
    FaultKind.DYNAMODB_THROTTLING,
    FaultKind.DYNAMODB_CONDITION_FAILED,
    FaultKind.AWS_CONNECTION_ERRORS,
)
SCAN_FAULTS = (*SHARED_FAULTS, FaultKind.INDEX_REBUILDING, FaultKind.INDEX_STUCK)
PUBLISH_FAULTS = (
    *SHARED_FAULTS,
    FaultKind.PUBLISH_JOB_FAILURE,
    FaultKind.JOB_PAST_DEADLINE,
    FaultKind.JOB_FINISHES_AFTER_ROLLBACK_STARTED,
    FaultKind.ANSWER_LOST_AFTER_WRITE,
    FaultKind.FLOW_RENAMED_MID_RUN,
    FaultKind.FLOW_DELETED_MID_RUN,
    FaultKind.HOSTILE_YAML,
    FaultKind.EXPIRED_DELIVERY_REUSED,
)
# Faults that cannot meet in one run: each holds the Architect job or replaces the flow/YAML,
# or (a delivery through the webhook) starts the run with the webhook's input, without timing.
EXCLUSIVE_FAULTS = frozenset(
    {
        FaultKind.JOB_PAST_DEADLINE,
        FaultKind.JOB_FINISHES_AFTER_ROLLBACK_STARTED,
        FaultKind.FLOW_RENAMED_MID_RUN,
        FaultKind.FLOW_DELETED_MID_RUN,
        FaultKind.HOSTILE_YAML,
        FaultKind.EXPIRED_DELIVERY_REUSED,
    }
)

SCAN_TERMINAL_STATES = frozenset(
    {
        "Scan complete",
        "Scan failed, the previous lock is still current",
        "Scan report failed, this scan's lock is current",
        "Scan report failed, another scan's lock is current",
        "Dependency index did not become operational in time",
    }
)
PUBLISH_TERMINAL_STATES = frozenset(
    {
        "Published",
        "ValidationFailed",
        "PublishFailed",
        "PublishFailedUnrecorded",
        "RolledBack",
        "RollbackFailed",
        "ReleaseUnrecorded",
    }
)
# Terminal state -> (run item status, terminal audit kind).
PUBLISH_STORY: dict[str, tuple[str, str | None]] = {
    "Published": ("SUCCEEDED", "publish.released"),
    "ValidationFailed": ("FAILED", "publish.validation_failed"),
    "PublishFailed": ("FAILED", "publish.failed"),
    "RolledBack": ("ROLLED_BACK", "publish.rolled_back"),
    "RollbackFailed": ("ROLLBACK_FAILED", "publish.rollback_failed"),
    "ReleaseUnrecorded": ("RELEASE_UNRECORDED", "publish.release_unrecorded"),
}
TERMINAL_AUDIT_KINDS = frozenset(kind for _, kind in PUBLISH_STORY.values() if kind)


# ---- AWS fault injection -----------------------------------------------------------------------


@dataclass
class AwsFaultRule:
    service: str  # botocore service name: "s3" | "dynamodb"
    operations: frozenset[str]
    code: str
    status: int
    skip: int  # matching calls let through before the burst
    count: int  # matching calls failed
    conditional_only: bool = False  # only writes that carry a ConditionExpression
    seen: int = 0
    fired: int = 0

    def matches(self, service: str, operation: str, params: dict[str, Any]) -> bool:
        if service != self.service or operation not in self.operations:
            return False
        return not self.conditional_only or "ConditionExpression" in params


class AwsFaultInjector:
    """Fails chosen S3/DynamoDB calls of every boto3 client in the process while armed."""

    def __init__(self) -> None:
        self._rules: list[AwsFaultRule] = []
        self._lock = threading.Lock()
        self._armed = False
        self.injected: Counter[str] = Counter()

    @contextmanager
    def installed(self) -> Iterator[AwsFaultInjector]:
        import botocore.client
        from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError

        original = botocore.client.BaseClient._make_api_call
        injector = self

        def make_api_call(client: Any, operation: str, params: dict[str, Any]) -> Any:
            code = injector._should_fail(client.meta.service_model.service_name, operation, params)
            if code is not None:
                error_code, status = code
                url = f"https://{client.meta.service_model.endpoint_prefix}.local"
                if error_code == CONNECT_FAILURE:
                    # The connection never opened: nothing reached AWS.
                    raise EndpointConnectionError(endpoint_url=url)
                if error_code == CONNECTION_LOST:
                    # The request reached AWS and was applied; the connection broke before the
                    # answer (botocore gives up after its own retries, or a retry finds it done).
                    original(client, operation, params)
                    raise ConnectionClosedError(endpoint_url=url)
                if error_code == "ConditionalCheckFailedException":
                    # The ambiguous write: the first attempt was applied but its answer was lost,
                    # and the retry finds its own write (the condition no longer holds).
                    original(client, operation, params)
                raise ClientError(
                    {
                        "Error": {"Code": error_code, "Message": "injected by the fault campaign"},
                        "ResponseMetadata": {"HTTPStatusCode": status},
                    },
                    operation,
                )
            return original(client, operation, params)

        botocore.client.BaseClient._make_api_call = make_api_call  # type: ignore[method-assign]
        try:
            yield self
        finally:
            botocore.client.BaseClient._make_api_call = original  # type: ignore[method-assign]

    def arm(self, rules: list[AwsFaultRule]) -> None:
        with self._lock:
            self._rules = rules
            self._armed = True

    def disarm(self) -> list[AwsFaultRule]:
        with self._lock:
            rules, self._rules, self._armed = self._rules, [], False
            return rules

    def _should_fail(self, service: str, operation: str, params: dict[str, Any]) -> tuple[str, int] | None:
        with self._lock:
            if not self._armed:
                return None
            for rule in self._rules:
                if not rule.matches(service, operation, params):
                    continue
                rule.seen += 1
                if rule.seen > rule.skip and rule.fired < rule.count:
                    rule.fired += 1
                    self.injected[rule.code] += 1
                    return rule.code, rule.status
            return None


# Pseudo error codes of AwsFaultRule: connection failures rather than AWS error answers.
CONNECT_FAILURE = "EndpointConnectionError"
CONNECTION_LOST = "ConnectionClosedError"
# Hostile flow documents (issue 12): nesting thousands deep, and a "billion laughs" alias bomb.
HOSTILE_DOCUMENTS = (
    "inboundCall:\n  name: Main IVR\n  deep: " + "[" * 5000 + "]" * 5000 + "\n",
    "inboundCall:\n  name: Main IVR\n  a0: &a0 [x, x, x, x, x, x, x, x, x]\n"
    + "".join(f"  a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]\n" for i in range(1, 10)),
)
S3_OPERATIONS = frozenset({"PutObject", "GetObject", "HeadObject", "ListObjectsV2"})
DYNAMODB_OPERATIONS = frozenset({"PutItem", "GetItem", "UpdateItem", "DeleteItem", "Query"})
DYNAMODB_CONDITIONAL_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem"})


# ---- plans -------------------------------------------------------------------------------------


@dataclass
class RunPlan:
    index: int
    workflow: str  # "scan" | "publish"
    flow_id: str | None
    faults: list[FaultKind]
    seed: int

    @property
    def name(self) -> str:
        return f"c{self.index:04d}-{self.workflow}-{self.seed % 10_000:04d}"


def plan_runs(runs: int, seed: int, *, publish_share: float = 0.55) -> list[RunPlan]:
    rng = random.Random(seed)
    plans = []
    for index in range(runs):
        workflow = "publish" if rng.random() < publish_share else "scan"
        kinds = PUBLISH_FAULTS if workflow == "publish" else SCAN_FAULTS
        # About one run in eight is fault-free: the control group for the same invariants.
        count = 0 if rng.random() < 0.125 else rng.choice((1, 1, 2, 2, 3))
        faults = sorted(rng.sample(kinds, count))
        if FaultKind.INDEX_STUCK in faults and FaultKind.INDEX_REBUILDING in faults:
            faults.remove(FaultKind.INDEX_REBUILDING)
        exclusive = [fault for fault in faults if fault in EXCLUSIVE_FAULTS]
        for extra in exclusive[1:]:
            faults.remove(extra)
        flow_id = rng.choice(PUBLISHABLE_FLOWS) if workflow == "publish" else None
        no_earlier_publish = not any(plan.workflow == "publish" for plan in plans)
        if no_earlier_publish and FaultKind.EXPIRED_DELIVERY_REUSED in faults:
            faults.remove(FaultKind.EXPIRED_DELIVERY_REUSED)  # no earlier run to take the id of
        plans.append(RunPlan(index, workflow, flow_id, faults, rng.randrange(1 << 30)))
    _cover_every_fault_kind(plans)
    return plans


def _cover_every_fault_kind(plans: list[RunPlan]) -> None:
    """Every kind is injected at least `max(1, runs // 15)` times (20 in a 300-run campaign): a
    kind short of that joins runs that can take it, the emptiest first."""
    minimum = max(1, len(plans) // 15)
    first_publish = next((plan.index for plan in plans if plan.workflow == "publish"), None)
    for kind in FaultKind:
        injected = sum(1 for plan in plans if kind in plan.faults)
        candidates = sorted(
            (
                plan
                for plan in plans
                if plan.faults
                and kind not in plan.faults
                and kind in (PUBLISH_FAULTS if plan.workflow == "publish" else SCAN_FAULTS)
                and not ({kind, *plan.faults} >= {FaultKind.INDEX_STUCK, FaultKind.INDEX_REBUILDING})
                and not (kind in EXCLUSIVE_FAULTS and EXCLUSIVE_FAULTS & set(plan.faults))
                and not (kind is FaultKind.EXPIRED_DELIVERY_REUSED and plan.index == first_publish)
            ),
            key=lambda plan: (len(plan.faults), plan.index),
        )
        for target in candidates[: max(0, minimum - injected)]:
            target.faults = sorted([*target.faults, kind])


# ---- one run -----------------------------------------------------------------------------------


@dataclass
class RunRecord:
    plan: RunPlan
    status: str
    terminal_state: str
    error: str | None
    seconds: float
    cause: str | None = None
    violations: list[str] = field(default_factory=list)
    aws_injected: int = 0
    run_id: str = ""  # the execution's name (the webhook's for a delivery through it)


@dataclass
class Before:
    pointer_sha: str | None
    versions: dict[str, str | None]
    started_at: str  # ISO timestamp: audit events of this run are at or after it
    contents: dict[str, str] = field(default_factory=dict)
    """The published YAML of each publishable flow before the run."""
    run_id: str = ""
    """The run's execution name (the plan's name, or the one the webhook chose)."""


class Campaign:
    def __init__(self, world: World, injector: AwsFaultInjector) -> None:
        self.world = world
        self.injector = injector
        self.repair_scans = 0
        self.leases_dropped = 0
        self.strays_removed = 0
        # Content-addressed objects never change once verified: each lock is hashed once.
        self._verified_locks: set[str] = set()
        # The previous publish run: (delivery id, execution name, ARN, started by the webhook).
        self._last_publish: tuple[str, str, str, bool] | None = None
        self._webhook: Any = None

    # -- fault application ---------------------------------------------------------------------

    def _arm(self, plan: RunPlan, rng: random.Random) -> tuple[dict[str, Any], dict[str, Any]]:
        """Apply the plan's faults; returns (extra execution input, notes for the checks)."""
        world = self.world
        spec: list[str] = [f"seed={plan.seed % 100_000}"]
        extra: dict[str, Any] = {}
        notes: dict[str, Any] = {}
        rules: list[AwsFaultRule] = []
        for fault in plan.faults:
            if fault is FaultKind.SERVER_ERROR_BURST:
                spec.append(f"5xx={rng.choice((0.15, 0.25, 0.35))}")
            elif fault is FaultKind.RATE_LIMIT_STORM:
                spec.append(f"storm={rng.choice((20, 30, 60))}")
            elif fault is FaultKind.LATENCY_SPIKE:
                spec.append(f"latency={rng.choice((1, 3, 8))}")
            elif fault is FaultKind.CONNECTION_RESET:
                spec.append(f"reset={rng.choice((0.05, 0.15, 0.25))}")
            elif fault is FaultKind.TOKEN_EXPIRY:
                # Genesys lets an OAuth client choose 300 s .. 48 h; shorter ones stress the re-auth path.
                spec.append(f"token-expiry={rng.choice((60, 120, 300))}")
            elif fault is FaultKind.PUBLISH_JOB_FAILURE:
                assert plan.flow_id is not None
                spec.append(f"publish-fail={plan.flow_id}")
                if rng.random() < 0.5:  # Genesys recovers before the rollback: RolledBack
                    world.hooks.before("flowops.functions.publish.rollback", lambda: world.sim.set_faults(""))
            elif fault is FaultKind.JOB_PAST_DEADLINE:
                # The job stays Started in Genesys; the pipeline gives up at its deadline and rolls
                # back, by which time Genesys works again (the rollback's own job completes).
                spec.append("job=stuck")
                world.hooks.before("flowops.functions.publish.rollback", world.unstick_architect_jobs)
                extra["timing"] = {"first_poll_seconds": 2, "publish_deadline_seconds": 30}
            elif fault is FaultKind.FLOW_LOCKED_MID_RUN:
                self._arm_lock(plan, rng)
            elif fault is FaultKind.INDEX_REBUILDING:
                world.set_index_status("NOTBUILT")
            elif fault is FaultKind.INDEX_STUCK:
                world.set_index_status("NOTBUILT")
                spec.append("index=stuck")
                extra["index_deadline_seconds"] = rng.choice((60, 300))
            elif fault is FaultKind.S3_THROTTLING:
                rules.append(
                    AwsFaultRule(
                        "s3", S3_OPERATIONS, "SlowDown", 503, rng.randrange(0, 12), rng.choice((1, 2))
                    )
                )
            elif fault is FaultKind.DYNAMODB_THROTTLING:
                code = rng.choice(("ProvisionedThroughputExceededException", "ThrottlingException"))
                rules.append(
                    AwsFaultRule(
                        "dynamodb", DYNAMODB_OPERATIONS, code, 400, rng.randrange(0, 12), rng.choice((1, 2))
                    )
                )
            elif fault is FaultKind.DYNAMODB_CONDITION_FAILED:
                rules.append(
                    AwsFaultRule(
                        "dynamodb",
                        DYNAMODB_CONDITIONAL_WRITES,
                        "ConditionalCheckFailedException",
                        400,
                        rng.randrange(0, 6),
                        1,
                        conditional_only=True,
                    )
                )
            elif fault is FaultKind.JOB_FINISHES_AFTER_ROLLBACK_STARTED:
                # The job stays Started past the deadline and only finishes once the rollback
                # step has begun waiting for it (the n-th fence poll): without the fence, the
                # late job would land after the rollback's and leave the bad release live.
                spec.append("job=stuck")
                extra["timing"] = {"first_poll_seconds": 2, "publish_deadline_seconds": 30}
                self._arm_late_job(rng.choice((1, 2, 3)))
            elif fault is FaultKind.ANSWER_LOST_AFTER_WRITE:
                spec.append(rng.choice(("lost-answer=upload", "lost-answer=register", "lost-answer=0.3")))
            elif fault is FaultKind.AWS_CONNECTION_ERRORS:
                service, operations = rng.choice((("s3", S3_OPERATIONS), ("dynamodb", DYNAMODB_OPERATIONS)))
                code = rng.choice((CONNECT_FAILURE, CONNECTION_LOST))
                rules.append(
                    AwsFaultRule(service, operations, code, 0, rng.randrange(0, 12), rng.choice((1, 2)))
                )
            elif fault in (FaultKind.FLOW_RENAMED_MID_RUN, FaultKind.FLOW_DELETED_MID_RUN):
                notes["changed_flow"] = self._arm_flow_change(plan, fault, rng, spec)
            elif fault is FaultKind.HOSTILE_YAML:
                extra["yaml"] = rng.choice(HOSTILE_DOCUMENTS)
        # A publish-fail spec must not outlive a hook that heals it, and the other Genesys
        # faults stay on for the whole run.
        world.sim.set_faults(",".join(spec))
        if FaultKind.EXPIRED_DELIVERY_REUSED in plan.faults:
            # Delivered before the AWS faults are armed: they hit the run, not the delivery.
            notes.update(self._deliver_with_expired_id(plan, rng))
        self.injector.arm(rules)
        return extra, notes

    # -- an expired delivery id reused (through the real webhook core) -------------------------

    def _publish_webhook(self) -> Any:
        if self._webhook is None:
            from flowops.webhook.dynamo_ledger import DynamoDeliveryLedger
            from flowops.webhook.secret import StaticWebhookSecret
            from flowops.webhook.service import PublishWebhook
            from flowops.webhook.starter import StepFunctionsExecutionStarter

            world = self.world
            self._webhook = PublishWebhook(
                org=world.org,
                secrets=StaticWebhookSecret(CAMPAIGN_WEBHOOK_SECRET),
                ledger=DynamoDeliveryLedger(world.env["STATE_TABLE"], client=world.cloud.dynamodb),
                starter=StepFunctionsExecutionStarter(
                    world.cloud.state_machine_arn(PUBLISH_STATE_MACHINE), client=world.cloud.sfn
                ),
            )
        return self._webhook

    def _expire_earlier_claim(self, rng: random.Random) -> tuple[str, str, str]:
        """Leave the previous publish run's delivery claim expired (or swept); returns its
        (delivery id, execution name, ARN)."""
        from flowops.webhook.dynamo_ledger import DELIVERY_KEY_PREFIX, DELIVERY_SORT_KEY
        from flowops.webhook.replay import DeliveryRecord, DeliveryStatus

        assert self._last_publish is not None
        delivery_id, name, arn, via_webhook = self._last_publish
        table = self.world.env["STATE_TABLE"]
        dynamodb = self.world.cloud.dynamodb
        key = {"pk": {"S": f"{DELIVERY_KEY_PREFIX}{delivery_id}"}, "sk": {"S": DELIVERY_SORT_KEY}}
        expired_at = int(time.time()) - rng.choice((1, 3600, 86_400))
        if not via_webhook:
            # The record the webhook would have left for that run, a week and a bit ago.
            record = DeliveryRecord(
                delivery_id=delivery_id, body_sha256="0" * 64, execution_name=name, execution_arn=arn,
                status=DeliveryStatus.STARTED, claimed_at=float(expired_at - 7 * 86_400),
                expires_at=expired_at,
            )  # fmt: skip
            self._publish_webhook()._ledger.claim(record)
        elif rng.random() < 0.3:
            dynamodb.delete_item(TableName=table, Key=key)  # the TTL sweep already ran
        else:
            dynamodb.update_item(
                TableName=table,
                Key=key,
                UpdateExpression="SET expires_at = :at",
                ExpressionAttributeValues={":at": {"N": str(expired_at)}},
            )
        return delivery_id, name, arn

    def _deliver_with_expired_id(self, plan: RunPlan, rng: random.Random) -> dict[str, Any]:
        from bench.harness import ENVIRONMENT
        from flowops.webhook.errors import DependencyUnavailableError
        from flowops.webhook.signature import signed_headers

        assert plan.flow_id is not None
        delivery_id, old_name, old_arn = self._expire_earlier_claim(rng)
        flow = self.world.sim.org.flows[plan.flow_id]
        document = {
            "flow": {"id": flow.id, "name": flow.name, "type": flow.flow_type},
            "environment": ENVIRONMENT,
            "yaml": self.world.publish_input(plan.name, plan.flow_id)["source"]["yaml"],
            "requester": "campaign@example.com",
            "reason": f"campaign {plan.name} (delivery id reused)",
        }
        body = json.dumps(document).encode()
        violations: list[str] = []
        for _ in range(5):  # a sender retries a 503
            headers = signed_headers(
                body, CAMPAIGN_WEBHOOK_SECRET, delivery_id=delivery_id, timestamp=int(time.time())
            )
            try:
                accepted = self._publish_webhook().accept(body, headers)
                break
            except DependencyUnavailableError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"the webhook refused the reused delivery {delivery_id} five times")
        if accepted.replayed:
            violations.append(f"reused expired delivery {delivery_id} answered replayed")
        if accepted.execution_arn == old_arn or accepted.execution_name == old_name:
            violations.append(f"reused expired delivery {delivery_id} answered the old run {old_arn}")
        if old_arn in accepted.model_dump_json():
            violations.append("the webhook's answer carries the old run's ARN")
        started = self.world.cloud.sfn.describe_execution(executionArn=accepted.execution_arn)
        if started["startDate"].timestamp() < time.time() - 120:
            violations.append(f"the answered execution {accepted.execution_name} is not a new one")
        return {
            "webhook": (delivery_id, accepted.execution_name, accepted.execution_arn),
            "delivery_violations": violations,
        }

    def _arm_late_job(self, fence_polls: int) -> None:
        world = self.world
        seen: list[int] = []

        def finish_on_fence_poll(event: Any) -> bool:
            if (event.get("progress") or {}).get("purpose") != "fence":
                return False
            seen.append(1)
            if len(seen) < fence_polls:
                return False
            world.unstick_architect_jobs()
            return True

        world.hooks.each("flowops.functions.publish.check_job", finish_on_fence_poll)

    def _arm_flow_change(
        self, plan: RunPlan, fault: FaultKind, rng: random.Random, spec: list[str]
    ) -> tuple[str, str]:
        """Rename or delete the flow before StartPublish, or while its job is held; returns what
        to restore afterwards (the org keeps its flows for the next runs)."""
        world = self.world
        assert plan.flow_id is not None
        flow_id = plan.flow_id
        name = world.flow_state(flow_id)[0]

        def change() -> None:
            if fault is FaultKind.FLOW_RENAMED_MID_RUN:
                world.rename_flow(flow_id, f"{name} (renamed)")
            else:
                world.set_flow_deleted(flow_id, True)

        if rng.random() < 0.5:
            world.hooks.before("flowops.functions.publish.start_publish", change)
        else:
            # The job, addressed by name, then deploys to a NEW flow: the run must find it by the
            # job's flow id and delete it.
            spec.append("job=stuck")

            def change_then_release_the_job() -> None:
                change()
                world.unstick_architect_jobs()

            world.hooks.before("flowops.functions.publish.check_publish", change_then_release_the_job)
        return flow_id, name

    def _arm_lock(self, plan: RunPlan, rng: random.Random) -> None:
        world = self.world
        if plan.workflow == "publish":
            assert plan.flow_id is not None
            flow_id = plan.flow_id
            world.hooks.before(
                "flowops.functions.publish.start_publish", lambda: world.lock_flow_in_architect(flow_id)
            )
            if rng.random() < 0.5:  # Jane saves and closes the flow before the rollback
                world.hooks.before("flowops.functions.publish.rollback", world.unlock_all_flows)
        else:
            flow_id = rng.choice(sorted(world.published_versions()))
            world.hooks.before(
                "flowops.functions.scan.read_page", lambda: world.lock_flow_in_architect(flow_id)
            )

    # -- running ---------------------------------------------------------------------------------

    def run(self, plan: RunPlan) -> RunRecord:
        world = self.world
        rng = random.Random(plan.seed)
        versions = world.published_versions()
        before = Before(
            run_id=plan.name,
            pointer_sha=_sha_of(world.pointer()),
            versions=versions,
            started_at=(datetime.now(UTC) - timedelta(seconds=5)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            contents={
                flow_id: _sim_yaml(world, flow_id, versions[flow_id] or "") for flow_id in PUBLISHABLE_FLOWS
            },
        )
        started = time.perf_counter()
        result: Any = None
        notes: dict[str, Any] = {}
        try:
            extra, notes = self._arm(plan, rng)
            if "webhook" in notes:
                delivery_id, before.run_id, arn = notes["webhook"]
                self._last_publish = (delivery_id, before.run_id, arn, True)
            elif plan.workflow == "publish":
                assert plan.flow_id is not None
                execution_input = world.publish_input(
                    plan.name, plan.flow_id, timing=extra.get("timing"), yaml=extra.get("yaml")
                )
                arn = world.start(PUBLISH_STATE_MACHINE, execution_input, plan.name)
                self._last_publish = (execution_input["delivery_id"], plan.name, arn, False)
            else:
                from flowops.scan.models import MAX_INDEX_DEADLINE_SECONDS

                request: dict[str, Any] = {
                    "page_size": 2,
                    "index_deadline_seconds": MAX_INDEX_DEADLINE_SECONDS,
                }
                request.update({k: v for k, v in extra.items() if k == "index_deadline_seconds"})
                arn = world.start(SCAN_STATE_MACHINE, request, plan.name)
            result = world.wait(arn, RUN_TIMEOUT_SECONDS)
        except Exception as error:  # the harness records it as a violation, never hides it
            rules = self.injector.disarm()
            world.heal()
            self._restore_flow(notes.get("changed_flow"))
            return RunRecord(
                plan, "NO_TERMINAL_STATE", "-", type(error).__name__, time.perf_counter() - started,
                [f"no terminal state: {type(error).__name__}: {error}"], sum(r.fired for r in rules),
            )  # fmt: skip
        rules = self.injector.disarm()
        world.heal()
        entered = result.states_entered()
        terminal = entered[-1] if entered else "-"
        record = RunRecord(
            plan, result.status, terminal, result.error, time.perf_counter() - started,
            cause=result.cause, aws_injected=sum(rule.fired for rule in rules), run_id=before.run_id,
        )  # fmt: skip
        # A renamed/deleted flow is restored first: the published version and its content are
        # what the checks compare (a generated version's YAML carries the flow's name).
        self._restore_flow(notes.get("changed_flow"))
        record.violations.extend(notes.get("delivery_violations", []))
        checks = self._check_publish if plan.workflow == "publish" else self._check_scan
        record.violations.extend(checks(plan, result, terminal, before))
        record.violations.extend(self._check_stores())
        record.violations.extend(self._check_no_stray_flows())
        self._contain(record)
        return record

    def _restore_flow(self, changed: tuple[str, str] | None) -> None:
        """Undo a rename/deletion injected by the campaign (after the checks)."""
        if changed is None:
            return
        flow_id, name = changed
        self.world.rename_flow(flow_id, name)
        self.world.set_flow_deleted(flow_id, False)

    def _check_no_stray_flows(self) -> list[str]:
        """Nothing stray: each published flow's name belongs to that flow alone."""
        violations = []
        for flow_id in PUBLISHABLE_FLOWS:
            name = PUBLISH_SOURCES[flow_id]["name"]
            strays = [other for other in self.world.flows_named(name) if other != flow_id]
            if strays:
                violations.append(f"stray flow(s) {strays} called {name!r} were left behind")
                for stray in strays:
                    self.strays_removed += 1
                    self.world.remove_flow(stray)
        return violations

    def _contain(self, record: RunRecord) -> None:
        """Keep one run's damage from failing the next ones: a lease left behind (already
        reported) is dropped, as an operator would after reading the run item."""
        if record.plan.flow_id is None:
            return
        holder = self.world.lease_holder(record.plan.flow_id)
        if holder is not None:
            self.leases_dropped += 1
            self.world.drop_lease(record.plan.flow_id, holder.run_id)

    # -- invariants ------------------------------------------------------------------------------

    def _check_scan(self, plan: RunPlan, result: Any, terminal: str, before: Before) -> list[str]:
        world = self.world
        violations: list[str] = []
        if terminal not in SCAN_TERMINAL_STATES or result.status not in ("SUCCEEDED", "FAILED"):
            return [f"undefined terminal state {terminal!r} ({result.status})"]
        pointer = world.pointer()
        if result.status == "FAILED":
            if _sha_of(pointer) != before.pointer_sha:
                violations.append("a failed scan moved the lock pointer")
            return violations
        outcome = result.output
        moved = outcome["pointer"]["advanced"] or outcome["pointer"]["unchanged"]
        if moved and _sha_of(pointer) != outcome["lock_sha256"]:
            violations.append("scan says the pointer holds its lock, but it does not")
        if not moved and _sha_of(pointer) != before.pointer_sha:
            violations.append("scan says it lost a race, but the pointer moved")
        # The lock this scan wrote describes the org as it is (nothing published during a scan).
        lock = _load_lock(world, outcome["lock_key"], outcome["lock_sha256"], violations)
        if lock is not None:
            for flow_id, version in world.published_versions().items():
                locked = lock.flow(flow_id)
                if locked is None or locked.published_version != version:
                    violations.append(
                        f"scan lock has {flow_id} at {locked.published_version if locked else None}, "
                        f"the org publishes {version}"
                    )
        completed = [
            event
            for event in world.audit_events(before.started_at)
            if event.kind == "scan.completed" and event.actor == f"scan:{outcome['scan_id']}"
        ]
        if not completed or any(event.subject != outcome["lock_sha256"] for event in completed):
            violations.append("no scan.completed audit event for the scan's lock")
        return violations

    def _check_publish(self, plan: RunPlan, result: Any, terminal: str, before: Before) -> list[str]:
        """The org runs exactly what the run item, the audit trail and the lock say: the flow's
        published version AND its content (the simulator's stored YAML of that version)."""
        world = self.world
        assert plan.flow_id is not None
        flow_id = plan.flow_id
        violations: list[str] = []
        if terminal not in PUBLISH_TERMINAL_STATES or result.status not in ("SUCCEEDED", "FAILED"):
            return [f"undefined terminal state {terminal!r} ({result.status})"]
        live = world.flow_state(flow_id)[2]
        live_yaml = _sim_yaml(world, flow_id, live) if live else ""
        run = world.run_item(before.run_id)
        details = run.details if run else {}
        pointer = world.pointer()
        lock = _load_lock(world, pointer.key, pointer.sha, violations) if pointer else None
        locked_version = lock.flow(flow_id).published_version if lock and lock.flow(flow_id) else None
        expected_status, expected_audit = PUBLISH_STORY.get(terminal, (None, None))
        terminal_events = [
            event
            for event in world.audit_events(before.started_at)
            if event.details.get("run_id") == before.run_id and event.kind in TERMINAL_AUDIT_KINDS
        ]
        if terminal == "PublishFailedUnrecorded":
            violations.append(f"the failure could not be recorded: {result.cause}")
        elif run is None or run.status != expected_status:
            violations.append(f"{terminal} but the run item is {run.status if run else None}")
        if terminal == "Published":
            if details.get("published_version") != live:
                violations.append(f"org publishes {live}, run item says {details.get('published_version')}")
            if result.output.get("published_version") != live:
                violations.append(f"org publishes {live}, the execution output says {result.output}")
            if locked_version != live:
                violations.append(f"org publishes {live}, the lock says {locked_version}")
            self._check_version_yaml(flow_id, live, violations)
            deployed = self._run_yaml(before.run_id)
            if deployed is not None and live_yaml != deployed:
                violations.append(f"org publishes {live}, whose content is not the YAML this run deployed")
            self._check_event_field(terminal_events, "version", live, violations)
        elif terminal == "RolledBack":
            restored = details.get("restored_version")
            release = details.get("restored_release")
            if restored != live:
                violations.append(f"org publishes {live}, run item says restored {restored}")
            if locked_version != live:
                violations.append(f"org publishes {live} after the rollback, the lock says {locked_version}")
            source = self._artifact_text(f"flows/{world.org}/{flow_id}/{release}.yaml")
            if source is None or live_yaml != source:
                violations.append(f"org publishes {live}, whose content is not known-good release {release}")
            self._check_event_field(terminal_events, "restored_version", live, violations)
        elif terminal == "RollbackFailed":
            recorded = details.get("live_version")
            if recorded != live:
                violations.append(f"org publishes {live}, RollbackFailed run item says {recorded}")
            if not details.get("manual_fix"):
                violations.append("RollbackFailed without a manual fix in the run item")
            if locked_version not in (live, before.versions.get(flow_id)):
                violations.append(f"lock says {locked_version}: neither the live nor the previous version")
            if locked_version != live:
                self._repair(plan)
        elif terminal == "ReleaseUnrecorded":
            # A live, verified release whose records failed: never rolled back, parked for repair.
            if details.get("published_version") != live:
                violations.append(
                    f"org publishes {live}, the parked run item says {details.get('published_version')}"
                )
            deployed = self._run_yaml(before.run_id)
            if deployed is not None and live_yaml != deployed:
                violations.append("the parked release's content is not what this run deployed")
            if not details.get("repair"):
                violations.append("ReleaseUnrecorded without a repair note in the run item")
            if locked_version not in (live, before.versions.get(flow_id)):
                violations.append(f"lock says {locked_version}: neither the live nor the previous version")
            if locked_version != live:
                self._repair(plan)
        else:
            # Nothing was published: version, content and lock exactly as before.
            if live != before.versions.get(flow_id) or _sha_of(pointer) != before.pointer_sha:
                violations.append(f"{terminal}: the org or the lock changed although nothing was published")
            if live_yaml != before.contents.get(flow_id):
                violations.append(f"{terminal}: the content of version {live} changed")
        kinds = [event.kind for event in terminal_events]
        if expected_audit is not None and set(kinds) != {expected_audit}:
            violations.append(f"{terminal}: terminal audit events {kinds}, expected {expected_audit}")
        if world.lease_holder(flow_id) is not None:
            violations.append("the publish lease was left behind")
        return violations

    @staticmethod
    def _check_event_field(
        events: list[Any], field_name: str, live: str | None, violations: list[str]
    ) -> None:
        for event in events:
            said = event.details.get(field_name)
            if said != live:
                violations.append(f"audit event {event.kind} says {field_name} {said}, org publishes {live}")

    def _artifact_text(self, key: str) -> str | None:
        try:
            return self.world.artifact(key).decode()
        except Exception:
            return None

    def _run_yaml(self, run_id: str) -> str | None:
        """The substituted YAML this run deployed (None: the run stored none)."""
        return self._artifact_text(f"publish/{self.world.org}/{run_id}/flow.yaml")

    def _check_version_yaml(self, flow_id: str, version: str | None, violations: list[str]) -> None:
        key = f"flows/{self.world.org}/{flow_id}/{version}.yaml"
        try:
            stored = self.world.artifact(key).decode()
        except Exception:
            violations.append(f"missing rollback source {key}")
            return
        if version is not None and stored != _sim_yaml(self.world, flow_id, version):
            violations.append(f"{key} differs from what the org publishes")

    def _check_stores(self) -> list[str]:
        world = self.world
        violations: list[str] = []
        for key in world.artifact_keys(f"locks/{world.org}/"):
            name = key.rsplit("/", 1)[-1]
            if key in self._verified_locks or not name.endswith(".json") or name.endswith(".meta.json"):
                continue
            digest = hashlib.sha256(world.artifact(key)).hexdigest()
            if name != f"{digest}.json":
                violations.append(f"{key} does not match its sha256 ({digest})")
            else:
                self._verified_locks.add(key)
        pointer = world.pointer()
        if pointer is not None:
            _load_lock(world, pointer.key, pointer.sha, violations)
        return violations

    def _repair(self, plan: RunPlan) -> None:
        """What the RollbackFailed manual fix ends with: a rescan records the live version."""
        self.repair_scans += 1
        result = self.world.scan(f"repair-{plan.name}")
        if result.status != "SUCCEEDED":
            raise RuntimeError(f"repair scan after {plan.name} failed: {result.error}: {result.cause}")


def _sha_of(pointer: Any) -> str | None:
    return None if pointer is None else str(pointer.sha)


def _load_lock(world: World, key: str, sha: str, violations: list[str]) -> Any:
    from flowops.lock import parse_lock

    try:
        body = world.artifact(key)
    except Exception:
        violations.append(f"the lock {key} does not exist")
        return None
    if hashlib.sha256(body).hexdigest() != sha:
        violations.append(f"the lock {key} does not match its sha256")
        return None
    return parse_lock(body, expected_sha256=sha)


def _sim_yaml(world: World, flow_id: str, version: str) -> str:
    flow = world.sim_flow(flow_id)
    for candidate in flow["versions"]:
        if candidate["id"] == version:
            return str(candidate["yaml"])
    return ""


# ---- the campaign ------------------------------------------------------------------------------


@dataclass
class CampaignReport:
    records: list[RunRecord]
    seconds: float
    repair_scans: int
    aws_injected: Counter[str]
    leases_dropped: int = 0
    strays_removed: int = 0

    @property
    def violations(self) -> list[tuple[RunPlan, str]]:
        return [(record.plan, violation) for record in self.records for violation in record.violations]

    def table(self) -> str:
        workflows = Counter(record.plan.workflow for record in self.records)
        faults = Counter(fault for record in self.records for fault in record.plan.faults)
        terminals = Counter(f"{record.plan.workflow}: {record.terminal_state}" for record in self.records)
        fault_free = sum(1 for record in self.records if not record.plan.faults)
        lines = [
            f"runs                    {len(self.records)}  ({workflows['scan']} scan, "
            f"{workflows['publish']} publish; {fault_free} fault-free)",
            f"wall time               {self.seconds:.0f} s  "
            f"({self.seconds / max(1, len(self.records)):.2f} s/run)",
            f"repair scans            {self.repair_scans}  (after a RollbackFailed or ReleaseUnrecorded, "
            "as the run item says)",
            f"stray flows removed     {self.strays_removed}  (left behind by a run: reported, then removed)",
            f"leases dropped          {self.leases_dropped}  (left behind by a run: reported, then dropped)",
            "",
            f"{'faults injected (runs)':<40}{'runs':>6}",
        ]
        lines += [f"  {fault.value:<38}{faults[fault]:>6}" for fault in FaultKind]
        raised = ", ".join(f"{code} {count}" for code, count in sorted(self.aws_injected.items()))
        lines.append(f"  {'AWS errors raised (calls)':<38}{sum(self.aws_injected.values()):>6}  {raised}")
        lines += ["", f"{'terminal states':<66}{'runs':>6}"]
        lines += [f"  {state:<64}{count:>6}" for state, count in sorted(terminals.items())]
        lines += ["", f"invariant violations    {len(self.violations)}"]
        lines += [f"  {plan.name} {[f.value for f in plan.faults]}: {text}" for plan, text in self.violations]
        return "\n".join(lines)


def run_campaign(
    runs: int,
    seed: int,
    *,
    time_scale: float = 60.0,
    progress: Callable[[RunRecord], None] | None = None,
    world: World | None = None,
) -> CampaignReport:
    plans = plan_runs(runs, seed)
    injector = AwsFaultInjector()
    started = time.perf_counter()

    def execute(active: World) -> CampaignReport:
        campaign = Campaign(active, injector)
        records = []
        with injector.installed():
            for plan in plans:
                record = campaign.run(plan)
                records.append(record)
                if progress is not None:
                    progress(record)
        return CampaignReport(
            records,
            time.perf_counter() - started,
            campaign.repair_scans,
            injector.injected,
            campaign.leases_dropped,
            campaign.strays_removed,
        )

    if world is not None:
        return execute(world)
    with open_world(time_scale=time_scale) as opened:
        return execute(opened)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.campaign", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--time-scale",
        type=float,
        default=60.0,
        help="simulated seconds per real second (x60: a 60 s Lambda has one real second before the "
        "local runtime kills it at its timeout)",
    )
    parser.add_argument("--quiet", action="store_true", help="no line per run")
    arguments = parser.parse_args(argv)

    def show(record: RunRecord) -> None:
        if not arguments.quiet:
            mark = "ok " if not record.violations else "BAD"
            faults = ", ".join(fault.value for fault in record.plan.faults) or "no faults"
            line = f"{mark} {record.plan.name:<28} {record.terminal_state:<50} {record.seconds:5.1f}s"
            print(f"{line}  {faults}", flush=True)
            if record.status == "FAILED":
                print(f"      {record.error}: {(record.cause or '')[:300]}", flush=True)
            for violation in record.violations:
                print(f"      violation: {violation}", flush=True)

    report = run_campaign(arguments.runs, arguments.seed, time_scale=arguments.time_scale, progress=show)
    print(f"\n## fault campaign (seed {arguments.seed}, time scale x{arguments.time_scale:g})")
    print(report.table())
    return 1 if report.violations else 0


if __name__ == "__main__":
    raise SystemExit(main())
