"""`flowops promote` and `flowops approve`: the same bundle to the next environment of the chain
(cdk.json), with that environment's substitutions; refused without a success in the environment
before it; an approval (Step Functions task token) before the first wave where configured.

One local cloud per process: both environments live on one stack here (its environment check is
off), which is enough to show the rules; `flowops local up --envs` gives each its own stack."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.release.helpers import ReleaseWorld, start_release_world
from tests.integration.release.world import (
    answer_connect_with,
    flow_yaml,
    module,
    queue,
    run_cli,
    write_release,
)

pytestmark = pytest.mark.slow

ENVIRONMENTS = {
    "dev": "substitutions:\n  menu_queue: Support\n",
    "test": "substitutions:\n  menu_queue: Sales\n",
}


@pytest.fixture
def world(
    start_simulator: Callable[..., Any],
    local_cloud_factory: Callable[..., Any],
    tmp_path: Path,
    monkeypatch: Any,
) -> ReleaseWorld:
    from flowops.cli import release

    world = start_release_world(start_simulator, local_cloud_factory, tmp_path)
    world.cloud.runner.env_overrides["FLOWOPS_ENVIRONMENT"] = ""  # one stack stands in for both
    connection = world.connection()
    answer_connect_with(connection, monkeypatch)
    monkeypatch.setattr(release, "connect_environment", lambda _env: connection)
    return world


def module_release(directory: Path, description: str) -> Path:
    return write_release(
        directory,
        {
            "commonModule/shared-menu.yaml": flow_yaml(
                "COMMONMODULE", "Shared Menu", queue("{{menu_queue}}"), description=description
            ),
            "inboundCall/new-line.yaml": flow_yaml("INBOUNDCALL", "New Line", module("Shared Menu")),
        },
        ENVIRONMENTS,
    )


def queues_of(world: ReleaseWorld, flow_id: str, version: str | None) -> set[str]:
    """The queues the version was bound to when Architect published it."""
    consumes = world.sim.org.flows[flow_id].versions[str(version)].consumes
    return {dependency.id for dependency in consumes if dependency.object_type == "QUEUE"}


def release_id_of(output: str) -> str:
    return output.split("release ", 1)[1].split(":", 1)[0]


def test_promotion_needs_a_prior_success_then_waits_for_approval(world: ReleaseWorld, tmp_path: Path) -> None:
    # Given nothing was released yet: promoting an unknown release is refused
    refused = run_cli("promote", "no-such-release", "--to", "test")
    assert (
        refused.exit_code == 5
        and "promotion refused: no release 'no-such-release' in 'dev'" in refused.stderr
    )
    # and promoting to the first environment of the chain is a usage error
    first = run_cli("promote", "whatever", "--to", "dev")
    assert first.exit_code == 2
    # Given a release to dev that FAILED (Architect refuses the new flow) and was rolled back
    world.sim.set_faults("publish-fail=New Line")
    failed = run_cli("release", "--dir", str(module_release(tmp_path / "bad", "v2")), "--env", "dev")
    assert failed.exit_code == 6, failed.output  # failed, rolled back
    failed_id = release_id_of(failed.stdout)
    world.sim.set_faults("")
    # Then it cannot be promoted
    not_promoted = run_cli("promote", failed_id, "--to", "test")
    assert not_promoted.exit_code == 5
    assert f"release {failed_id} did not succeed in 'dev' (it is ROLLED_BACK" in not_promoted.stderr
    # Given a release to dev that succeeded, with dev's substitution (Support)
    good = run_cli("release", "--dir", str(module_release(tmp_path / "good", "v3")), "--env", "dev")
    assert good.exit_code == 0, good.output
    good_id = release_id_of(good.stdout)
    module_flow = world.sim.org.find_flow_by_name("Shared Menu", "COMMONMODULE")
    assert module_flow is not None
    dev_version = module_flow.published_version_id
    assert queues_of(world, module_flow.id, dev_version) == {"q-support"}
    # When it is promoted to test, where releases need an approval
    world.cloud.runner.env_overrides["FLOWOPS_APPROVAL_REQUIRED"] = "true"
    promoted = run_cli("promote", good_id, "--to", "test")
    # Then it waits for approval, nothing deployed yet
    assert promoted.exit_code == 0, promoted.output
    assert "waits for approval: flowops approve " in promoted.stdout
    promoted_id = promoted.stdout.strip().rsplit(" ", 1)[1]
    assert world.sim.org.flows[module_flow.id].published_version_id == dev_version
    # When someone approves it
    approved = run_cli("approve", promoted_id, "--reason", "CAB 42")
    # Then the same bundle is released with test's substitution (Sales)
    assert approved.exit_code == 0, approved.output
    test_version = world.sim.org.flows[module_flow.id].published_version_id
    assert test_version != dev_version
    assert queues_of(world, module_flow.id, test_version) == {"q-sales"}
    record = world.record(promoted_id)
    assert record.status == "SUCCEEDED"
    assert record.details["promoted_from"] == f"dev:{good_id}"
    assert record.details["bundle_sha256"] == world.record(good_id).details["bundle_sha256"]
    assert "release.approval_requested" in world.audit_kinds(promoted_id)
    # and approving twice is refused
    again = run_cli("approve", promoted_id)
    assert again.exit_code == 2 and "not waiting for an approval" in again.stderr


def test_a_rejected_release_deploys_nothing(world: ReleaseWorld, tmp_path: Path) -> None:
    # Given a release to dev that succeeded, promoted to an environment needing approval
    good = run_cli("release", "--dir", str(module_release(tmp_path / "good", "v2")), "--env", "dev")
    assert good.exit_code == 0, good.output
    world.cloud.runner.env_overrides["FLOWOPS_APPROVAL_REQUIRED"] = "true"
    # (test's substitution differs, so there is something to release)
    promoted = run_cli("promote", release_id_of(good.stdout), "--to", "test")
    promoted_id = promoted.stdout.strip().rsplit(" ", 1)[1]
    before = world.published_versions()
    # When it is rejected
    rejected = run_cli("approve", promoted_id, "--reject", "--reason", "not in the change window")
    # Then nothing was deployed, the record says NOT_APPROVED and the leases are free
    assert rejected.exit_code == 0, rejected.output
    assert world.published_versions() == before
    record = world.record(promoted_id)
    assert record.status == "FAILED" and record.details["outcome"] == "NOT_APPROVED"
    assert world.lease_holders() == []
