from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from flowops.webhook.errors import (
    AmbiguousFlowError,
    DeliveryConflictError,
    DependencyUnavailableError,
    InvalidRequestError,
    PayloadTooLargeError,
    SignatureError,
    StaleRequestError,
    UnknownEnvironmentError,
    UnknownFlowError,
)
from flowops.webhook.lookup import StaticFlowDirectory, StaticSubstitutions
from flowops.webhook.models import PublishTarget
from flowops.webhook.replay import DeliveryStatus, execution_name_for
from flowops.webhook.secret import StaticWebhookSecret
from flowops.webhook.service import PublishWebhook, WebhookLimits, execution_console_url
from flowops.webhook.signature import signed_headers
from tests.unit.webhook.fakes import FixedClock, InMemoryLedger, RecordingStarter

SECRET = "unit-test-shared-secret"
MAIN_IVR = PublishTarget(id="f-main", name="Main IVR", type="INBOUNDCALL")


class Harness:
    """A webhook wired to in-memory fakes, plus helpers to send signed requests."""

    def __init__(self, **overrides: Any) -> None:
        self.clock = FixedClock()
        self.ledger: InMemoryLedger = overrides.pop("ledger", InMemoryLedger())
        self.starter: RecordingStarter = overrides.pop("starter", RecordingStarter())
        self.starter.clock = self.clock
        options: dict[str, Any] = {
            "org": "dev",
            "secrets": StaticWebhookSecret(SECRET),
            "ledger": self.ledger,
            "starter": self.starter,
            "flows": StaticFlowDirectory([MAIN_IVR]),
            "substitutions": StaticSubstitutions({"test": {"queue": "Support"}}),
            "clock": self.clock,
            "status_base_url": "https://api.example.com/prod/",
        }
        options.update(overrides)
        self.webhook = PublishWebhook(**options)

    def send(self, body: bytes, delivery_id: str = "delivery-1", **header_overrides: str) -> Any:
        headers = signed_headers(body, SECRET, delivery_id=delivery_id, timestamp=int(self.clock.now()))
        headers.update(header_overrides)
        return self.webhook.accept(body, headers)


def publish_body(**overrides: Any) -> bytes:
    document: dict[str, Any] = {
        "flow": {"name": "Main IVR", "type": "INBOUNDCALL"},
        "environment": "test",
        "yaml": "inboundCall:\n  name: Main IVR\n",
        "requester": "ci@example.com",
        "reason": "release 42",
    }
    document.update(overrides)
    return json.dumps(document).encode()


def test_a_signed_request_starts_one_execution_with_the_resolved_flow() -> None:
    # Given a webhook whose lock knows "Main IVR"
    harness = Harness()

    # When a signed publish request arrives
    accepted = harness.send(publish_body(), delivery_id="d-42")

    # Then one execution named after the delivery is started, with the flow's id filled in
    name = execution_name_for("d-42")
    assert list(harness.starter.started) == [name]
    assert accepted.execution_name == name
    assert accepted.execution_arn.endswith(f":execution:flowops-publish:{name}")
    assert accepted.status_url == f"https://api.example.com/prod/runs/{name}"
    assert accepted.replayed is False
    execution_input = json.loads(harness.starter.started[name])
    assert execution_input["flow"] == {"id": "f-main", "name": "Main IVR", "type": "INBOUNDCALL"}
    assert execution_input["source"] == {"kind": "inline", "yaml": "inboundCall:\n  name: Main IVR\n"}
    assert execution_input["org"] == "dev" and execution_input["delivery_id"] == "d-42"
    # And the ledger remembers the delivery as started
    assert harness.ledger.records["d-42"].status is DeliveryStatus.STARTED


@pytest.mark.parametrize(
    ("overrides", "kind"),
    [({"yaml": None, "version": "7.0"}, "version"), ({"yaml": None, "yaml_s3_key": "uploads/a.yaml"}, "s3")],
)
def test_the_source_kind_tells_the_state_machine_what_to_publish(
    overrides: dict[str, Any], kind: str
) -> None:
    harness = Harness()
    body = {key: value for key, value in json.loads(publish_body(**overrides)).items() if value is not None}

    harness.send(json.dumps(body).encode())

    (execution_input,) = harness.starter.started.values()
    assert json.loads(execution_input)["source"]["kind"] == kind


