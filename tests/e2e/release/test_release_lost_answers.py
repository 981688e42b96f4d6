"""The synthesized release state machine when Genesys applies a deploy but its answer is lost
(issue 12's protections, per flow): no deploy is sent twice, so no flow gets an extra version,
and the record names the versions the org really runs."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.release.helpers import ReleaseWorld, start_release_world
from tests.e2e.release.test_release_rollback import RELEASE
from tests.integration.release.world import flow_yaml, module, queue

pytestmark = pytest.mark.slow


@pytest.fixture
def world(
    start_simulator: Callable[..., Any], local_cloud_factory: Callable[..., Any], tmp_path: Path
) -> ReleaseWorld:
    return start_release_world(start_simulator, local_cloud_factory, tmp_path)


@pytest.fixture
def before_release_step(monkeypatch: pytest.MonkeyPatch) -> Callable[[str, Callable[[], None]], None]:
    """Run `action` once right before the real handler of release step module `name` (the local
    runtime resolves the dotted handler on every invocation)."""

    def install(name: str, action: Callable[[], None]) -> None:
        step = importlib.import_module(f"flowops.functions.release.{name}")
        real, done = step.handler, threading.Event()

        def wrapper(event: Any, context: Any) -> Any:
            if not done.is_set():
                done.set()
                action()
            return real(event, context)

        monkeypatch.setattr(step, "handler", wrapper)

    return install


def test_lost_register_and_upload_answers_cost_no_extra_version(world: ReleaseWorld) -> None:
    # Given Genesys loses the answer to the first job registration and to the first upload it
    # takes (both applied)
    world.sim.set_faults("lost-answer=register,lost-answer=upload")
    flows = {
        "commonModule/shared-menu.yaml": flow_yaml(
            "COMMONMODULE", "Shared Menu", queue("Sales"), description="v2"
        ),
        "inboundCall/new-line.yaml": flow_yaml("INBOUNDCALL", "New Line", module("Shared Menu")),
    }
    # When a release changes the module (its two consumers republished) and creates a flow
    result = world.release("release-lost-answers", flows)
    # Then it is released, every flow got exactly ONE new version
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    versions = world.published_versions()
    assert versions["COMMONMODULE/Shared Menu"] == "2.0"
    assert versions["INBOUNDCALL/Main IVR"] == "3.0" and versions["INBOUNDCALL/After Hours"] == "2.0"
    assert versions["INBOUNDCALL/New Line"] == "1.0"
    assert sum(1 for f in world.sim.org.flows.values() if f.name == "New Line") == 1
    # and the upload whose answer was lost was never sent again: one upload per changed flow
    assert world.counters()["PUT /__sim/uploads/{jobId}"] == 4
    # and the record names those versions
    after = {f["key"]: f["version_after"] for f in world.record("release-lost-answers").details["flows"]}
    assert after == {
        "COMMONMODULE/Shared Menu": "2.0",
        "INBOUNDCALL/Main IVR": "3.0",
        "INBOUNDCALL/After Hours": "2.0",
        "INBOUNDCALL/New Line": "1.0",
    }


def test_a_lost_answer_during_the_rollback_restores_each_flow_once(
    world: ReleaseWorld, before_release_step: Callable[[str, Callable[[], None]], None]
) -> None:
    # Given Sales Line fails in wave 2, and the first rollback upload's answer is lost
    before = world.org_content()
    world.sim.set_faults("publish-fail=Sales Line")
    before_release_step(
        "plan_rollback", lambda: world.sim.set_faults("publish-fail=Sales Line,lost-answer=upload")
    )
    # When the release runs and rolls back
    result = world.release("release-rollback-lost-answer", RELEASE)
    # Then every flow is restored by content, each with exactly one restoring version
    assert result.status == "FAILED" and result.error == "Release.RolledBack", result.cause
    assert world.org_content() == before
    after = world.published_versions()
    assert after["COMMONMODULE/Shared Menu"] == "3.0"
    assert after["INBOUNDCALL/Main IVR"] == "4.0" and after["INBOUNDCALL/After Hours"] == "3.0"
    assert "INBOUNDCALL/New Line" not in after
    assert world.record("release-rollback-lost-answer").status == "ROLLED_BACK"
