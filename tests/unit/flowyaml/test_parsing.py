"""YAML quirks, placeholders and errors of `parse_flow_yaml`."""

from __future__ import annotations

import textwrap

import pytest

from flowops.flowyaml import FlowYamlError, ReferenceKind, SubstitutionSet, parse_flow_yaml
from tests.unit.flowyaml._fixtures import fixture_text


def flow(body: str, key: str = "inboundCall") -> str:
    return f"{key}:\n" + textwrap.indent(textwrap.dedent(body).strip("\n"), "  ") + "\n"


MINIMAL_TASK_FLOW = flow(
    """
    name: Quirks
    startUpRef: ./tasks/task[Main_1]
    tasks:
      - task:
          name: Main
          refId: Main_1
          actions:
            - decision:
                condition:
                  exp: true
                outputs:
                  yes:
                    actions:
                      - transferToAcd:
                          targetQueue:
                            lit:
                              name: Yes Queue
                  no:
                    actions:
                      - disconnect:
                          name: Bye
            - collectInput:
                speechRecTerms:
                  en-us:
                    terms:
                      - yes
                      - no
                      - on
                      - off
    """
)


def test_yes_no_keys_stay_strings_and_values_are_not_booleans() -> None:
    # Given unquoted yes:/no: output keys and yes/no/on/off terms (YAML 1.1 booleans)
    # When parsed
    document = parse_flow_yaml(MINIMAL_TASK_FLOW)

    # Then the keys are the strings Architect means, and so are the values
    actions = document.raw["inboundCall"]["tasks"][0]["task"]["actions"]
    assert set(actions[0]["decision"]["outputs"]) == {"yes", "no"}
    assert actions[1]["collectInput"]["speechRecTerms"]["en-us"]["terms"] == ["yes", "no", "on", "off"]
    # ...while true stays a boolean
    assert actions[0]["decision"]["condition"]["exp"] is True
    # and the structure follows the yes/no paths
    labels = {edge.label for edge in document.structure.edges}
    assert {"yes", "no"} <= labels


def test_real_fixture_yes_no_outputs_survive() -> None:
    # Given the CRLF cache example with unquoted yes:/no: decision outputs
    document = parse_flow_yaml(
        fixture_text("design-architect-flow-data-actions-for-resiliency__CacheExampleFlow.yaml")
    )
    # When looking at the first decision / Then its outputs are keyed "yes" and "no"
    found = document.raw["inboundCall"]["tasks"][0]["task"]["actions"][0]["dataTableLookup"]["outputs"][
        "found"
    ]
    assert set(found["actions"][0]["decision"]["outputs"]) == {"yes", "no"}
    # and the callback fixture's speech terms stay "yes"/"no" strings
    connect = parse_flow_yaml(fixture_text("automated-callback-blueprint__Proactive_callback_connect.yaml"))
    choices = connect.raw["outboundCall"]["menus"][0]["menu"]["choices"]
    assert [c["menuTask"]["speechRecTerms"]["en-us"]["terms"] for c in choices] == [["no"], ["yes"]]


def test_yaml_1_2_scalars_no_dates_no_sexagesimal_no_octal() -> None:
    # Given values YAML 1.1 would turn into a date, base-60 and octal numbers
    text = flow(
        """
        name: Scalars
        description: 2024-01-01
        startUpTaskActions:
          - wait:
              duration: 1:30
              count: 010
              hex: 0x1F
        """,
        key="inqueueCall",
    )
    # When parsed
    wait = parse_flow_yaml(text).raw["inqueueCall"]["startUpTaskActions"][0]["wait"]
    # Then they are read the YAML 1.2 way
    assert (wait["duration"], wait["count"], wait["hex"]) == ("1:30", 10, 31)
    assert parse_flow_yaml(text).description == "2024-01-01"


def test_settings_action_defaults_are_not_references() -> None:
    # Given settingsActionDefaults keyed by action names, one with action-like content,
    # and one real callData action
    text = flow(
        """
        name: Defaults
        settingsActionDefaults:
          callData:
            processingPrompt:
              noValue: true
            category:
              Not An Integration:
                dataAction:
                  Not A Data Action: {}
          transferToFlowSecure:
            connectTimeout:
              lit:
                seconds: 15
            targetFlow:
              name: Not A Flow
        startUpTaskActions:
          - callData:
              category:
                Real Integration:
                  dataAction:
                    Real Action: {}
        """,
        key="inqueueCall",
    )
    # When parsed
    document = parse_flow_yaml(text)
    # Then only the action is a reference
    assert [(r.kind, r.name, r.category) for r in document.references] == [
        (ReferenceKind.DATAACTION, "Real Action", "Real Integration")
    ]


def test_settings_defaults_in_a_real_fixture_are_not_reported() -> None:
    # Given the Terraform in-queue example whose settingsActionDefaults has callData and
    # transferToFlowSecure keys / When parsed
    document = parse_flow_yaml(
        fixture_text("terraform-provider-genesyscloud__inqueuecall_default_example.yaml")
    )
    # Then no data action or flow reference is reported
    assert {ref.kind for ref in document.references} == {ReferenceKind.SYSTEMPROMPT}