def test_a_replayed_delivery_returns_the_same_execution_and_starts_nothing() -> None:
    # Given a delivery that was accepted
    harness = Harness()
    first = harness.send(publish_body(), delivery_id="d-1")

    # When the same delivery arrives again
    again = harness.send(publish_body(), delivery_id="d-1")

    # Then the answer points at the same execution, flagged as a replay, and nothing new started
    assert again.execution_arn == first.execution_arn
    assert again.replayed is True
    assert harness.starter.calls == 1


def test_a_delivery_id_reused_with_another_body_is_a_conflict() -> None:
    harness = Harness()
    harness.send(publish_body(), delivery_id="d-1")

    with pytest.raises(DeliveryConflictError) as refused:
        harness.send(publish_body(reason="something else"), delivery_id="d-1")

    assert refused.value.status_code == 409
    assert harness.starter.calls == 1


def test_an_abandoned_claim_is_taken_over_after_its_lease() -> None:
    # Given a claim whose owner died before starting the execution
    harness = Harness(limits=WebhookLimits(claim_lease_seconds=60))
    harness.ledger.claim(_claimed_record(harness, "d-9", publish_body()))

    # When the sender retries within the lease, it is told the execution is on its way
    early = harness.send(publish_body(), delivery_id="d-9")
    assert early.replayed is True and harness.starter.calls == 0

    # And when it retries after the lease, this invocation takes over and starts it
    harness.clock.current += 61
    late = harness.send(publish_body(), delivery_id="d-9")
    assert late.replayed is False
    assert list(harness.starter.started) == [execution_name_for("d-9")]


SEVEN_DAYS = 7 * 24 * 3600


@pytest.mark.parametrize("same_body", [True, False], ids=["same-body", "other-body"])
def test_a_delivery_id_reused_after_its_claim_expired_starts_a_new_run(same_body: bool) -> None:
    # Given a delivery accepted 7 days and 1 s ago whose claim DynamoDB has not deleted yet
    harness = Harness()
    first = harness.send(publish_body(), delivery_id="d-old")
    harness.clock.current += SEVEN_DAYS + 1
    assert "d-old" in harness.ledger.records

    # When the same id arrives again, freshly signed
    again = harness.send(publish_body() if same_body else publish_body(reason="again"), delivery_id="d-old")

    # Then a new execution is started under the next generation's name, never the old ARN
    assert again.replayed is False
    assert again.execution_arn != first.execution_arn
    assert again.execution_name == execution_name_for("d-old", 2)
    assert list(harness.starter.started) == [execution_name_for("d-old"), execution_name_for("d-old", 2)]
    assert harness.ledger.records["d-old"].generation == 2
    # And a replay of the new use answers with the new run
    replay = harness.send(publish_body() if same_body else publish_body(reason="again"), delivery_id="d-old")
    assert (replay.execution_arn, replay.replayed) == (again.execution_arn, True)


def test_a_reused_delivery_id_whose_claim_was_deleted_never_answers_with_the_old_run() -> None:
    # Given a delivery accepted 8 days ago whose claim DynamoDB's TTL has deleted since
    harness = Harness()
    first = harness.send(publish_body(), delivery_id="d-gone")
    harness.clock.current += SEVEN_DAYS + 24 * 3600
    del harness.ledger.records["d-gone"]

    # When the same id arrives again
    again = harness.send(publish_body(), delivery_id="d-gone")

    # Then the old execution's name is recognised as an earlier run's and a new one starts
    assert again.replayed is False
    assert again.execution_arn != first.execution_arn
    assert len(harness.starter.started) == 2
    assert harness.ledger.records["d-gone"].execution_name == again.execution_name


def test_a_crashed_owners_late_start_still_counts_as_this_claims_execution() -> None:
    # Given a claim taken over after its lease, whose dead owner had in fact started the execution
    harness = Harness(limits=WebhookLimits(claim_lease_seconds=60))
    record = _claimed_record(harness, "d-late", publish_body())
    harness.ledger.claim(record)
    harness.starter.start(record.execution_name, "{}")
    harness.clock.current += 61

    # When the retry takes over / Then it answers with that execution and starts no other
    late = harness.send(publish_body(), delivery_id="d-late")
    assert late.execution_name == execution_name_for("d-late")
    assert list(harness.starter.started) == [execution_name_for("d-late")]


