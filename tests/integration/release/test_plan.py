"""`compute_plan` and `flowops plan` against the simulator, checked against hand-computed plans:
the action and the reason of every flow, the module consumers pulled in, the waves, cycles,
validation, and the exit codes (0 no changes, 4 changes, 1 invalid, 2 bad input)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from flowops.genesys import ClientCredentials, GenesysClient
from flowops.local.runtime.cloud import LOCAL_GENESYS_CREDENTIALS
from flowops.release.live import GenesysLiveOrg
from flowops.release.plan import compute_plan
from tests.integration.release.world import (
    AFTER,
    ENV,
    MAIN,
    MODULE,
    ORG_DOCUMENT,
    answer_connect_with,
    flow_yaml,
    module,
    queue,
    read_release,
    run_cli,
    transfer,
    write_release,
)


@pytest.fixture
def sim(start_simulator: Callable[..., Any]) -> Any:
    from flowops.local.simulator.orgfile import parse_org_document

    client_id, client_secret = LOCAL_GENESYS_CREDENTIALS
    return start_simulator(
        parse_org_document(ORG_DOCUMENT), client_id=client_id, client_secret=client_secret, time_scale=600.0
    )


def live_org(sim: Any) -> GenesysLiveOrg:
    client_id, client_secret = LOCAL_GENESYS_CREDENTIALS
    client = GenesysClient(
        ClientCredentials(client_id=client_id, client_secret=client_secret), base_url=sim.url
    )
    return GenesysLiveOrg(client, org="test", poll_seconds=0.05)


def exported(sim: Any, flow_id: str) -> str:
    live = live_org(sim)
    flow = live.flow_by_id(flow_id)
    assert flow is not None
    return live.published_yaml(flow)


def plan_of(sim: Any, directory: Path) -> Any:
    live = live_org(sim)
    return compute_plan(read_release(directory), ENV, live, objects=live.genesys)


def summary(plan: Any) -> dict[str, tuple[str, int | None]]:
    return {flow.key: (flow.action, flow.wave) for flow in plan.flows}


def test_module_change_pulls_in_its_consumers_and_orders_the_waves(sim: Any, tmp_path: Path) -> None:
    # Given a release: the module changed, Main IVR exactly as exported (reformatted and with a
    # comment: cosmetic), a new flow calling the module, and a placeholder filled per environment
    main_export = exported(sim, MAIN)
    directory = write_release(
        tmp_path,
        {
            "commonModule/shared-menu.yaml": flow_yaml(
                "COMMONMODULE", "Shared Menu", queue("{{support_queue}}"), description="menu v2"
            ),
            "inboundCall/main-ivr.yaml": "# reviewed in PR 12\r\n" + main_export.replace("\n", "\r\n"),
            "inboundCall/new-line.yaml": flow_yaml("INBOUNDCALL", "New Line", module("Shared Menu")),
        },
        {ENV: "substitutions:\n  support_queue: Support\n"},
    )
    # When it is planned for the environment
    plan = plan_of(sim, directory)
    # Then (by hand): the module is updated first; Main IVR (unchanged content) and After Hours
    # (not in the release) are republished because they call it; New Line is created after it
    assert plan.status == "changes", plan.errors
    assert summary(plan) == {
        "COMMONMODULE/Shared Menu": ("update", 0),
        "INBOUNDCALL/Main IVR": ("republish", 1),
        "INBOUNDCALL/After Hours": ("republish", 1),
        "INBOUNDCALL/New Line": ("create", 1),
    }
    assert [wave.flows for wave in plan.waves] == [
        ["COMMONMODULE/Shared Menu"],
        ["INBOUNDCALL/After Hours", "INBOUNDCALL/Main IVR", "INBOUNDCALL/New Line"],
    ]
    # and every flow says why it is in the plan
    reasons = {flow.key: flow.reasons for flow in plan.flows}
    assert reasons["COMMONMODULE/Shared Menu"] == ["content differs from published version 1.0"]
    assert reasons["INBOUNDCALL/New Line"] == ["new flow: the org has no such flow"]
    assert reasons["INBOUNDCALL/Main IVR"] == [
        "calls common module 'Shared Menu', which this release changes: republished to take its new version"
    ]
    assert reasons["INBOUNDCALL/After Hours"][0].endswith(
        "(not in the release: its published YAML is redeployed unchanged)"
    )
    after = plan.flow("INBOUNDCALL/After Hours")
    assert after.path is None and after.flow_id == AFTER and after.live_version == "1.0"
    # and the substitution was applied to what would be deployed
    assert "Support" in plan.flow("COMMONMODULE/Shared Menu").deploy_yaml
    assert "{{" not in plan.flow("COMMONMODULE/Shared Menu").deploy_yaml


def test_identical_release_plans_no_changes(sim: Any, tmp_path: Path) -> None:
    # Given the org's own exports as a release
    directory = write_release(
        tmp_path,
        {
            "commonModule/shared-menu.yaml": exported(sim, MODULE),
            "inboundCall/main-ivr.yaml": exported(sim, MAIN),
        },
    )
    # When planned
    plan = plan_of(sim, directory)
    # Then nothing would change and there are no waves
    assert plan.status == "no-changes"
    assert summary(plan) == {
        "COMMONMODULE/Shared Menu": ("unchanged", None),
        "INBOUNDCALL/Main IVR": ("unchanged", None),
    }
    assert plan.flow("INBOUNDCALL/Main IVR").reasons == ["same content as published version 2.0"]
    assert plan.waves == []


def test_flows_transferring_to_each_other_share_a_wave_and_new_ones_use_stubs(
    sim: Any, tmp_path: Path
) -> None:
    # Given two new flows that transfer to each other and a third that transfers to one of them
    directory = write_release(
        tmp_path,
        {
            "inboundCall/ping.yaml": flow_yaml("INBOUNDCALL", "Ping", transfer("Pong")),
            "inboundCall/pong.yaml": flow_yaml("INBOUNDCALL", "Pong", transfer("Ping")),
            "inboundCall/caller.yaml": flow_yaml("INBOUNDCALL", "Caller", transfer("Ping")),
        },
    )
    # When planned
    plan = plan_of(sim, directory)
    # Then Ping and Pong publish together in the first wave, with createStubs; Caller after them
    assert plan.status == "changes", plan.errors
    assert [wave.flows for wave in plan.waves] == [
        ["INBOUNDCALL/Ping", "INBOUNDCALL/Pong"],
        ["INBOUNDCALL/Caller"],
    ]
    cycle = {flow.key: (flow.in_cycle, flow.create_stubs) for flow in plan.flows}
    assert cycle == {
        "INBOUNDCALL/Ping": (True, True),
        "INBOUNDCALL/Pong": (True, True),
        "INBOUNDCALL/Caller": (False, False),
    }


def test_the_whole_set_is_validated(sim: Any, tmp_path: Path) -> None:
    # Given a flow transferring to a flow that exists nowhere, one file with a placeholder the
    # environment lacks, two files defining the same flow, and a misspelt queue
    directory = write_release(
        tmp_path,
        {
            "inboundCall/a.yaml": flow_yaml("INBOUNDCALL", "A", transfer("Nowhere")),
            "inboundCall/b.yaml": flow_yaml("INBOUNDCALL", "B", queue("{{missing_key}}")),
            "inboundCall/c1.yaml": flow_yaml("INBOUNDCALL", "C"),
            "inboundCall/c2.yaml": flow_yaml("INBOUNDCALL", "C", description="again"),
            "inboundCall/d.yaml": flow_yaml("INBOUNDCALL", "D", queue("Suport")),
        },
    )
    # When planned
    plan = plan_of(sim, directory)
    # Then it is invalid, with one finding per problem
    assert plan.status == "invalid"
    codes = sorted((finding.code, finding.object) for finding in plan.errors)
    assert [code for code, _ in codes] == [
        "DUPLICATE_FLOW",
        "REFERENCE_NOT_FOUND",
        "REFERENCE_NOT_FOUND",
        "YAML_INVALID",
    ]
    assert "missing_key" in next(f.message for f in plan.errors if f.code == "YAML_INVALID")
    # and a queue that does not exist is found missing in the LIVE org, in Architect's words
    assert "Unable to find a queue named 'Suport'." in [f.message for f in plan.errors]


def test_a_flow_locked_in_architect_makes_the_plan_invalid(sim: Any, tmp_path: Path) -> None:
    # Given Main IVR is checked out by someone in Architect
    sim.state.faults.locked_flow_ids.add(MAIN)
    directory = write_release(
        tmp_path, {"inboundCall/main-ivr.yaml": flow_yaml("INBOUNDCALL", "Main IVR", queue("Sales"))}
    )
    # When planned
    plan = plan_of(sim, directory)
    # Then it is invalid and names the lock
    assert plan.status == "invalid"
    assert [finding.code for finding in plan.errors] == ["FLOW_LOCKED"]


# ---- the command ---------------------------------------------------------------------------------


@pytest.fixture
def cli_cloud(sim: Any, local_cloud_factory: Callable[..., Any], monkeypatch: Any) -> Any:
    """A local cloud in this process; every command's `connect()` answers with it."""
    from flowops.cli.local_cloud import CloudConnection

    cloud = local_cloud_factory(genesys_base_url=sim.url)
    environment = cloud.function_environment("CheckDependencyIndex")
    connection = CloudConnection(
        region=cloud.region,
        org=environment.get("FLOWOPS_ORG", "dev"),
        artifacts_bucket=environment["ARTIFACTS_BUCKET"],
        state_table=environment["STATE_TABLE"],
        audit_table=environment["AUDIT_TABLE"],
        genesys_base_url=sim.url,
    )
    answer_connect_with(connection, monkeypatch)
    return cloud


