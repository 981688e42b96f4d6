"""Validation of a publish request: every check, its stable code, and that nothing changes."""

from __future__ import annotations

from flowops.flowyaml import FlowReference, ReferenceKind, render_minimal_flow_yaml
from flowops.genesys.models import DomainEntityRef, UserRef
from flowops.genesys.objects import NamedObject
from flowops.lock.models import Lockfile
from flowops.publish.validate import ValidationResult, apply_force_unlock, validate_publish
from tests.unit.publish.fakes import FakeGenesys, main_yaml, org_genesys, org_lock, request

SUBSTITUTIONS = {"brand": "Example"}


def validate_yaml(
    yaml: str | None = None, *, genesys: FakeGenesys | None = None, lock: Lockfile | None = None
) -> ValidationResult:
    """Validate `yaml` (default: Main IVR's) as a publish of it, against the example org
    (`org_genesys()`, `org_lock()` unless given) with the environment's SUBSTITUTIONS."""
    text = main_yaml() if yaml is None else yaml
    return validate_publish(
        request(text),
        genesys=org_genesys() if genesys is None else genesys,
        lock=org_lock() if lock is None else lock,
        yaml_text=text,
        substitutions=SUBSTITUTIONS,
    )


def codes(findings: list) -> list[str]:  # type: ignore[type-arg]
    return sorted(finding.code for finding in findings)


def test_valid_yaml_passes_and_is_substituted_for_deployment() -> None:
    # Given the lock, the live org and YAML that only uses existing, published objects
    genesys = org_genesys()
    # When it is validated
    result = validate_yaml(genesys=genesys)
    # Then there are no errors, the YAML to deploy has the environment value, and nothing changed
    assert result.report.ok, result.report.summary()
    assert result.deploy_yaml is not None and "Welcome to Example." in result.deploy_yaml
    assert {r.id for r in result.resolved} == {"q-support", "m-menu"}
    assert genesys.unlocked == []


def test_yaml_for_another_flow_and_a_deleted_queue_are_errors_with_hints() -> None:
    yaml = main_yaml(name="Main IVR Copy", queue="Old Queue")
    result = validate_yaml(yaml)
    assert codes(result.report.errors) == ["FLOW_NAME_MISMATCH", "REFERENCE_DELETED"]
    assert all(finding.hint for finding in result.report.errors)
    assert "QUEUE 'Old Queue'" in result.report.summary()


def test_missing_placeholder_value_is_a_yaml_error_with_its_line() -> None:
    result = validate_publish(
        request(main_yaml()), genesys=org_genesys(), lock=org_lock(), yaml_text=main_yaml(), substitutions={}
    )
    assert codes(result.report.errors) == ["YAML_INVALID"]
    assert result.report.errors[0].object == "line 7" and "brand" in result.report.errors[0].message
    assert result.deploy_yaml is None


def test_unknown_queue_is_an_error_in_architects_words_and_unreachable_task_a_warning() -> None:
    # Given a queue no flow used at the last scan and that does not exist in the live org
    yaml = main_yaml(queue="Brand New Queue", unreachable=True)
    # When validated
    result = validate_yaml(yaml)
    # Then the live lookup says it is missing, as Architect would at publish
    (error,) = result.report.errors
    assert (error.code, error.message) == (
        "REFERENCE_NOT_FOUND",
        "Unable to find a queue named 'Brand New Queue'.",
    )
    assert codes(result.report.warnings) == ["UNREACHABLE_TASK"]


def test_a_queue_not_in_the_lock_but_live_in_the_org_passes() -> None:
    # Given a queue created after the last scan
    genesys = org_genesys()
    genesys.objects.append(("QUEUE", NamedObject(id="q-new", name="Brand New Queue")))
    yaml = main_yaml(queue="Brand New Queue")
    # When validated / Then it resolves to the live object
    result = validate_yaml(yaml, genesys=genesys)
    assert result.report.ok and result.report.warnings == []
    assert "q-new" in {r.id for r in result.resolved}


def test_names_match_exactly_and_a_near_miss_is_named_in_the_hint() -> None:
    yaml = main_yaml(queue="support")
    result = validate_yaml(yaml)
    (error,) = result.report.errors
    assert error.code == "REFERENCE_NOT_FOUND" and "'Support'" in error.hint