def _claimed_record(harness: Harness, delivery_id: str, body: bytes) -> Any:
    from flowops.webhook.replay import DeliveryRecord, body_digest

    name = execution_name_for(delivery_id)
    return DeliveryRecord(
        delivery_id=delivery_id,
        body_sha256=body_digest(body),
        execution_name=name,
        execution_arn=harness.starter.execution_arn(name),
        status=DeliveryStatus.CLAIMED,
        claimed_at=harness.clock.now(),
        expires_at=int(harness.clock.now()) + 3600,
    )


def test_a_failed_start_releases_the_claim_so_the_retry_succeeds() -> None:
    # Given Step Functions throttles the first start
    harness = Harness(starter=RecordingStarter(failures=1))

    # When the delivery arrives, it is refused as temporarily unavailable
    with pytest.raises(DependencyUnavailableError) as refused:
        harness.send(publish_body(), delivery_id="d-1")
    assert refused.value.status_code == 503
    assert "d-1" not in harness.ledger.records

    # Then the sender's retry starts the execution
    accepted = harness.send(publish_body(), delivery_id="d-1")
    assert accepted.replayed is False
    assert len(harness.starter.started) == 1


@pytest.mark.parametrize(
    ("header", "value", "error"),
    [
        ("X-Hub-Signature-256", "sha256=" + "0" * 64, SignatureError),
        ("X-Flowops-Signature-256", "sha256=" + "0" * 64, SignatureError),
        ("X-Flowops-Delivery", "relabelled-delivery", SignatureError),
        ("X-Flowops-Timestamp", "1750000001", SignatureError),
    ],
)
def test_any_relabelled_or_forged_header_is_refused_before_anything_is_claimed(
    header: str, value: str, error: type[Exception]
) -> None:
    # Given a correctly signed request with one header changed afterwards
    harness = Harness()

    # When it is sent
    with pytest.raises(error):
        harness.send(publish_body(), **{header: value})

    # Then nothing was claimed or started
    assert harness.ledger.records == {}
    assert harness.starter.calls == 0


def test_a_stale_but_correctly_signed_request_is_refused() -> None:
    # Given a request signed 10 minutes ago
    harness = Harness()
    body = publish_body()
    headers = signed_headers(body, SECRET, delivery_id="d-1", timestamp=int(harness.clock.now()) - 600)

    # Then it is refused as stale, and nothing starts
    with pytest.raises(StaleRequestError):
        harness.webhook.accept(body, headers)
    assert harness.starter.calls == 0


def test_headers_are_matched_case_insensitively() -> None:
    harness = Harness()
    body = publish_body()
    headers = signed_headers(body, SECRET, delivery_id="d-1", timestamp=int(harness.clock.now()))

    accepted = harness.webhook.accept(body, {name.lower(): value for name, value in headers.items()})

    assert accepted.delivery_id == "d-1"


def test_github_delivery_header_is_accepted_as_the_delivery_id() -> None:
    harness = Harness()
    body = publish_body()
    headers = signed_headers(body, SECRET, delivery_id="gh-1", timestamp=int(harness.clock.now()))
    headers["X-GitHub-Delivery"] = headers.pop("X-Flowops-Delivery")

    assert harness.webhook.accept(body, headers).delivery_id == "gh-1"


def test_an_oversized_body_is_413_before_anything_else() -> None:
    harness = Harness(limits=WebhookLimits(max_body_bytes=100))

    with pytest.raises(PayloadTooLargeError):
        harness.webhook.accept(b"x" * 101, {})  # not even signed: size is checked first


@pytest.mark.parametrize(
    ("flow", "error"),
    [
        ({"name": "Nope", "type": "INBOUNDCALL"}, UnknownFlowError),
        ({"id": "f-unknown"}, UnknownFlowError),
        ({"id": "f-main", "type": "INBOUNDCHAT"}, InvalidRequestError),
    ],
)
def test_flows_must_resolve_against_the_lock(flow: dict[str, str], error: type[Exception]) -> None:
    harness = Harness()

    with pytest.raises(error):
        harness.send(publish_body(flow=flow))

    assert harness.starter.calls == 0 and harness.ledger.records == {}


def test_two_flows_with_one_name_and_type_need_an_id() -> None:
    twin = PublishTarget(id="f-twin", name="Main IVR", type="INBOUNDCALL")
    harness = Harness(flows=StaticFlowDirectory([MAIN_IVR, twin]))

    with pytest.raises(AmbiguousFlowError) as refused:
        harness.send(publish_body())

    assert "f-main" in refused.value.message and "f-twin" in refused.value.message


def test_an_environment_without_substitutions_is_404() -> None:
    harness = Harness()

    with pytest.raises(UnknownEnvironmentError):
        harness.send(publish_body(environment="prod"))

    assert harness.starter.calls == 0