def test_export_then_plan_round_trips_and_the_exit_codes_tell_the_story(
    cli_cloud: Any, tmp_path: Path
) -> None:
    # Given every flow of the org exported into a release directory
    directory = tmp_path / "repo"
    exported_run = run_cli("export", "--dir", str(directory), "--all", "--json")
    assert exported_run.exit_code == 0, exported_run.output
    files = sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*.yaml"))
    assert files == [
        "flows/commonModule/shared-menu.yaml",
        "flows/inboundCall/after-hours.yaml",
        "flows/inboundCall/main-ivr.yaml",
        "flows/inboundCall/sales-line.yaml",
    ]
    write_release(directory, {}, {ENV: "substitutions: {}\n"})
    # When planned: no changes, exit 0
    unchanged = run_cli("plan", "--dir", str(directory), "--env", ENV, "--json")
    assert unchanged.exit_code == 0, unchanged.output
    assert json.loads(unchanged.stdout)["counts"] == {
        "create": 0,
        "update": 0,
        "republish": 0,
        "unchanged": 4,
    }
    # When one flow changes: exit 4, and the human plan shows the wave and the reason
    (directory / "flows/inboundCall/sales-line.yaml").write_text(
        flow_yaml("INBOUNDCALL", "Sales Line", queue("Support")), encoding="utf-8"
    )
    changed = run_cli("plan", "--dir", str(directory), "--env", ENV)
    assert changed.exit_code == 4, changed.output
    assert "wave 1\n  ~ update    INBOUNDCALL/Sales Line (published 1.0)" in changed.stdout
    assert "why: content differs from published version 1.0" in changed.stdout
    # When a file names a flow that does not exist: invalid, exit 1
    (directory / "flows/inboundCall/sales-line.yaml").write_text(
        flow_yaml("INBOUNDCALL", "Sales Line", transfer("Nowhere")), encoding="utf-8"
    )
    invalid = run_cli("plan", "--dir", str(directory), "--env", ENV, "--json")
    assert invalid.exit_code == 1
    assert json.loads(invalid.stdout)["status"] == "invalid"
    # When the environment has no options file: one error line, exit 2
    missing = run_cli("plan", "--dir", str(directory), "--env", "prod")
    assert missing.exit_code == 2
    assert missing.stderr.strip().startswith("error: the release has no environments/prod.yaml")