def test_data_actions_resolve_within_their_integration_only() -> None:
    # Given the data action exists under "Genesys Cloud Data Actions" only
    moved = [FlowReference(kind=ReferenceKind.DATAACTION, name="Lookup Customer", category="Old CRM")]
    here = [
        FlowReference(
            kind=ReferenceKind.DATAACTION, name="Lookup Customer", category="Genesys Cloud Data Actions"
        )
    ]
    # When a flow names it under another integration / Then not found, in Architect's words
    wrong = render_minimal_flow_yaml("INBOUNDCALL", "Main IVR", moved)
    result = validate_publish(request(wrong), genesys=org_genesys(), lock=org_lock(), yaml_text=wrong)
    (error,) = result.report.errors
    assert error.message == "Unable to find a data action named 'Lookup Customer' in category 'Old CRM'."
    # And under its own integration it resolves
    right = render_minimal_flow_yaml("INBOUNDCALL", "Main IVR", here)
    assert validate_publish(request(right), genesys=org_genesys(), lock=org_lock(), yaml_text=right).report.ok


def test_a_name_only_a_find_action_uses_is_a_warning_not_an_error() -> None:
    find = """
      - findQueue:
          name: Find overflow
          findName:
            lit: Overflow
          findResult:
            var: Task.q"""
    yaml = main_yaml(extra_actions=find)
    result = validate_yaml(yaml)
    assert result.report.ok
    assert codes(result.report.warnings) == ["SOFT_REFERENCE_NOT_FOUND"]


def test_a_lookup_the_client_may_not_make_is_a_warning_naming_the_permission() -> None:
    genesys = org_genesys()
    genesys.forbidden_types.add("QUEUE")
    result = validate_yaml(genesys=genesys)
    (warning,) = result.report.warnings
    assert warning.code == "REFERENCE_UNVERIFIED" and "routing:queue:view" in warning.message


def test_transfer_that_closes_a_cycle_is_refused_with_the_walk() -> None:
    # Given Caller already transfers to Main IVR, and the new Main IVR transfers to Caller
    yaml = render_minimal_flow_yaml(
        "INBOUNDCALL", "Main IVR", [FlowReference(kind=ReferenceKind.FLOW, name="Caller")]
    )
    result = validate_publish(
        request(yaml), genesys=org_genesys(), lock=org_lock(caller_transfers_to_main=True), yaml_text=yaml
    )
    (error,) = result.report.errors
    assert error.code == "NEW_CYCLE" and "Main IVR → Caller → Main IVR" in error.message


def test_same_transfer_without_the_back_edge_is_fine() -> None:
    yaml = render_minimal_flow_yaml(
        "INBOUNDCALL", "Main IVR", [FlowReference(kind=ReferenceKind.FLOW, name="Caller")]
    )
    result = validate_publish(request(yaml), genesys=org_genesys(), lock=org_lock(), yaml_text=yaml)
    assert result.report.ok, result.report.summary()


def test_unpublished_flow_deleted_data_action_and_invalid_draft_are_errors() -> None:
    references = [
        FlowReference(kind=ReferenceKind.FLOW, name="Never Published"),
        FlowReference(kind=ReferenceKind.DATAACTION, name="Lookup Customer"),
    ]
    yaml = render_minimal_flow_yaml("INBOUNDCALL", "Main IVR", references)
    genesys = org_genesys()
    from tests.unit.publish.fakes import flow

    genesys.flows["f-new"] = flow("f-new", "Never Published", version=None)
    genesys.invalid_drafts["da-lookup"] = "input contract is not valid JSON schema"
    result = validate_publish(request(yaml), genesys=genesys, lock=org_lock(), yaml_text=yaml)
    assert codes(result.report.errors) == ["DATA_ACTION_DRAFT_INVALID", "REFERENCED_FLOW_UNPUBLISHED"]
    genesys.actions.clear()
    result = validate_publish(request(yaml), genesys=genesys, lock=org_lock(), yaml_text=yaml)
    assert "DATA_ACTION_NOT_FOUND" in codes(result.report.errors)


