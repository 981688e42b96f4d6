"""Every prefix the code writes in the artifacts bucket either expires (a lifecycle rule of the
synthesized bucket) or is kept on purpose (infra.constructs.storage.KEPT_PREFIXES, with its
reason): nothing grows forever unnoticed, and no lifecycle rule targets a prefix nothing writes.

The written keys come from the code's own key builders, called with sample values."""

from __future__ import annotations

from typing import Any

from flowops.publish.releases import releases_key
from flowops.publish.steps import run_artifact_key
from flowops.release.bundle import bundle_key
from flowops.release.steps import consumed_key, release_key, yaml_key
from flowops.scan.keys import data_action_versions_key, failed_objects_key, page_key
from flowops.store import ArtifactStore, flow_yaml_key, lock_key, scan_artifact_key
from flowops.trace.pipeline import trace_key
from flowops.webhook.lookup import substitutions_key
from infra.constructs.storage import KEPT_PREFIXES
from tests.infra.conftest import SynthesizedApp

SHA = "a" * 64


class _KeyRecorder(ArtifactStore):
    """An artifact store that only remembers which keys it was asked to write."""

    def __init__(self) -> None:
        super().__init__("bucket", s3_client=object())  # type: ignore[arg-type]
        self.keys: list[str] = []

    def put_immutable(self, key: str, body: bytes, content_type: str = "application/json") -> Any:
        self.keys.append(key)


def written_keys(org: str) -> list[str]:
    spilled = _KeyRecorder()
    spilled.put_large_payload(f"state/{org}", {"messages": ["..."]})  # flowops.functions.publish._wiring
    return [
        lock_key(org, SHA),
        flow_yaml_key(org, "f-1", "3.0"),
        releases_key(org, "f-1"),
        scan_artifact_key(org, "scan-1", "lock.json"),
        page_key(org, "scan-1", 1),
        data_action_versions_key(org, "scan-1"),
        failed_objects_key(org, "scan-1"),
        run_artifact_key(org, "run-1", "validation.json"),
        trace_key(org, "trace-1", "report.json"),
        release_key(org, "rel-1", "plan.json"),
        consumed_key(org, "f-1", "3.0"),
        yaml_key(org, "inboundCall: {}"),
        bundle_key(org, SHA),
        substitutions_key(org, "dev"),
        *spilled.keys,
    ]


def _org_and_expiring_prefixes(app: SynthesizedApp) -> tuple[str, list[str]]:
    resources = app.template["Resources"]
    (bucket,) = [
        r
        for key, r in resources.items()
        if r["Type"] == "AWS::S3::Bucket" and key.startswith("StorageArtifacts")
    ]
    rules = bucket["Properties"]["LifecycleConfiguration"]["Rules"]
    expiring = [rule["Prefix"] for rule in rules if rule.get("ExpirationInDays") and rule.get("Prefix")]
    functions = [r for r in resources.values() if r["Type"] == "AWS::Lambda::Function"]
    org = next(f["Properties"]["Environment"]["Variables"]["FLOWOPS_ORG"] for f in functions)
    return org, expiring


def test_every_written_prefix_expires_or_is_kept_for_a_stated_reason(
    synthesized_with_nag: SynthesizedApp,
) -> None:
    # Given the dev bucket's expiring rules and the prefixes kept on purpose
    org, expiring = _org_and_expiring_prefixes(synthesized_with_nag)
    kept = [prefix.replace("<org>", org) for prefix in KEPT_PREFIXES]
    # When every key the code writes is classified
    for key in written_keys(org):
        expires = [prefix for prefix in expiring if key.startswith(prefix)]
        keeps = [prefix for prefix in kept if key.startswith(prefix)]
        # Then it is in exactly one of the two
        assert len(expires) + len(keeps) == 1, (key, expires, keeps)
    # And every rule and every kept prefix is one the code writes
    for prefix in [*expiring, *kept]:
        assert any(key.startswith(prefix) for key in written_keys(org)), f"nothing writes {prefix}"
    assert all(len(reason) > 20 for reason in KEPT_PREFIXES.values())


def test_release_run_records_expire(synthesized_with_nag: SynthesizedApp) -> None:
    org, expiring = _org_and_expiring_prefixes(synthesized_with_nag)
    assert f"releases/{org}/runs/" in expiring
