"""Control structure: start, edges, unreachable tasks, dangling refs."""

from __future__ import annotations

import textwrap

from flowops.flowyaml import NodeKind, parse_flow_yaml
from tests.unit.flowyaml._fixtures import fixture_text

HAND_MADE = textwrap.dedent(
    """
    inboundCall:
      name: Structure
      startUpRef: "/inboundCall/menus/menu[Main_1]"
      settingsErrorHandling:
        errorHandling:
          jumpToTask:
            targetTaskRef: "/inboundCall/tasks/task[OnError_9]"
      menus:
        - menu:
            name: Main
            refId: Main_1
            choices:
              - menuJumpToTask:
                  name: Billing
                  dtmf: digit_1
                  targetTaskRef: "/inboundCall/tasks/task[Billing_2]"
              - menuJumpToMenu:
                  name: More
                  dtmf: digit_2
                  targetMenuRef: "./menus/menu[More_3]"
        - menu:
            name: More
            refId: More_3
            choices:
              - menuDisconnect:
                  name: Bye
      tasks:
        - task:
            name: Billing
            refId: Billing_2
            actions:
              - callTask:
                  targetTaskRef: "/inboundCall/tasks/task[Helper_4]"
              - decision:
                  condition:
                    exp: true
                  outputs:
                    yes:
                      actions:
                        - jumpToTask:
                            targetTaskRef: "/inboundCall/tasks/task[Deleted_99]"
              - disconnect:
                  name: End
              - jumpToTask:
                  name: Dead code after a disconnect
                  targetTaskRef: "/inboundCall/tasks/task[Orphan_5]"
        - task:
            name: Helper
            refId: Helper_4
            actions:
              - endTask:
                  name: Done
        - task:
            name: Orphan
            refId: Orphan_5
            actions:
              - disconnect: {}
        - task:
            name: OnError
            refId: OnError_9
            actions:
              - disconnect: {}
    """
)


def test_unreachable_task_is_detected() -> None:
    # Given a flow whose Orphan task is only named after a disconnect (dead code)
    # When parsed
    document = parse_flow_yaml(HAND_MADE)
    # Then Orphan is unreachable, while tasks reached by menu, callTask, submenu and
    # error handling are not
    assert document.unreachable_tasks == ["task:Orphan_5"]
    assert document.structure.start == "menu:Main_1"
    assert document.structure.entry_points == ["menu:Main_1", "task:OnError_9"]


def test_jump_to_a_missing_task_is_a_dangling_ref() -> None:
    document = parse_flow_yaml(HAND_MADE)
    assert [ref.ref for ref in document.structure.dangling_refs] == ["/inboundCall/tasks/task[Deleted_99]"]
    assert document.structure.dangling_refs[0].location.endswith("/jumpToTask/targetTaskRef")


def test_edges_follow_sequence_outputs_and_jumps() -> None:
    # Given the hand-made flow / When parsed
    structure = parse_flow_yaml(HAND_MADE).structure
    edges = {(edge.source, edge.target, edge.label) for edge in structure.edges}
    billing = "/inboundCall/tasks/task[Billing_2]/actions"
    # Then: container -> first action, action -> next, output path, callTask jump, menu choices
    assert ("task:Billing_2", f"{billing}[0]/callTask", "start") in edges
    assert (f"{billing}[0]/callTask", "task:Helper_4", "callTask") in edges
    assert (f"{billing}[0]/callTask", f"{billing}[1]/decision", "next") in edges
    assert (
        f"{billing}[1]/decision",
        f"{billing}[1]/decision/outputs/yes/actions[0]/jumpToTask",
        "yes",
    ) in edges
    assert ("menu:Main_1", "/inboundCall/menus/menu[Main_1]/choices[1]", "choice") in edges
    assert ("/inboundCall/menus/menu[Main_1]/choices[1]", "menu:More_3", "menuJumpToMenu") in edges
    # and nothing follows the disconnect
    assert not [e for e in edges if e[0] == f"{billing}[2]/disconnect"]
    kinds = {node.id: node.kind for node in structure.nodes}
    assert kinds["task:Orphan_5"] is NodeKind.TASK
    assert kinds[f"{billing}[3]/jumpToTask"] is NodeKind.ACTION


def test_states_tasks_and_change_state_in_a_real_workflow() -> None:
    # Given the 620-line transcript workflow (states + a task called from a state)
    document = parse_flow_yaml(
        fixture_text("send-message-transcript-by-email__send-message-transcript-to-customer-by-email.yaml")
    )
    structure = document.structure
    # When walking from the start / Then every state and the task are reached
    assert structure.start == "state:Provision Flow_10"
    reached = structure.reachable_from(structure.entry_points)
    containers = {node.id for node in structure.containers()}
    assert "task:Resolve External Contact_141" in containers
    assert containers <= reached
    assert document.unreachable_tasks == []


def test_workitem_call_tasks_inside_switch_cases_reach_all_tasks() -> None:
    # Given the workitem flow whose callTask actions sit in switch cases
    document = parse_flow_yaml(fixture_text("process-automation-workitem-blueprint__WorkitemFlow.yaml"))
    # When parsed / Then all seven tasks are reached through callTask edges
    call_edges = [edge for edge in document.structure.edges if edge.label == "callTask"]
    assert len({edge.target for edge in call_edges}) == 7
    assert document.unreachable_tasks == []


def test_startup_task_actions_are_the_start_of_modules() -> None:
    # Given a common module with startUpTaskActions and no startUpRef
    document = parse_flow_yaml(
        fixture_text("merge-ephemeral-message-to-external-contact-blueprint__ResolveContact.yaml")
    )
    # When parsed / Then the start is the startup pseudo-task
    assert document.structure.start == "startup"
    assert document.structure.successors("startup") == ["/commonModule/startUpTaskActions[0]/callData"]


def test_without_a_start_nothing_is_called_unreachable() -> None:
    # Given tasks but no startUpRef / When parsed / Then unreachable is not guessed
    text = "inboundCall:\n  name: X\n  tasks:\n    - task:\n        refId: A_1\n        actions: []\n"
    document = parse_flow_yaml(text)
    assert document.structure.start is None
    assert document.unreachable_tasks == []
