"""Validation resolves every object a flow YAML names against the live org (the simulator, over
HTTP, through each object's own API), as Architect does when it publishes.

Given a flow naming one object of every kind: with all of them in the org it is valid with no
warnings; with each one missing, there is one error per object, in Architect's words.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from flowops.clock import ScaledClock
from flowops.genesys import ClientCredentials, GenesysClient
from flowops.local.simulator import SimulatorServer
from flowops.local.simulator.orgfile import parse_org_document
from flowops.lock.models import LockedFlow, Lockfile
from flowops.publish.models import PublishRunRequest
from flowops.publish.validate import validate_publish
from tests.helpers.simulator import StartSimulator

TIME_SCALE = 600.0

# (object type, name, extra fields) of every non-flow object the flow names
OBJECTS: list[tuple[str, str, dict[str, Any]]] = [
    ("QUEUE", "Support", {}),
    ("ACDSKILL", "Billing", {}),
    ("ACDLANGUAGE", "French", {}),
    ("ACDWRAPUPCODE", "Resolved", {}),
    ("DATAACTION", "Get Account ", {"category": "CRM Actions"}),  # trailing space is part of the name
    ("USERPROMPT", "Welcome_Prompt", {}),
    ("SCHEDULE", "Weekdays", {}),
    ("SCHEDULEGROUP", "Office Hours", {}),
    ("EMERGENCYGROUP", "Evacuation", {}),
    ("DATATABLE", "Customers", {}),
    ("USER", "Ada Lovelace", {}),
    ("GROUP", "Supervisors", {}),
]
# (flow type, name) of every flow the flow names
FLOWS: list[tuple[str, str]] = [
    ("COMMONMODULE", "Shared Menu"),
    ("INQUEUECALL", "Hold With Callback"),
    ("BOT", "Order Bot"),
    ("INBOUNDCALL", "Overflow IVR"),
]

FLOW_YAML = """\
inboundCall:
  name: Main IVR
  defaultLanguage: en-us
  supportedLanguages:
    en-us:
      defaultLanguageSkill:
        lit:
          name: French
  startUpRef: /inboundCall/tasks/task[main]
  initialGreeting:
    exp: AudioPlaybackOptions(ToAudio(Prompt.Welcome_Prompt), true)
  variables:
    - acdSkillVariable:
        name: Flow.Skill
        initialValue:
          lit:
            name: Billing
    - wrapupCodeVariable:
        name: Flow.Wrapup
        initialValue:
          lit:
            name: Resolved
    - userVariable:
        name: Flow.Agent
        initialValue:
          lit:
            name: Ada Lovelace
    - groupVariable:
        name: Flow.Team
        initialValue:
          lit:
            name: Supervisors
  tasks:
    - task:
        name: Main
        refId: main
        actions:
          - holdMusic:
              name: Hold
              prompt: PromptSystem.on_hold_music
          - evaluateSchedule:
              name: Hours
              evaluationType:
                schedule:
                  selectedSchedule:
                    lit:
                      name: Weekdays
                  evaluate:
                    now: true
          - evaluateScheduleGroup:
              name: Groups
              evaluate:
                now: true
              scheduleGroup:
                lit:
                  name: Office Hours
              emergencyGroup:
                lit:
                  name: Evacuation
          - dataTableLookup:
              name: Look up
              lookupValue:
                exp: Call.Ani
              dataTable:
                Customers: {}
          - callData:
              name: Account
              category:
                CRM Actions:
                  dataAction:
                    "Get Account ":
                      inputs: {}
          - callCommonModule:
              name: Menu
              commonModule:
                Shared Menu:
                  ver_latestPublished:
                    none: true
          - callBotFlow:
              name: Bot
              botFlow:
                Order Bot:
                  ver_latestPublished:
                    none: true
          - transferToAcd:
              name: To support
              targetQueue:
                lit:
                  name: Support
              overrideInQueueFlow:
                name: Hold With Callback
          - transferToFlow:
              name: Overflow
              targetFlow:
                name: Overflow IVR