def test_unresolved_placeholder_is_reported_and_keeps_its_text() -> None:
    # Given a placeholder used as an unquoted value, one substituted, one not
    text = flow(
        """
        name: {{flow_name}}
        startUpTaskActions:
          - transferToAcd:
              targetQueue:
                lit:
                  name: {{queue_name}}
        """,
        key="inqueueCall",
    )
    # When only flow_name has a value
    document = parse_flow_yaml(text, {"flow_name": "Support Flow"})
    # Then queue_name is reported and the reference keeps the placeholder text
    assert document.name == "Support Flow"
    assert document.unresolved_placeholders == ["queue_name"]
    assert [ref.name for ref in document.references] == ["{{queue_name}}"]


def test_strict_placeholders_raise_with_the_line() -> None:
    # Given the same text / When parsed strictly without values / Then it fails on line 2
    text = flow("name: {{flow_name}}\nstartUpTaskActions: []", key="inqueueCall")
    with pytest.raises(FlowYamlError) as caught:
        parse_flow_yaml(text, strict_placeholders=True)
    assert caught.value.line == 2
    assert "flow_name" in str(caught.value)


@pytest.mark.parametrize(
    ("template", "value", "reason"),
    [
        ("tts: {{v}}", "Sorry: we failed", "contains ': '"),  # unquoted value needing quotes
        ("tts: {{v}}", "Sorry # try later", "starts a YAML comment"),
        ('tts: "Say {{v}} now"', 'a "quoted" word', "double-quoted"),  # inside double quotes
        ('tts: "Say {{v}} now"', "back\\slash", "double-quoted"),
        ("tts: 'Say {{v}} now'", "it's", "single-quoted"),  # inside single quotes
        ("tts: {{v}}", "*not an alias", "starts with '*'"),  # YAML indicator at the start
        ("tts: {{v}}", "007", "number or null"),  # read as the number 7
        ('exp: \'Append("{{v}}", "x")\'', 'say "hi"', "expression's string literal"),
        ("tts: {{v}}", "two\nlines", "line break"),
    ],
)
def test_values_that_would_change_meaning_are_errors_not_escapes(
    template: str, value: str, reason: str
) -> None:
    # Given a value that Archy and Terraform would insert verbatim where it changes the YAML
    text = flow(f"name: Flow\ninitialGreeting:\n  {template}")
    # When substituted / Then one error naming the key, the line and why (never the value)
    with pytest.raises(FlowYamlError) as caught:
        parse_flow_yaml(text, {"v": value})
    assert reason in str(caught.value) and "'v'" in str(caught.value)
    assert caught.value.line == 4
    assert value not in str(caught.value)


@pytest.mark.parametrize(
    ("template", "value", "expected"),
    [
        ('tts: "{{v}}"', "Sorry: we failed, # try later", "Sorry: we failed, # try later"),
        ("tts: '{{v}}'", '*a "quoted" \\ word', '*a "quoted" \\ word'),
        ("tts: Hello {{v}}", "Ann-Marie", "Hello Ann-Marie"),
        ('exp: "ToAudioTTS(\\"{{v}}\\")"', "no quotes here", 'ToAudioTTS("no quotes here")'),
    ],
)
def test_safe_values_are_inserted_verbatim_as_archy_does(template: str, value: str, expected: str) -> None:
    text = flow(f"name: Flow\ninitialGreeting:\n  {template}")
    document = parse_flow_yaml(text, {"v": value})
    key = template.split(":", 1)[0]
    assert document.raw["inboundCall"]["initialGreeting"][key] == expected


def test_partial_placeholder_keys_and_dollar_placeholders_substitute() -> None:
    # Given `{{prefix}}-Lambda:` keys (fixture 25) and `${dataAction}` (fixture 19)
    text = fixture_text("set-emergency-group-lambda-blueprint__main_flow.yaml")
    secure = fixture_text(
        "process-participant-attributes-event-triggers-blueprint__EventOrchestrator_Secure_Flow.yaml"
    )
    # When substituted
    values = SubstitutionSet.from_mapping(
        {"prefix": "acme", "clientId": "id", "clientSecret": "s3cret", "groupID": 42, "dataAction": "pay"}
    )
    document = parse_flow_yaml(text, values)
    secure_document = parse_flow_yaml(secure, values)
    # Then the data action names carry the values
    data_actions = document.references_of(ReferenceKind.DATAACTION)
    assert [(r.category, r.name) for r in data_actions] == [("acme-Lambda", "acme-data-action")]
    assert [(r.category, r.name) for r in secure_document.references_of(ReferenceKind.DATAACTION)] == [
        ("pay-Lambda", "pay-data-action")
    ]


def test_placeholders_in_comments_are_ignored() -> None:
    # Given a placeholder only inside a comment
    text = flow("name: Flow # set {{not_needed}} later\nstartUpTaskActions: []", key="inqueueCall")
    # When parsed strictly / Then it is not required
    assert parse_flow_yaml(text, strict_placeholders=True).unresolved_placeholders == []


