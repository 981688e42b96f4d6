"""Generated orgs (determinism, size, planted cases, YAML consistency) and org files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from flowops.flowyaml import parse_flow_yaml
from flowops.local.simulator import OrgFileError, generate_org, load_org_file
from flowops.local.simulator.admin import inspect_flow
from flowops.local.simulator.model import FLOW_OBJECT_TYPES, FLOW_TYPES, UNDEPLOYABLE_FLOW_TYPES
from flowops.local.simulator.org import render_flow_yaml
from flowops.local.simulator.state import SimulatorSettings, SimulatorState


def _snapshot(flows: int, seed: int) -> list[Any]:
    org = generate_org(flows, seed=seed)
    state = SimulatorState(org, clock=None, faults=None, settings=SimulatorSettings())
    return [inspect_flow(state, flow_id) for flow_id in sorted(org.flows)] + sorted(org.flow_instances)


def test_same_seed_gives_the_same_org_and_another_seed_does_not() -> None:
    assert _snapshot(40, seed=5) == _snapshot(40, seed=5)
    assert _snapshot(40, seed=5) != _snapshot(40, seed=6)


def test_generated_org_plants_the_cases_the_pipeline_must_handle() -> None:
    org = generate_org(300, seed=2)
    flows = list(org.flows.values())
    assert {f.flow_type for f in flows} == set(FLOW_TYPES)
    edges = {(f.id, d.id) for f in flows for v in f.versions.values() for d in v.consumes}
    assert any(a == b for a, b in edges), "a self-loop"
    assert any(
        (b, a) in edges or any((b, c) in edges and (c, a) in edges for c in org.flows)
        for a, b in edges
        if a != b
    )
    assert any(f.locked_by is not None for f in flows)
    assert any(len(f.versions) > 1 for f in flows)
    deleted = {o.id for o in org.objects.values() if o.deleted}
    assert any(d in deleted for _, d in edges), "references to deleted objects"
    never_published = {f.id for f in flows if f.published_version_id is None}
    assert any(d in never_published for _, d in edges), "a never-published flow that is consumed"
    stale = [
        d
        for f in flows
        for d in f.versions[f.published_version_id or f.latest_version_id() or ""].consumes
        if d.object_type == "COMMONMODULEFLOW" and d.version != org.flows[d.id].published_version_id
    ]
    assert stale, "a consumer pinned to an older common-module version"
    modules = [f.id for f in flows if f.flow_type == "COMMONMODULE"]
    assert max(len(org.consumers.get(m, ())) for m in modules) >= 5, "a common module consumed by many"
    assert org.flow_instances, "recent execution data"


def test_generated_yaml_names_exactly_what_each_version_consumes() -> None:
    org = generate_org(120, seed=4)
    for flow in org.flows.values():
        if flow.flow_type in UNDEPLOYABLE_FLOW_TYPES:
            continue  # Archy YAML does not describe them
        for version in flow.versions.values():
            document = parse_flow_yaml(render_flow_yaml(org, flow, version))
            assert document.flow_type == flow.flow_type
            found = {(r.object_type, r.name) for r in document.references}
            for dependency in version.consumes:
                name, object_type, _ = org.describe(dependency.id) or ("", "", False)
                # A plain transfer from a non-media flow does not say the target type: FLOW.
                assert (object_type, name) in found or (
                    object_type in FLOW_OBJECT_TYPES and ("FLOW", name) in found
                )
            assert len(found) == len(version.consumes)


@pytest.mark.slow
def test_twenty_thousand_flow_org_has_every_flow_type_and_consistent_dependencies() -> None:
    # Given the largest org the simulator promises
    org = generate_org(20_000, seed=1)

    # Then it holds exactly that many flows of every kind, and every consumed id resolves
    assert len(org.flows) == 20_000
    flow_types = {flow.flow_type for flow in org.flows.values()}
    assert flow_types >= {"INBOUNDCALL", "COMMONMODULE", "WORKFLOW", "BOT"}
    known = set(org.flows) | set(org.objects)
    for flow in org.flows.values():
        for version in flow.versions.values():
            assert {dependency.id for dependency in version.consumes} <= known


def _write(tmp_path: Path, document: Any) -> Path:
    path = tmp_path / "org.json"
    path.write_text(json.dumps(document))
    return path


GOOD = {
    "objects": [
        {"id": "q1", "name": "Support", "type": "QUEUE"},
        {"id": "d1", "name": "Lookup", "type": "DATAACTION", "deleted": True},
    ],
    "flows": [
        {"id": "m1", "name": "Shared Module", "type": "COMMONMODULE", "publishedVersion": 2, "consumes": []},
        {
            "id": "f1",
            "name": "Main IVR",
            "type": "INBOUNDCALL",
            "publishedVersion": "3.0",
            "consumes": [
                {"id": "q1", "type": "QUEUE"},
                {"id": "d1", "type": "DATAACTION"},
                {"id": "m1", "type": "COMMONMODULEFLOW"},
            ],
        },
    ],
}


def test_org_file_loads_with_defaults(tmp_path: Path) -> None:
    org = load_org_file(_write(tmp_path, GOOD))
    main = org.flows["f1"]
    assert main.published_version_id == "3.0" and list(main.versions) == ["1.0", "2.0", "3.0"]
    assert {(d.id, d.version) for d in main.versions["3.0"].consumes} == {
        ("q1", None),
        ("d1", None),
        ("m1", "2.0"),
    }
    assert org.objects["d1"].deleted and org.consumers["q1"] == {("f1", "1.0"), ("f1", "2.0"), ("f1", "3.0")}


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda d: d["flows"][1]["consumes"].append({"id": "ghost", "type": "QUEUE"}),
            "flows[1] (id 'f1') consumes[3]: dangling",
        ),
        (
            lambda d: d["flows"].append({"id": "q1", "name": "Dup", "type": "INBOUNDCALL"}),
            "flows[2] (id 'q1'): duplicate id",
        ),
        (lambda d: d["flows"][0].pop("name"), "flows[0] (id 'm1'): missing or empty string field 'name'"),
        (lambda d: d["flows"][0].update(type="IVR"), "flows[0] (id 'm1'): unknown flow type 'IVR'"),
        (
            lambda d: d["objects"][0].update(type="QUEUES"),
            "objects[0] (id 'q1'): unknown object type 'QUEUES'",
        ),
    ],
)
def test_org_file_errors_name_the_entry_and_the_problem(tmp_path: Path, mutate: Any, expected: str) -> None:
    document = json.loads(json.dumps(GOOD))
    mutate(document)
    with pytest.raises(OrgFileError) as raised:
        load_org_file(_write(tmp_path, document))
    assert str(raised.value).startswith(expected)


def test_org_file_that_is_not_json_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    with pytest.raises(OrgFileError, match="not valid JSON"):
        load_org_file(path)


# Container and closing action of each flow type in real exports (the public Archy fixtures).
EXPORT_SHAPES = {
    "tasks": (
        {"INBOUNDCALL", "OUTBOUNDCALL", "SECURECALL", "VOICEMAIL", "VOICE", "VOICESURVEY"},
        "disconnect",
    ),
    "bots": ({"BOT", "DIGITALBOT"}, "exitBotFlow"),
    "startUpTaskActions": ({"COMMONMODULE", "INQUEUECALL", "INQUEUEEMAIL", "INQUEUESHORTMESSAGE"}, None),
    "states": (
        {"INBOUNDCHAT", "INBOUNDSHORTMESSAGE", "INBOUNDEMAIL", "WORKFLOW", "WORKITEM", "SURVEYINVITE"},
        None,
    ),
}
END_ACTION = {
    "COMMONMODULE": "endTask",
    "WORKFLOW": "endWorkflow",
    "SURVEYINVITE": "endWorkflow",
    "WORKITEM": "disconnectWorkitem",
    "BOT": "exitBotFlow",
    "DIGITALBOT": "exitBotFlow",
}
NO_ACD_OR_AUDIO = {"WORKFLOW", "WORKITEM", "SURVEYINVITE", "BOT", "DIGITALBOT"}


def _action_keys(actions: list[dict[str, Any]]) -> list[str]:
    return [next(iter(action)) for action in actions]


def test_exports_of_every_generated_flow_type_have_the_real_export_shape() -> None:
    # Given a generated org with every flow type
    org = generate_org(300, seed=2)
    seen: set[str] = set()
    for flow in org.flows.values():
        if flow.flow_type in UNDEPLOYABLE_FLOW_TYPES:
            continue  # no Archy YAML format exists for them
        version = flow.versions[flow.latest_version_id() or ""]
        # When its export is read as Archy reads it
        text = render_flow_yaml(org, flow, version)
        document = parse_flow_yaml(text)
        body = document.raw[flow.yaml_key]
        # Then the container is the one real exports of this type use
        container = next(key for key, (types, _) in EXPORT_SHAPES.items() if flow.flow_type in types)
        assert container in body, (flow.flow_type, list(body))
        if container == "startUpTaskActions":
            actions = body["startUpTaskActions"]
        else:
            ((_, item),) = body[container][0].items()
            actions = item["actions"]
            assert body["startUpRef"] == f"/{flow.yaml_key}/{container}/{container[:-1]}[{item['refId']}]"
        keys = _action_keys(actions)
        # And it ends the way that type ends
        assert keys[-1] == END_ACTION.get(flow.flow_type, "disconnect"), (flow.flow_type, keys)
        # And flows without ACD or audio have neither; bots never call modules or transfer
        if flow.flow_type in NO_ACD_OR_AUDIO:
            assert not {"transferToAcd", "playAudio", "transferToFlow", "transferToFlowSecure"} & set(keys)
        if flow.flow_type in {"BOT", "DIGITALBOT"}:
            assert "callCommonModule" not in keys and "disconnect" not in keys
        if flow.flow_type == "COMMONMODULE":
            compatible = body["settingsCommonModule"]["compatibleFlowTypes"]
            assert compatible and all(set(entry) == {"flowType"} for entry in compatible)
        # And the references are exactly what the version consumes (the round trip holds)
        consumed = {(d.object_type, org.describe(d.id)[0]) for d in version.consumes if org.describe(d.id)}
        found = {
            (ref.object_type if ref.object_type != "FLOW" else "FLOW", ref.name)
            for ref in document.references
        }
        assert {name for _, name in consumed} == {name for _, name in found}, flow.flow_type
        seen.add(flow.flow_type)
    assert seen == set(FLOW_TYPES) - UNDEPLOYABLE_FLOW_TYPES