"""


def org_document(*, omit: str | None = None) -> dict[str, Any]:
    objects = [
        {"id": f"obj-{index}", "name": name, "type": object_type, **extra}
        for index, (object_type, name, extra) in enumerate(OBJECTS)
        if name != omit
    ]
    flows = [
        {"id": f"flow-{index}", "name": name, "type": flow_type, "publishedVersion": "1.0"}
        for index, (flow_type, name) in enumerate(FLOWS)
        if name != omit
    ]
    flows.append({"id": "main", "name": "Main IVR", "type": "INBOUNDCALL", "publishedVersion": "1.0"})
    return {"flows": flows, "objects": objects}


def lock() -> Lockfile:
    # The lock knows only the target flow: every other object is checked live, not from the lock.
    return Lockfile(
        org="dev",
        flows=[LockedFlow(id="main", name="Main IVR", type="INBOUNDCALL", published_version="1.0")],
        objects=[],
    )


def request() -> PublishRunRequest:
    return PublishRunRequest.model_validate(
        {
            "delivery_id": "d-1",
            "execution_name": "run-1",
            "org": "dev",
            "environment": "test",
            "flow": {"id": "main", "name": None, "type": None},
            "source": {"kind": "inline", "yaml": FLOW_YAML},
            "force_unlock": False,
            "allow_drift": False,
            "requester": "ci",
            "reason": "integration test",
            "received_at": "2025-01-06T00:00:00+00:00",
        }
    )


@pytest.fixture
def client_for(start_simulator: StartSimulator) -> Iterator[Any]:
    clients: list[GenesysClient] = []

    def make(document: dict[str, Any]) -> GenesysClient:
        clock = ScaledClock(TIME_SCALE)
        sim: SimulatorServer = start_simulator(
            parse_org_document(document, now=clock.now()), time_scale=TIME_SCALE
        )
        client = GenesysClient(
            ClientCredentials(client_id="local", client_secret="local"),  # type: ignore[arg-type]
            base_url=sim.url,
            clock=clock,
            session=requests.Session(),
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def test_every_named_object_present_is_valid_with_no_warnings(client_for: Any) -> None:
    # Given an org holding every object and flow the YAML names
    client = client_for(org_document())
    # When the YAML is validated
    result = validate_publish(request(), genesys=client, lock=lock(), yaml_text=FLOW_YAML)
    # Then there is nothing to report, and each reference resolved to a live id
    assert result.report.errors == [] and result.report.warnings == [], result.report.summary()
    assert result.report.references == len(OBJECTS) + len(FLOWS) + 1  # + the system prompt
    assert {r.id for r in result.resolved} >= {f"obj-{i}" for i in range(len(OBJECTS))}


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        *[
            (name, f"Unable to find a {word} named '{name}'")
            for (_, name, _), word in zip(
                OBJECTS,
                [
                    "queue",
                    "skill",
                    "language skill",
                    "wrapup code",
                    "data action",
                    "user prompt",
                    "schedule",
                    "schedule group",
                    "emergency group",
                    "data table",
                    "user",
                    "group",
                ],
                strict=True,
            )
        ],
        *[(name, "no such flow in the org") for _, name in FLOWS],
    ],
)
def test_each_missing_object_is_one_error_naming_it(client_for: Any, missing: str, message: str) -> None:
    # Given the same org without one of the objects
    client = client_for(org_document(omit=missing))
    # When the YAML is validated
    result = validate_publish(request(), genesys=client, lock=lock(), yaml_text=FLOW_YAML)
    # Then exactly one error, naming that object
    (error,) = result.report.errors
    assert error.code == "REFERENCE_NOT_FOUND"
    assert repr(missing) in error.object and message in error.message
    assert result.report.warnings == []


def test_data_action_names_match_exactly_and_within_their_integration(client_for: Any) -> None:
    # Given the action is called "Get Account" (no trailing space) in the org
    document = org_document()
    for obj in document["objects"]:
        if obj["type"] == "DATAACTION":
            obj["name"] = "Get Account"
    client = client_for(document)
    # When validated / Then the YAML's "Get Account " does not resolve, and the hint names the near miss
    (error,) = validate_publish(request(), genesys=client, lock=lock(), yaml_text=FLOW_YAML).report.errors
    assert error.message == "Unable to find a data action named 'Get Account ' in category 'CRM Actions'."
    assert "'Get Account'" in error.hint


def test_an_unknown_system_prompt_is_an_error(client_for: Any) -> None:
    client = client_for(org_document())
    text = FLOW_YAML.replace("PromptSystem.on_hold_music", "PromptSystem.no_such_prompt")
    (error,) = validate_publish(request(), genesys=client, lock=lock(), yaml_text=text).report.errors
    assert error.message == "Unable to find a system prompt named 'no_such_prompt'."


def test_lookups_are_batched_and_cached_per_run(client_for: Any) -> None:
    # Given the flow names 12 objects, 4 flows and a system prompt
    client = client_for(org_document())
    validate_publish(request(), genesys=client, lock=lock(), yaml_text=FLOW_YAML)
    calls = client.api_calls
    # Then each object API is asked once (one integration, one call per name) and nothing twice
    object_calls = {
        op: n for op, n in calls.items() if not op.startswith(("POST /oauth", "GET /api/v2/flows"))
    }
    assert all(count == 1 for count in object_calls.values()), object_calls
    assert calls["GET /api/v2/integrations/actions"] == 1


def test_a_generated_org_serves_every_kind_through_its_own_api(start_simulator: StartSimulator) -> None:
    from flowops.local.simulator import generate_org

    # Given a generated org (it holds objects of every kind the lookups serve)
    clock = ScaledClock(TIME_SCALE)
    org = generate_org(40, seed=3, now=clock.now())
    sim = start_simulator(org, time_scale=TIME_SCALE)
    client = GenesysClient(
        ClientCredentials(client_id="local", client_secret="local"),  # type: ignore[arg-type]
        base_url=sim.url,
        clock=clock,
        session=requests.Session(),
    )
    kinds = {o.object_type for o in org.objects.values() if not o.deleted} - {"DATAACTION"}
    assert kinds >= {
        "QUEUE",
        "ACDLANGUAGE",
        "ACDWRAPUPCODE",
        "EMERGENCYGROUP",
        "KNOWLEDGEBASE",
        "USER",
        "GROUP",
    }
    for object_type in sorted(kinds):
        obj = next(o for o in org.objects.values() if o.object_type == object_type and not o.deleted)
        # When it is looked up by name / Then its own endpoint answers with it
        found = client.find_objects_named(object_type, [obj.name])
        assert obj.id in {candidate.id for candidate in found}, object_type
    client.close()