def test_without_lookups_the_request_passes_through_unresolved() -> None:
    harness = Harness(flows=None, substitutions=None)

    harness.send(publish_body(environment="prod"))

    (execution_input,) = harness.starter.started.values()
    assert json.loads(execution_input)["flow"] == {"id": None, "name": "Main IVR", "type": "INBOUNDCALL"}


def test_an_unreadable_secret_is_503_and_says_nothing_about_it() -> None:
    class BrokenSecret:
        def current(self) -> Any:
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetSecretValue")

    harness = Harness(secrets=BrokenSecret())

    with pytest.raises(DependencyUnavailableError):
        harness.send(publish_body())


def test_the_webhook_repr_does_not_show_the_secret() -> None:
    harness = Harness()

    assert SECRET not in repr(harness.webhook)
    assert SECRET not in repr(StaticWebhookSecret(SECRET))


def test_an_unreadable_lock_is_503_and_starts_nothing() -> None:
    from flowops.store import StoreThrottledError

    class ThrottledDirectory:
        def resolve(self, ref: Any) -> PublishTarget:
            raise StoreThrottledError("reading the lock pointer")

    harness = Harness(flows=ThrottledDirectory())

    with pytest.raises(DependencyUnavailableError):
        harness.send(publish_body())
    assert harness.starter.calls == 0


def test_without_a_status_base_url_the_status_url_is_the_executions_console_page() -> None:
    # Given a webhook with no status page of its own (the deployed default)
    harness = Harness(status_base_url="")

    # When a signed publish request is accepted
    accepted = harness.send(publish_body(), delivery_id="d-7")

    # Then statusUrl is the absolute Step Functions console URL of that execution (IAM-authorised)
    region = accepted.execution_arn.split(":")[3]
    assert accepted.status_url == (
        f"https://{region}.console.aws.amazon.com/states/home?region={region}"
        f"#/v2/executions/details/{accepted.execution_arn}"
    )


def test_console_urls_follow_the_arns_partition_and_refuse_what_is_not_an_execution() -> None:
    # Given execution ARNs in the China partition and strings that are not execution ARNs
    china = "arn:aws-cn:states:cn-north-1:123456789012:execution:flowops-publish:run-1"
    # Then the China console host is used, and anything else gives no URL rather than a wrong one
    assert execution_console_url(china).startswith("https://cn-north-1.console.amazonaws.cn/states/home")
    assert execution_console_url("arn:aws:states:eu-west-1:1:stateMachine:flowops-publish") == ""
    assert execution_console_url("") == ""


class AmbiguousLedger(InMemoryLedger):
    """Each conditional write is applied, then answered as a condition failure once — what a
    retried DynamoDB write that meets its own first attempt answers."""

    def __init__(self, *, claims: int = 0, replaces: int = 0) -> None:
        super().__init__()
        self.ambiguous_claims, self.ambiguous_replaces = claims, replaces

    def claim(self, record: Any) -> Any:
        existing = super().claim(record)
        if existing is None and self.ambiguous_claims > 0:
            self.ambiguous_claims -= 1
            return record  # applied, but reported as a collision with the item now stored
        return existing

    def replace(self, current: Any, successor: Any) -> bool:
        applied = super().replace(current, successor)
        if applied and self.ambiguous_replaces > 0:
            self.ambiguous_replaces -= 1
            return False
        return applied


@pytest.mark.parametrize("write", ["claim", "renewal"])
def test_an_ambiguous_ledger_write_still_starts_the_run_it_answers_with(write: str) -> None:
    # Given a ledger whose claim (or renewal of an expired claim) is applied but answered as failed
    ledger = AmbiguousLedger()
    harness = Harness(ledger=ledger)
    if write == "renewal":
        harness.send(publish_body(), delivery_id="d-amb")
        harness.clock.current += SEVEN_DAYS + 1
        ledger.ambiguous_replaces = 1
    else:
        ledger.ambiguous_claims = 1
    started_before = len(harness.starter.started)

    # When the delivery arrives
    answer = harness.send(publish_body(), delivery_id="d-amb")

    # Then it is a new run that really was started, never a "replay" of a run that does not exist
    assert answer.replayed is False
    assert answer.execution_name in harness.starter.started
    assert len(harness.starter.started) == started_before + 1
    assert harness.ledger.records["d-amb"].status is DeliveryStatus.STARTED
