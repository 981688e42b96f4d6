"""`POST /release`: a release request signed like a publish request (HMAC, timestamp window,
delivery claim), with the bundle referenced or inline."""

from __future__ import annotations

import json
from typing import Any

import pytest

from flowops.release.bundle import bundle_key, parse_bundle
from flowops.release.models import ReleaseRequest
from flowops.webhook.errors import (
    InvalidRequestError,
    PayloadTooLargeError,
    RouteDisabledError,
    SignatureError,
)
from flowops.webhook.secret import StaticWebhookSecret
from flowops.webhook.service import PublishWebhook, WebhookLimits
from flowops.webhook.signature import signed_headers
from tests.unit.scan.fakes import FakeArtifacts
from tests.unit.webhook.fakes import FixedClock, InMemoryLedger, RecordingStarter

SECRET = "unit-test-shared-secret"
FLOW = "inboundCall:\n  name: Main IVR\n  description: {{note}}\n"
ENVIRONMENTS = {"test": "substitutions:\n  note: hello\n"}


class Harness:
    def __init__(self, *, release: bool = True, max_body_bytes: int = 256 * 1024) -> None:
        self.clock = FixedClock()
        self.publish_starter, self.release_starter = RecordingStarter(), RecordingStarter()
        self.publish_starter.clock = self.release_starter.clock = self.clock
        self.bundles = FakeArtifacts()
        self.bundles.exists = lambda key: key in self.bundles.objects  # type: ignore[attr-defined]
        self.webhook = PublishWebhook(
            org="dev",
            secrets=StaticWebhookSecret(SECRET),
            ledger=InMemoryLedger(),
            starter=self.publish_starter,
            clock=self.clock,
            limits=WebhookLimits(max_body_bytes=max_body_bytes),
            release_starter=self.release_starter if release else None,
            bundles=self.bundles if release else None,  # type: ignore[arg-type]
        )

    def send(self, body: bytes, delivery_id: str = "delivery-1", secret: str = SECRET) -> Any:
        headers = signed_headers(body, secret, delivery_id=delivery_id, timestamp=int(self.clock.now()))
        return self.webhook.accept_release(body, headers)

    def started(self) -> list[ReleaseRequest]:
        return [ReleaseRequest.model_validate_json(text) for text in self.release_starter.started.values()]


def release_body(**fields: Any) -> bytes:
    document: dict[str, Any] = {
        "environment": "test",
        "requester": "ci@example.com",
        "reason": "PR 42",
        "flows": {"inboundCall/main.yaml": FLOW},
        "environments": ENVIRONMENTS,
        "source_revision": "git:abc123",
    }
    document.update(fields)
    return json.dumps({k: v for k, v in document.items() if v is not None}).encode()


def test_an_inline_release_is_stored_as_its_bundle_and_started_once() -> None:
    # Given a signed inline release
    harness = Harness()
    # When it is delivered, and delivered again (a CI retry)
    first = harness.send(release_body())
    again = harness.send(release_body())
    # Then one release execution was started with the stored bundle; the repeat is a replay
    (request,) = harness.started()
    assert harness.publish_starter.started == {}
    assert (request.environment, request.requester, request.reason) == ("test", "ci@example.com", "PR 42")
    assert request.bundle_key == bundle_key("dev", request.bundle_sha256)
    bundle = parse_bundle(harness.bundles.objects[request.bundle_key], expected_sha256=request.bundle_sha256)
    assert bundle.source_revision == "git:abc123" and [f.path for f in bundle.flows] == [
        "flows/inboundCall/main.yaml"
    ]
    assert not first.replayed and again.replayed and again.execution_name == first.execution_name


def test_a_stored_bundle_is_referenced_by_its_sha256() -> None:
    harness = Harness()
    harness.send(release_body(), delivery_id="upload")
    (stored,) = harness.started()
    accepted = harness.send(
        release_body(flows=None, environments=None, source_revision=None, bundle_sha256=stored.bundle_sha256),
        delivery_id="by-reference",
    )
    assert (
        not accepted.replayed and [r.bundle_sha256 for r in harness.started()] == [stored.bundle_sha256] * 2
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (release_body(bundle_sha256="0" * 64), "bundle_sha256"),  # both sources
        (
            release_body(flows=None, environments=None, source_revision=None, bundle_sha256="0" * 64),
            "bundle_sha256",
        ),
        (release_body(environment="prod"), "flows"),  # no environments/prod.yaml
        (release_body(flows={"inboundCall/../x.yaml": FLOW}), "flows"),
        (release_body(force=True), "force"),
        (b"{not json", None),
    ],
)
def test_bad_release_bodies_are_400_and_start_nothing(body: bytes, field: str | None) -> None:
    harness = Harness()
    with pytest.raises(InvalidRequestError) as refused:
        harness.send(body)
    assert refused.value.status_code == 400
    if field is not None:
        assert field in " ".join(refused.value.fields) or field in refused.value.message
    assert harness.started() == [] and harness.webhook._ledger.records == {}  # type: ignore[attr-defined]


def test_a_forged_signature_is_401_and_an_oversized_body_413() -> None:
    harness = Harness(max_body_bytes=1024)
    with pytest.raises(SignatureError) as forged:
        harness.send(release_body(), secret="not-the-secret")
    assert forged.value.status_code == 401
    with pytest.raises(PayloadTooLargeError) as large:
        harness.send(release_body(flows={"inboundCall/main.yaml": FLOW + "#" * 2000}))
    assert large.value.status_code == 413 and "bundle_sha256" in large.value.message
    assert harness.started() == [] and harness.bundles.objects == {}


def test_a_deployment_without_the_release_machine_answers_404() -> None:
    with pytest.raises(RouteDisabledError) as disabled:
        Harness(release=False).send(release_body())
    assert disabled.value.status_code == 404
