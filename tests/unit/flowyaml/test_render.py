"""`render_minimal_flow_yaml` round-trips through `parse_flow_yaml`."""

from __future__ import annotations

import pytest

from flowops.flowyaml import (
    FlowReference,
    FlowYamlError,
    ReferenceKind,
    parse_flow_yaml,
    render_minimal_flow_yaml,
)

K = ReferenceKind


def identities(references: list[FlowReference]) -> set[tuple[str, str, str, str]]:
    return {reference.identity for reference in references}


CALL_FLOW_REFERENCES = [
    FlowReference(kind=K.QUEUE, name="Support"),
    FlowReference(kind=K.QUEUE, name="yes"),  # would be a boolean in YAML 1.1
    FlowReference(kind=K.DATAACTION, name="Get Customer", category="Web Services Data Actions"),
    FlowReference(kind=K.DATAACTION, name="Lookup: account #1", category="Genesys Cloud Data Actions"),
    FlowReference(kind=K.COMMONMODULE, name="Authenticate"),
    FlowReference(kind=K.FLOW, name="Payments", object_type="SECURECALLFLOW"),
    FlowReference(kind=K.FLOW, name="Overflow IVR", object_type="INBOUNDCALLFLOW"),
    FlowReference(kind=K.BOT, name="Concierge"),
    FlowReference(kind=K.DATATABLE, name="VIP Numbers"),
    FlowReference(kind=K.SCHEDULE, name="Weekdays"),
    FlowReference(kind=K.SCHEDULEGROUP, name="Office Hours"),
    FlowReference(kind=K.EMERGENCYGROUP, name="Evacuation"),
    FlowReference(kind=K.USERPROMPT, name="Welcome"),
    FlowReference(kind=K.SYSTEMPROMPT, name="on_hold_music"),
    FlowReference(kind=K.SKILL, name="French"),
    FlowReference(kind=K.LANGUAGE, name="en-us"),
    FlowReference(kind=K.USER, name="ann@example.com"),
    FlowReference(kind=K.GROUP, name="Supervisors"),
    FlowReference(kind=K.WRAPUPCODE, name="Resolved"),
    FlowReference(kind=K.SCRIPT, name="Customer Card"),
]


def test_call_flow_round_trip() -> None:
    # Given every kind an inbound call flow can hold
    # When rendered and parsed back
    text = render_minimal_flow_yaml("INBOUNDCALL", "Main IVR", CALL_FLOW_REFERENCES)
    document = parse_flow_yaml(text)
    # Then the same references come back, and the flow is well formed
    assert identities(document.references) == identities(CALL_FLOW_REFERENCES)
    assert (document.flow_type, document.name, document.division) == ("INBOUNDCALL", "Main IVR", "Home")
    assert document.unreachable_tasks == []
    assert document.structure.dangling_refs == []


@pytest.mark.parametrize(
    ("flow_type", "references"),
    [
        (
            "COMMONMODULE",
            [FlowReference(kind=K.DATAACTION, name="A", category="I"), FlowReference(kind=K.QUEUE, name="Q")],
        ),
        ("WORKFLOW", [FlowReference(kind=K.DATATABLE, name="T"), FlowReference(kind=K.QUEUE, name="Q")]),
        (
            "INBOUNDSHORTMESSAGE",
            [
                FlowReference(kind=K.DIGITALBOT, name="Bot"),
                FlowReference(kind=K.FLOW, name="Other Messaging", object_type="INBOUNDSHORTMESSAGEFLOW"),
                FlowReference(kind=K.QUEUE, name="{{queue_name}}"),
            ],
        ),
        ("WORKITEM", [FlowReference(kind=K.WORKTYPE, name="Claims"), FlowReference(kind=K.QUEUE, name="Q")]),
        (
            "OUTBOUNDCALL",
            [FlowReference(kind=K.CONTACTLIST, name="Leads"), FlowReference(kind=K.WRAPUPCODE, name="W")],
        ),
        (
            "BOT",
            [
                FlowReference(kind=K.DATAACTION, name="Slots", category="Lambda"),
                FlowReference(kind=K.QUEUE, name="Q"),
            ],
        ),
        ("DIGITALBOT", [FlowReference(kind=K.QUEUE, name="Books")]),
        ("INBOUNDEMAIL", [FlowReference(kind=K.FLOW, name="Mail 2", object_type="INBOUNDEMAILFLOW")]),
        ("inqueueCall", [FlowReference(kind=K.SYSTEMPROMPT, name="on_hold_music")]),
    ],
)
def test_round_trip_per_flow_type(flow_type: str, references: list[FlowReference]) -> None:
    # Given references a flow of this type can hold / When rendered and parsed back
    document = parse_flow_yaml(render_minimal_flow_yaml(flow_type, "Generated", references))
    # Then the references are the same
    assert identities(document.references) == identities(references)
    assert document.unreachable_tasks == []
    assert document.structure.start is not None


