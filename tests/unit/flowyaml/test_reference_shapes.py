"""Each place the Architect YAML format names another object yields a reference with its kind,
name, integration (data actions), object type, locations, and whether it is soft."""

from __future__ import annotations

import textwrap

from flowops.flowyaml import FlowReference, ReferenceKind, parse_flow_yaml


def _refs(body: str, key: str = "inboundCall") -> list[FlowReference]:
    text = f"{key}:\n  name: Shapes\n" + textwrap.indent(textwrap.dedent(body), "  ")
    return parse_flow_yaml(text).references


_MAIN_TASK = """\
startUpRef: ./tasks/task[main]
tasks:
  - task:
      name: Main
      refId: main
      actions:
"""


def _main_task_refs(actions: str) -> list[FlowReference]:
    """The references of an inbound call whose one task, `main`, runs `actions` (a YAML list)."""
    return _refs(_MAIN_TASK + textwrap.indent(textwrap.dedent(actions), " " * 8))


def _one(refs: list[FlowReference], kind: ReferenceKind) -> FlowReference:
    matching = [ref for ref in refs if ref.kind is kind]
    assert len(matching) == 1, refs
    return matching[0]


def test_in_queue_flow_override_on_a_transfer_is_an_in_queue_flow_reference() -> None:
    # Given an ACD transfer that overrides the queue's in-queue flow
    refs = _main_task_refs(
        """
                - transferToAcd:
                    name: Transfer
                    targetQueue:
                      lit:
                        name: Support
                    overrideInQueueFlow:
                      name: Hold With Callback
        """
    )
    # When / Then: the in-queue flow is a reference of type INQUEUECALLFLOW, beside the queue
    flow = _one(refs, ReferenceKind.INQUEUEFLOW)
    assert (flow.name, flow.object_type, flow.soft) == ("Hold With Callback", "INQUEUECALLFLOW", False)
    assert flow.locations == ["/inboundCall/tasks/task[main]/actions[0]/transferToAcd/overrideInQueueFlow"]
    assert _one(refs, ReferenceKind.QUEUE).name == "Support"


def test_in_queue_override_in_a_message_flow_targets_an_in_queue_message_flow() -> None:
    # Given the same override in an inbound message flow
    refs = _refs(
        """
        startUpRef: ./states/state[s]
        states:
          - state:
              name: S
              refId: s
              actions:
                - transferToAcd:
                    name: Transfer
                    targetQueue:
                      lit:
                        name: Chat
                    overrideInQueueFlow:
                      lit:
                        name: Message Hold
        """,
        key="inboundShortMessage",
    )
    # Then its object type follows the media
    assert _one(refs, ReferenceKind.INQUEUEFLOW).object_type == "INQUEUESHORTMESSAGEFLOW"


def test_bot_knowledge_bases_are_read_from_settings_knowledge() -> None:
    # Given a bot flow answering from a named knowledge base
    refs = _refs(
        """
        settingsKnowledge:
          Product FAQ:
            confidenceThreshold: 0.5
        startUpRef: ./bots/bot[b]
        bots:
          - bot:
              name: B
              refId: b
              actions:
                - exitBotFlow:
                    name: Exit
        """,
        key="botFlow",
    )
    # Then the knowledge base is a reference
    kb = _one(refs, ReferenceKind.KNOWLEDGEBASE)
    assert (kb.name, kb.object_type) == ("Product FAQ", "KNOWLEDGEBASE")
    assert kb.locations == ["/botFlow/settingsKnowledge/Product FAQ"]


def test_settings_knowledge_none_names_nothing() -> None:
    refs = _refs("settingsKnowledge:\n  none: true\n", key="botFlow")
    assert [ref for ref in refs if ref.kind is ReferenceKind.KNOWLEDGEBASE] == []


def test_data_actions_carry_their_integration() -> None:
    # Given the same action name under two integrations
    refs = _refs(
        """
        startUpTaskActions:
          - callData:
              name: A
              category:
                Web Services:
                  dataAction:
                    Get Account:
                      inputs: {}
          - callData:
              name: B
              category:
                Legacy Services:
                  dataAction:
                    Get Account:
                      inputs: {}
        """,
        key="commonModule",
    )
    # Then they are two references, each with its integration
    actions = sorted((ref.category, ref.name) for ref in refs if ref.kind is ReferenceKind.DATAACTION)
    assert actions == [("Legacy Services", "Get Account"), ("Web Services", "Get Account")]


def test_audio_shorthand_names_system_and_user_prompts() -> None:
    # Given the short audio forms
    refs = _main_task_refs(
        """
                - holdMusic:
                    name: Hold
                    prompt: PromptSystem.on_hold_music
                - playAudio:
                    name: Greeting
                    audio:
                      - prompt: Prompt.Welcome_Message
                      - tts: Hello
        """
    )
    # Then each prompt is a reference of its kind
    assert _one(refs, ReferenceKind.SYSTEMPROMPT).name == "on_hold_music"
    assert _one(refs, ReferenceKind.USERPROMPT).name == "Welcome_Message"


def test_find_queue_with_a_literal_name_is_soft_and_a_transfer_makes_it_hard() -> None:
    find = """
                - findQueue:
                    name: Find
                    findName:
                      lit: Overflow
                    findResult:
                      var: Task.q
    """
    # Given only a findQueue naming it / Then the reference is soft
    assert _one(_main_task_refs(find), ReferenceKind.QUEUE).soft is True
    # Given also a direct transfer to it / Then it is hard
    transfer = """
                - transferToAcd:
                    name: Transfer
                    targetQueue:
                      lit:
                        name: Overflow
    """
    both = _one(_main_task_refs(find + transfer), ReferenceKind.QUEUE)
    assert both.soft is False
    assert len(both.locations) == 2


def test_default_language_skill_is_a_language_reference() -> None:
    refs = _refs(
        """
        supportedLanguages:
          en-us:
            defaultLanguageSkill:
              lit:
                name: English
        """
    )
    assert (_one(refs, ReferenceKind.LANGUAGE).name, _one(refs, ReferenceKind.LANGUAGE).object_type) == (
        "English",
        "ACDLANGUAGE",
    )