def test_placeholders_in_block_scalars_are_filled_as_text() -> None:
    # Given a literal block containing a placeholder
    text = flow(
        "name: Flow\ndescription: |\n  Hello {{who}}: welcome\nstartUpTaskActions: []", key="inqueueCall"
    )
    # When substituted / Then the block keeps the value
    assert parse_flow_yaml(text, {"who": "Ann"}).description == "Hello Ann: welcome\n"


def test_malformed_yaml_reports_line_and_column() -> None:
    # Given a mapping value on a line where none is allowed (line 3)
    text = "inboundCall:\n  name: Flow\n  description: a: b\n"
    # When parsed / Then the error names line 3 and suggests quoting
    with pytest.raises(FlowYamlError) as caught:
        parse_flow_yaml(text)
    assert caught.value.line == 3
    assert caught.value.column is not None
    assert caught.value.hint is not None and "quote" in caught.value.hint
    assert str(caught.value).startswith("line 3, column")


def test_tabs_give_a_clear_hint() -> None:
    # Given a tab-indented line / When parsed / Then the hint talks about tabs
    with pytest.raises(FlowYamlError) as caught:
        parse_flow_yaml("inboundCall:\n\tname: Flow\n")
    assert caught.value.line == 2
    assert "tabs" in (caught.value.hint or "")


def test_duplicate_keys_are_rejected_like_archy_does() -> None:
    with pytest.raises(FlowYamlError) as caught:
        parse_flow_yaml("inboundCall:\n  name: A\n  name: B\n")
    assert caught.value.line == 3
    assert "duplicate key 'name'" in str(caught.value)


def test_unknown_top_level_key_lists_the_known_ones() -> None:
    # Given a misspelled flow type / When parsed
    with pytest.raises(FlowYamlError) as caught:
        parse_flow_yaml("# comment\ninboundCal:\n  name: Flow\n")
    # Then the error names it, its line, and the known keys
    message = str(caught.value)
    assert "unknown top-level key 'inboundCal'" in message
    assert caught.value.line == 2
    assert "inboundCall" in message and "workitem" in message


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "empty"),
        ("- a\n- b\n", "not a mapping"),
        ("inboundCall: just text\n", "must be a mapping"),
        ("inboundCall:\n  description: no name\n", "has no name"),
        ("inboundCall:\n  name: A\nworkflow:\n  name: B\n", "one flow type"),
    ],
)
def test_documents_that_are_not_flows_are_rejected(text: str, needle: str) -> None:
    with pytest.raises(FlowYamlError, match=needle):
        parse_flow_yaml(text)


def test_camel_cased_in_queue_key_is_accepted() -> None:
    # Given the `inQueueCall` spelling of Archy's `inqueueCall` / When parsed / Then typed right
    document = parse_flow_yaml("inQueueCall:\n  name: Hold\n  startUpTaskActions: []\n")
    assert (document.flow_type, document.object_type) == ("INQUEUECALL", "INQUEUECALLFLOW")


def test_expression_references_literal_lookups_prompts_and_dynamic_ones() -> None:
    # Given expressions with literal lookups, prompts, a prompt-like string and dynamic picks
    text = flow(
        """
        name: Expressions
        startUpTaskActions:
          - playAudio:
              audio:
                exp: 'Append(ToAudio(Prompt.Welcome), ToAudio(PromptSystem.beep), ToAudioTTS("Prompt.No"))'
          - transferToAcd:
              targetQueue:
                exp: 'FindQueue("Sales \\"EU\\"")'
              acdSkills:
                - acdSkill:
                    exp: FindSkill(Flow.skill)
                - acdSkill:
                    lit:
                      name: French
              languageSkill:
                exp: Flow.language
          - evaluateScheduleGroup:
              scheduleGroup:
                exp: ToScheduleGroup(NOT_SET)
        """,
        key="inqueueCall",
    )
    # When parsed
    document = parse_flow_yaml(text)
    # Then literal forms are references, run-time picks are dynamic, NOT_SET is nothing
    assert {(r.kind, r.name) for r in document.references} == {
        (ReferenceKind.USERPROMPT, "Welcome"),
        (ReferenceKind.SYSTEMPROMPT, "beep"),
        (ReferenceKind.QUEUE, 'Sales "EU"'),
        (ReferenceKind.SKILL, "French"),
    }
    assert {(d.kind, d.expression) for d in document.dynamic_references} == {
        (ReferenceKind.SKILL, "FindSkill(Flow.skill)"),
        (ReferenceKind.LANGUAGE, "Flow.language"),
    }


def test_substitution_values_never_show_in_reprs() -> None:
    # Given a substitution set holding a secret / When printed / Then only keys show
    values = SubstitutionSet.from_mapping({"clientSecret": "hunter2-very-secret"})
    assert "hunter2" not in repr(values)
    assert "hunter2" not in str(values)
    assert "clientSecret" in repr(values)


def test_non_text_input_is_a_flow_yaml_error() -> None:
    with pytest.raises(FlowYamlError):
        parse_flow_yaml(b"inboundCall: {}")  # type: ignore[arg-type]
