"""Every real Architect flow file parses and yields the references SOURCES.md lists for it.

The table below encodes fixtures/SOURCES.md. Where SOURCES.md is vague ("callData x3") the
concrete names were read from the file. Names are given as written in the file: placeholder
names keep their `{{key}}` text when no substitution is supplied.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest

from flowops.flowyaml import FlowDocument, ReferenceKind, parse_flow_yaml
from flowops.flowyaml.substitutions import PLACEHOLDER_PATTERN, placeholder_key
from tests.unit.flowyaml._fixtures import all_fixture_names, fixture_text

Q = ReferenceKind.QUEUE
DA = ReferenceKind.DATAACTION

# (kind, name, category-or-None, object_type)
Ref = tuple[ReferenceKind, str, str | None, str]


def queue(name: str) -> Ref:
    return (Q, name, None, "QUEUE")


def data_action(category: str, name: str) -> Ref:
    return (DA, name, category, "DATAACTION")


@dataclass(frozen=True)
class Expectation:
    file: str
    yaml_key: str
    flow_type: str
    object_type: str
    name: str
    references: frozenset[Ref]
    invalid_before_substitution: bool = False
    unreachable: tuple[str, ...] = ()
    dynamic_kinds: frozenset[ReferenceKind] = field(default_factory=frozenset)
    soft: frozenset[str] = frozenset()
    """Names only ever used by Find actions (Architect's notFound path): soft references."""


EXPECTATIONS: tuple[Expectation, ...] = (
    Expectation(  # 1
        "terraform-provider-genesyscloud__inboundcall_flow_example_substitutions.yaml",
        "inboundCall",
        "INBOUNDCALL",
        "INBOUNDCALLFLOW",
        "{{flow_name}}",
        frozenset(),
    ),
    Expectation(  # 2
        "terraform-provider-genesyscloud__outboundcall_flow_example.yaml",
        "outboundCall",
        "OUTBOUNDCALL",
        "OUTBOUNDCALLFLOW",
        "{{flow_name}}",
        frozenset(
            {
                (ReferenceKind.CONTACTLIST, "{{contact_list_name}}", None, "CONTACTLIST"),
                (ReferenceKind.WRAPUPCODE, "{{wrapup_code_name}}", None, "ACDWRAPUPCODE"),
            }
        ),
    ),
    Expectation(  # 3
        "terraform-provider-genesyscloud__inqueuecall_default_example.yaml",
        "inqueueCall",
        "INQUEUECALL",
        "INQUEUECALLFLOW",
        "In-Queue Flow",
        frozenset({(ReferenceKind.SYSTEMPROMPT, "on_hold_music", None, "SYSTEMPROMPT")}),
    ),
    Expectation(  # 4 (CRLF)
        "design-architect-flow-data-actions-for-resiliency__CacheExampleFlow.yaml",
        "inboundCall",
        "INBOUNDCALL",
        "INBOUNDCALLFLOW",
        "Cache Example",
        frozenset(
            {
                (ReferenceKind.DATATABLE, "IVR Cache", None, "DATATABLE"),
                data_action("PureCloud Data Actions", "Get On Queue Agent Counts"),
                data_action("PureCloud Data Actions", "Insert IVR Cache Entry"),
                data_action("PureCloud Data Actions", "Update IVR Cache Entry"),
                queue("Services"),  # queueVariable initialValue lit name
            }
        ),
        dynamic_kinds=frozenset({Q}),  # transferToAcd.targetQueue: exp: Task.Queue
    ),
    Expectation(  # 5
        "architect-flow-public-api-blueprint__archy_flow.yml",
        "inboundCall",
        "INBOUNDCALL",
        "INBOUNDCALLFLOW",
        "Queue Members Check",
        frozenset(
            {
                queue("Primary Queue Example"),  # findQueue.findName.lit
                queue("Secondary Queue Example"),
                data_action("Genesys Cloud Data Actions", "Agents Logged Into Queue"),
            }
        ),
        dynamic_kinds=frozenset({Q}),  # exp: Task.PrimaryQueue
        soft=frozenset({"Primary Queue Example"}),  # only findQueue names it
    ),
    Expectation(  # 6
        "dr-fallback-ivr__DR-Emergency-IVR.yaml",
        "inboundCall",
        "INBOUNDCALL",
        "INBOUNDCALLFLOW",
        "DR-Emergency-IVR",
        frozenset(
            {
                (
                    ReferenceKind.EMERGENCYGROUP,
                    "Organization Evacuation Emergency Group",
                    None,
                    "EMERGENCYGROUP",
                ),
                queue("Life Insurance"),
                queue("Annuity"),
                queue("Mutual Funds"),
                queue("Brokerage"),
                queue("Health Insurance"),
                queue("General Help"),  # transferToAcd and transferToVoicemail
            }
        ),
        invalid_before_substitution=True,
    ),
    Expectation(  # 7
        "simple-ivr-deploy-with-cx-as-code-blueprint__SimpleFinancialIvr_v2-0.yaml",
        "inboundCall",
        "INBOUNDCALL",
        "INBOUNDCALLFLOW",
        "SimpleFinancialIvr",
        frozenset({queue("Simple Financial 401K queue"), queue("Simple Financial IRA queue")}),
    ),
    Expectation(  # 8
        "automated-callback-blueprint__Proactive_callback_offer.yaml",
        "inqueueCall",
        "INQUEUECALL",
        "INQUEUECALLFLOW",
        "Proactive callbacks",
        frozenset(
            {
                (ReferenceKind.FLOW, "Trigger proactive callback workflow", None, "INBOUNDCALLFLOW"),
                data_action("<integrationName>", "Get callbacks waiting"),
                (ReferenceKind.SYSTEMPROMPT, "on_hold_music", None, "SYSTEMPROMPT"),
                queue("<targetQueueName>"),  # settingsErrorHandling.errorHandling.queue.targetQueue
            }
        ),
    ),
    Expectation(  # 9
        "automated-callback-blueprint__Proactive_callback_connect.yaml",
        "outboundCall",
        "OUTBOUNDCALL",
        "OUTBOUNDCALLFLOW",
        "Proactive callback connect",
        frozenset(
            {
                (ReferenceKind.CONTACTLIST, "Proactive callbacks", None, "CONTACTLIST"),
                (ReferenceKind.WRAPUPCODE, "No Answer", None, "ACDWRAPUPCODE"),
                data_action("<integrationName>", "Disconnect callback"),
                queue("<targetQueueName>"),
                (ReferenceKind.SYSTEMPROMPT, "processing", None, "SYSTEMPROMPT"),
            }
        ),
    ),
    Expectation(  # 10
        "merge-ephemeral-message-to-external-contact-blueprint__ResolveContact.yaml",
        "commonModule",
        "COMMONMODULE",
        "COMMONMODULEFLOW",
        "{{module_name}}",
        frozenset(
            {
                data_action(
                    "{{data_action_category}}", "{{fetch_external_contact_by_identifier_data_action}}"
                ),
                data_action(
                    "{{data_action_category}}",
                    "{{get_external_contact_id_for_customer_participant_data_action}}",
                ),
                data_action("{{data_action_category}}", "{{merge_external_contacts_data_action}}"),
            }
        ),
        invalid_before_substitution=True,
    ),
    Expectation(  # 11
        "merge-ephemeral-message-to-external-contact-blueprint__MergeExternalContactMessageFlow.yaml",
        "inboundShortMessage",
        "INBOUNDSHORTMESSAGE",
        "INBOUNDSHORTMESSAGEFLOW",
        "{{flow_name}}",
        frozenset(
            {
                (ReferenceKind.COMMONMODULE, "{{common_module_name}}", None, "COMMONMODULEFLOW"),
                (ReferenceKind.BOT, "{{bot_flow_name}}", None, "BOTFLOW"),
                queue("{{queue_name}}"),
            }
        ),
        invalid_before_substitution=True,
    ),
    Expectation(  # 12
        "send-message-transcript-by-email__send-message-transcript-to-customer-by-email.yaml",
        "workflow",
        "WORKFLOW",
        "WORKFLOW",
        "{{workflow_name}}",
        frozenset(
            {
                (ReferenceKind.COMMONMODULE, "{{common_module_name}}", None, "COMMONMODULEFLOW"),
                data_action("{{data_action_category}}", "{{send_agentless_email}}"),
                data_action("{{data_action_category}}", "{{get_message_transcript}}"),
            }
        ),
        invalid_before_substitution=True,
    ),
    Expectation(  # 13
        "webmessaging-chatbot-on-off-hour-schedules__webmessage_flow.yaml",
        "inboundShortMessage",
        "INBOUNDSHORTMESSAGE",
        "INBOUNDSHORTMESSAGEFLOW",
        "chat_bot_hours_differentiator",
        frozenset(
            {
                (ReferenceKind.SCHEDULE, "{{schedule_name}}", None, "SCHEDULE"),
                (ReferenceKind.BOT, "hours_differentiator_webmessage_bot", None, "BOTFLOW"),
                queue("chat11"),
                queue("{{acd_queue_name}}"),
                (ReferenceKind.SCRIPT, "chat_hours_script", None, "COMPOSERSCRIPT"),
            }
        ),
    ),
    Expectation(  # 14
        "dr-webmessaging-blueprint__emergency-group__MyWebMessenger.yaml",
        "inboundShortMessage",
        "INBOUNDSHORTMESSAGE",
        "INBOUNDSHORTMESSAGEFLOW",
        "{{flow_name}}",
        frozenset(
            {
                # emergencyGroup: exp: FindEmergencyGroup("...") -- a literal lookup
                (
                    ReferenceKind.EMERGENCYGROUP,
                    "My Organization Evacuation Emergency Group",
                    None,
                    "EMERGENCYGROUP",
                ),
                (ReferenceKind.BOT, "MyEmergencyChatBot", None, "BOTFLOW"),
                (ReferenceKind.BOT, "MyChatBot", None, "BOTFLOW"),
                data_action("DR Callbacks", "DR Create Callback "),  # the trailing space is in the file
                queue("mychat-general-help"),  # findQueue lit + two transfers
                queue("mychat-life-insurance"),
                queue("mychat-life-annuity"),
                queue("mychat-mutual-funds"),
                queue("mychat-brokerage"),
                queue("mychat-health-insurance"),
            }
        ),
    ),
    Expectation(  # 15
        "deploy-webchat-chatbot-with-lambda-blueprint__DudeWheresMyStuffChat.yaml",
        "inboundChat",
        "INBOUNDCHAT",
        "INBOUNDCHATFLOW",
        "{{flow_name}}",
        frozenset(
            {
                (ReferenceKind.BOT, "DudesWheresMyStuffBot", None, "BOTFLOW"),
                queue("dude-general-support"),
                queue("dude-cancellations"),
                data_action("{{integration_category}}", "{{integration_data_action_name}}"),
            }
        ),
        invalid_before_substitution=True,
        # The "Find Legacy Queue" task is defined but nothing calls it.
        unreachable=("task:Find Legacy Queue_11",),
        dynamic_kinds=frozenset({Q}),  # findQueueById / findQueue on a variable
    ),
    Expectation(  # 16
        "scheduling-bot-blueprint__SchedulingBot.yaml",
        "botFlow",
        "BOT",
        "BOTFLOW",
        "{{bot_name}}",
        frozenset(
            {
                data_action("{{lambda_integration_name}}", "{{get_booking_slots_action_name}}"),
                data_action("{{lambda_integration_name}}", "{{create_booking_action_name}}"),  # called twice
                queue("{{queue_name}}"),
            }
        ),
        invalid_before_substitution=True,
    ),
    Expectation(  # 17
        "process-automation-workitem-blueprint__WorkitemFlow.yaml",
        "workitem",
        "WORKITEM",
        "WORKITEMFLOW",
        "{{workitemflow_name}}",
        frozenset(
            {
                (ReferenceKind.WORKTYPE, "{{worktype_name}}", None, "WORKTYPE"),
                queue("{{customer_service_queue_name}}"),
                queue("{{insurance_claim_queue_name}}"),
            }
        ),
        invalid_before_substitution=True,
    ),
    Expectation(  # 18
        "process-participant-attributes-event-triggers-blueprint__EventOrchestrator_Flow.yaml",
        "inboundCall",
        "INBOUNDCALL",
        "INBOUNDCALLFLOW",
        "Main IVR",
        frozenset({(ReferenceKind.FLOW, "EventOrchestrator Secure Flow", None, "SECURECALLFLOW")}),
    ),
    Expectation(  # 19
        "process-participant-attributes-event-triggers-blueprint__EventOrchestrator_Secure_Flow.yaml",
        "secureCall",
        "SECURECALL",
        "SECURECALLFLOW",
        "EventOrchestrator Secure Flow",
        frozenset({data_action("${dataAction}-Lambda", "${dataAction}-data-action")}),
    ),
    Expectation(  # 20
        "email-aws-comprehend-blueprint__EmailComprehendFlow.yaml",
        "inboundEmail",
        "INBOUNDEMAIL",
        "INBOUNDEMAILFLOW",
        "EmailAWSComprehendFlow",
        frozenset(
            {
                data_action("ComprehendDataAction", "LookupQueueName"),
                queue("GeneralSupport"),  # updateData queue statement, lit name
            }
        ),
        dynamic_kinds=frozenset({Q}),  # findName: exp: State.QueueName, targetQueue: exp
    ),
    Expectation(  # 21
        "switch-voice-to-web-messaging__Switch_from_Voice_Channel_with_Context.yaml",
        "inboundShortMessage",
        "INBOUNDSHORTMESSAGE",
        "INBOUNDSHORTMESSAGEFLOW",
        "{{flow_name}}",
        frozenset(
            {
                data_action("{{data_action_category}}", "{{get_cust_participant_data_data_action}}"),
                data_action("{{data_action_category}}", "{{get_participant_id_data_action}}"),
                data_action("{{data_action_category}}", "{{update_participant_data_data_action}}"),
            }
        ),
        invalid_before_substitution=True,
        # FindQueueById(...), FindSkill(Flow.skills), FindUserById(...): all dynamic
        dynamic_kinds=frozenset({Q, ReferenceKind.SKILL, ReferenceKind.USER}),
    ),
    Expectation(  # 22
        "ani-blacklist__blacklist.yaml",
        "workflow",
        "WORKFLOW",
        "WORKFLOW",
        "{{flow_name}}",
        frozenset(
            {
                (ReferenceKind.DATATABLE, "{{data_table}}", None, "DATATABLE"),
                data_action("{{data_action_category}}", "{{data_action_name}}"),
            }
        ),
        invalid_before_substitution=True,
    ),
    Expectation(  # 23
        "genesys-cloud-cx-as-code-demo__digital-bot.yaml",
        "digitalBot",
        "DIGITALBOT",
        "DIGITALBOTFLOW",
        "Transfer To Queue",
        frozenset({queue("{{book_purchase_queue}}")}),
    ),
    Expectation(  # 24
        "genesys-cloud-cx-as-code-demo__inbound-msg.yaml",
        "inboundShortMessage",
        "INBOUNDSHORTMESSAGE",
        "INBOUNDSHORTMESSAGEFLOW",
        "Transfer To Bot",
        frozenset({(ReferenceKind.DIGITALBOT, "{{bot_flow_name}}", None, "DIGITALBOTFLOW")}),
    ),
    Expectation(  # 25
        "set-emergency-group-lambda-blueprint__main_flow.yaml",
        "inboundCall",
        "INBOUNDCALL",
        "INBOUNDCALLFLOW",
        "{{prefix}}-Call-Flow",
        frozenset(
            {
                data_action("{{prefix}}-Lambda", "{{prefix}}-data-action"),
                (ReferenceKind.SYSTEMPROMPT, "processing", None, "SYSTEMPROMPT"),
            }
        ),
        invalid_before_substitution=True,
    ),
)
BY_FILE = {expectation.file: expectation for expectation in EXPECTATIONS}


def reference_set(document: FlowDocument) -> frozenset[Ref]:
    return frozenset((ref.kind, ref.name, ref.category, ref.object_type) for ref in document.references)


def placeholders_in(text: str) -> set[str]:
    return {placeholder_key(match) for match in PLACEHOLDER_PATTERN.finditer(text)}


def substitute_names(reference: Ref, values: dict[str, str]) -> Ref:
    def fill(text: str) -> str:
        return PLACEHOLDER_PATTERN.sub(lambda match: values[placeholder_key(match)], text)

    kind, name, category, object_type = reference
    return (kind, fill(name), fill(category) if category is not None else None, object_type)


def test_the_table_covers_every_fixture_file() -> None:
    # Given the fixture directory / When listing it / Then each file has an expectation row
    assert sorted(BY_FILE) == all_fixture_names()
    assert len(EXPECTATIONS) == 25


@pytest.mark.parametrize("expectation", EXPECTATIONS, ids=lambda e: e.file.split("__")[-1])
def test_fixture_without_substitutions_keeps_placeholder_names(expectation: Expectation) -> None:
    # Given a real flow file, placeholders unfilled
    text = fixture_text(expectation.file)

    # When it is parsed
    document = parse_flow_yaml(text)

    # Then the flow type, name and references are those SOURCES.md lists
    assert (document.yaml_key, document.flow_type, document.object_type) == (
        expectation.yaml_key,
        expectation.flow_type,
        expectation.object_type,
    )
    assert document.name == expectation.name
    assert reference_set(document) == expectation.references
    assert document.unresolved_placeholders == sorted(placeholders_in(text))
    assert document.unreachable_tasks == list(expectation.unreachable)
    assert {ref.kind for ref in document.dynamic_references} == expectation.dynamic_kinds
    # mychat-general-help is found by findQueue AND transferred to: hard, not soft
    assert {ref.name for ref in document.references if ref.soft} == expectation.soft
    assert document.structure.start is not None
    assert document.structure.dangling_refs == []
    assert all(
        ref.locations and all(loc.startswith(f"/{document.yaml_key}") for loc in ref.locations)
        for ref in document.references
    )


@pytest.mark.parametrize("expectation", EXPECTATIONS, ids=lambda e: e.file.split("__")[-1])
def test_fixture_with_all_substitutions_fills_the_names(expectation: Expectation) -> None:
    # Given a value for every placeholder the file uses
    text = fixture_text(expectation.file)
    values = {key: f"{key} value" for key in placeholders_in(text)}

    # When it is parsed with them
    document = parse_flow_yaml(text, values, strict_placeholders=True)

    # Then nothing is unresolved and the names carry the values
    assert document.unresolved_placeholders == []
    assert reference_set(document) == {substitute_names(ref, values) for ref in expectation.references}
    assert document.name == substitute_names((Q, expectation.name, None, ""), values)[1]


def test_the_files_sources_md_calls_invalid_really_are_invalid_plain_yaml() -> None:
    # Given plain PyYAML / When reading each file as is / Then exactly the flagged ones fail
    import yaml

    failing = set()
    for expectation in EXPECTATIONS:
        try:
            yaml.safe_load(fixture_text(expectation.file))
        except yaml.YAMLError:
            failing.add(expectation.file)
    assert failing == {e.file for e in EXPECTATIONS if e.invalid_before_substitution}


@pytest.mark.parametrize("expectation", EXPECTATIONS, ids=lambda e: e.file.split("__")[-1])
def test_crlf_and_bom_variants_read_the_same(expectation: Expectation) -> None:
    # Given the same file with LF, with CRLF, and with a byte-order mark
    text = fixture_text(expectation.file)
    lf = text.replace("\r\n", "\n")
    crlf = lf.replace("\n", "\r\n")

    # When each is parsed
    from_lf = parse_flow_yaml(lf)
    from_crlf = parse_flow_yaml(crlf)
    from_bom = parse_flow_yaml("\ufeff" + crlf)

    # Then the documents are identical
    assert from_crlf.model_dump() == from_lf.model_dump()
    assert from_bom.model_dump() == from_lf.model_dump()


def test_cache_example_fixture_really_has_crlf_endings() -> None:
    # Given / When reading the raw file / Then the CRLF case is actually exercised
    assert "\r\n" in fixture_text("design-architect-flow-data-actions-for-resiliency__CacheExampleFlow.yaml")


def test_reference_locations_point_at_the_yaml_paths() -> None:
    # Given the public-API blueprint / When parsed
    document = parse_flow_yaml(fixture_text("architect-flow-public-api-blueprint__archy_flow.yml"))
    by_name = {ref.name: ref for ref in document.references}

    # Then locations are Archy-style paths naming tasks by refId and actions by index
    assert by_name["Primary Queue Example"].locations == [
        "/inboundCall/tasks/task[Checking the queues_13]/actions[0]/findQueue/findName"
    ]
    assert by_name["Agents Logged Into Queue"].locations == [
        "/inboundCall/tasks/task[Checking the queues_13]/actions[0]/findQueue"
        "/outputs/found/actions[0]/callData"
    ]


def test_a_name_referenced_several_times_is_one_reference_with_all_locations() -> None:
    # Given the DR web messenger, where mychat-general-help appears three times
    document = parse_flow_yaml(
        fixture_text("dr-webmessaging-blueprint__emergency-group__MyWebMessenger.yaml")
    )

    # When looking at that queue
    (general_help,) = [ref for ref in document.references if ref.name == "mychat-general-help"]

    # Then it is reported once, with three locations, and references are sorted
    assert len(general_help.locations) == 3
    keys = [(ref.kind.value, ref.name) for ref in document.references]
    assert keys == sorted(keys)


def test_placeholder_name_pattern_matches_sources_md_regex() -> None:
    # Given the regex SOURCES.md gives for Archy placeholders / Then ours finds the same keys
    sources_regex = re.compile(r"\{\{\s*([\w.-]+)\s*\}\}")
    for expectation in EXPECTATIONS:
        text = fixture_text(expectation.file)
        curly = {match.group(1) for match in sources_regex.finditer(text)}
        assert curly <= placeholders_in(text)