@pytest.mark.parametrize(
    ("flow_type", "reference"),
    [
        ("COMMONMODULE", FlowReference(kind=K.COMMONMODULE, name="Nested")),
        ("WORKFLOW", FlowReference(kind=K.USERPROMPT, name="Welcome")),
        ("INBOUNDCALL", FlowReference(kind=K.USERPROMPT, name="not a prompt name")),
        ("INBOUNDCALL", FlowReference(kind=K.WORKTYPE, name="Claims")),
        ("INBOUNDCALL", FlowReference(kind=K.KNOWLEDGEBASE, name="FAQ")),
        ("INBOUNDSHORTMESSAGE", FlowReference(kind=K.FLOW, name="Secure", object_type="SECURECALLFLOW")),
    ],
)
def test_references_a_flow_type_cannot_hold_are_refused(flow_type: str, reference: FlowReference) -> None:
    with pytest.raises(FlowYamlError, match="cannot render"):
        render_minimal_flow_yaml(flow_type, "Generated", [reference])


def test_unknown_flow_type_is_refused() -> None:
    with pytest.raises(FlowYamlError, match="unknown flow type"):
        render_minimal_flow_yaml("FAXFLOW", "Generated", [])


def test_rendering_is_deterministic_whatever_the_input_order() -> None:
    forward = render_minimal_flow_yaml("INBOUNDCALL", "IVR", CALL_FLOW_REFERENCES)
    backward = render_minimal_flow_yaml("INBOUNDCALL", "IVR", list(reversed(CALL_FLOW_REFERENCES)))
    assert forward == backward


def test_a_data_action_without_category_goes_to_the_default_integration() -> None:
    text = render_minimal_flow_yaml("WORKFLOW", "W", [FlowReference(kind=K.DATAACTION, name="Get Agent")])
    (reference,) = parse_flow_yaml(text).references
    assert (reference.name, reference.category) == ("Get Agent", "Genesys Cloud Data Actions")


def test_in_queue_flows_and_knowledge_bases_render_and_read_back() -> None:
    from flowops.flowyaml import FlowReference, ReferenceKind, parse_flow_yaml, render_minimal_flow_yaml

    # Given an in-queue flow override in a call flow and a knowledge base in a bot flow
    call = render_minimal_flow_yaml(
        "INBOUNDCALL", "Main", [FlowReference(kind=ReferenceKind.INQUEUEFLOW, name="Hold Flow")]
    )
    bot = render_minimal_flow_yaml(
        "BOT", "Bot", [FlowReference(kind=ReferenceKind.KNOWLEDGEBASE, name="FAQ")]
    )
    # When read back / Then exactly those references come out
    assert [(r.kind, r.name, r.object_type) for r in parse_flow_yaml(call).references] == [
        (ReferenceKind.INQUEUEFLOW, "Hold Flow", "INQUEUECALLFLOW")
    ]
    assert [(r.kind, r.name) for r in parse_flow_yaml(bot).references] == [
        (ReferenceKind.KNOWLEDGEBASE, "FAQ")
    ]