def test_drift_from_the_lock_is_an_error_unless_allowed() -> None:
    # Given the org publishes 2.0 but the lock records 1.0 (someone published outside the pipeline)
    lock = org_lock(main_version="1.0")
    refused = validate_yaml(lock=lock)
    allowed = validate_publish(
        request(main_yaml(), allow_drift=True),
        genesys=org_genesys(),
        lock=lock,
        yaml_text=main_yaml(),
        substitutions=SUBSTITUTIONS,
    )
    assert codes(refused.report.errors) == ["DRIFT_FROM_LOCK"]
    assert allowed.report.ok and codes(allowed.report.warnings) == ["DRIFT_FROM_LOCK"]


def test_lock_held_by_someone_else_needs_force_unlock_and_only_the_run_unlocks() -> None:
    locked = {
        "locked_user": UserRef(id="u1", name="Jane"),
        "locked_client": DomainEntityRef(name="Architect UI"),
    }
    genesys = org_genesys(**locked)
    refused = validate_yaml(genesys=genesys)
    assert (
        codes(refused.report.errors) == ["FLOW_LOCKED"]
        and "Jane using Architect UI" in refused.report.summary()
    )
    forced = validate_publish(
        request(main_yaml(), force_unlock=True),
        genesys=genesys,
        lock=org_lock(),
        yaml_text=main_yaml(),
        substitutions=SUBSTITUTIONS,
    )
    assert forced.report.ok and forced.unlock_needed and genesys.unlocked == []
    report = apply_force_unlock(forced, genesys)
    assert genesys.unlocked == ["f-main"] and report.unlocked
    assert codes(report.warnings) == ["FLOW_UNLOCKED"]


def test_force_unlock_never_unlocks_a_run_that_fails_validation() -> None:
    locked = {"locked_user": UserRef(id="u1", name="Jane")}
    genesys = org_genesys(**locked)
    yaml = main_yaml(queue="Old Queue")
    result = validate_publish(
        request(yaml, force_unlock=True),
        genesys=genesys,
        lock=org_lock(),
        yaml_text=yaml,
        substitutions=SUBSTITUTIONS,
    )
    assert not result.unlock_needed
    apply_force_unlock(result, genesys)
    assert genesys.unlocked == []


def test_unknown_target_and_missing_lock_are_errors() -> None:
    genesys = org_genesys()
    result = validate_publish(
        request(main_yaml(), flow={"id": "f-ghost", "name": None, "type": None}),
        genesys=genesys,
        lock=None,
        yaml_text=main_yaml(),
        substitutions=SUBSTITUTIONS,
    )
    assert codes(result.report.errors) == ["FLOW_NOT_FOUND", "NO_LOCK"]
    assert result.report.target is None


def test_existing_version_is_checked_with_the_validate_job() -> None:
    genesys = org_genesys()
    genesys.validate_messages = [{"type": "Error", "text": "Unable to find a queue named 'Gone'."}]
    result = validate_publish(request(None), genesys=genesys, lock=org_lock(), yaml_text=None)
    (error,) = result.report.errors
    assert error.code == "VALIDATE_JOB_ERROR" and "Unable to find a queue named 'Gone'." in error.message


def test_a_client_without_action_edit_publishes_with_a_warning_naming_the_permission() -> None:
    # Given an OAuth client that may not read data action drafts (no integrations:action:edit)
    genesys = org_genesys()
    genesys.forbidden_drafts = True
    yaml = render_minimal_flow_yaml(
        "INBOUNDCALL", "Main IVR", [FlowReference(kind=ReferenceKind.DATAACTION, name="Lookup Customer")]
    )
    # When YAML using a data action is validated
    result = validate_publish(request(yaml), genesys=genesys, lock=org_lock(), yaml_text=yaml)
    # Then the publish may go on, with a warning that names the missing permission
    assert result.report.ok, result.report.summary()
    warning = next(w for w in result.report.warnings if w.code == "DATA_ACTION_DRAFT_NOT_CHECKED")
    assert "integrations:action:edit" in warning.message and "integrations:action:edit" in warning.hint
