"""Validate a publish request against its YAML, the current lock and the live org.

Nothing here changes Genesys. `force_unlock` is applied by the run (`apply_force_unlock`)
only when every other check passed and the publish lease is held, so a refused run leaves
the org as it was.

Finding codes are stable (tests, dashboards and `flowops validate --json` rely on them):

| code | severity | meaning |
| --- | --- | --- |
| NO_LOCK | error | the org has no lock yet: nothing to validate against |
| FLOW_NOT_FOUND | error | the target flow does not exist (or is deleted) |
| YAML_INVALID | error | the YAML does not parse (or a placeholder has no value) |
| FLOW_NAME_MISMATCH / FLOW_TYPE_MISMATCH | error | the YAML describes another flow |
| DANGLING_TASK_REFERENCE | error | a task/state/menu reference points nowhere |
| UNREACHABLE_TASK | warning | a task no path reaches |
| DYNAMIC_REFERENCE | warning | an object picked at run time: cannot be checked |
| REFERENCE_NOT_FOUND | error | a named object or flow does not exist in the live org (Architect's words) |
| REFERENCE_DELETED | error | same, and the lock knew it: it was deleted since the last scan |
| SOFT_REFERENCE_NOT_FOUND | warning | only a Find action names it: the flow will take its notFound path |
| REFERENCED_FLOW_UNPUBLISHED | error | a referenced flow has no published version |
| DATA_ACTION_NOT_FOUND | error | a referenced data action is gone |
| DATA_ACTION_DRAFT_INVALID | error | its draft fails `GET .../draft/validation` |
| REFERENCE_UNVERIFIED | warning | the lookup was refused (permission) or unavailable: Architect resolves it |

Every named object is looked up in the LIVE org through its own API (`flowops.publish.references`),
not only in the lock: an object no flow used at the last scan is checked like any other.
| NEW_CYCLE | error | the new version closes a dependency cycle |
| FLOW_LOCKED | error | someone else holds the flow's lock (and no force_unlock) |
| FLOW_UNLOCKED | warning | force_unlock removed someone else's lock (audited) |
| DRIFT_FROM_LOCK | error (warning with allow_drift) | the org's published version is not the lock's |
| VERSION_NOT_FOUND | error | the version to publish does not exist |
| VALIDATE_JOB_ERROR / VALIDATE_JOB_WARNING | error / warning | Genesys' validate job said so |
| VALIDATE_JOB_UNAVAILABLE | warning | the org does not offer validate jobs |
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from flowops.flowtypes import flow_type_for_object_type
from flowops.flowyaml import FlowDocument, FlowReference, FlowYamlError, parse_flow_yaml
from flowops.flowyaml.substitutions import substitute_placeholders
from flowops.genesys.errors import ForbiddenError, NotFoundError
from flowops.genesys.models import Flow
from flowops.lock.models import LockedFlow, LockedObject, Lockfile
from flowops.publish.models import Finding, Findings, PublishRunRequest, TargetFlow, ValidationReport
from flowops.publish.ports import PublishGenesys
from flowops.publish.references import OrgObjectResolver, architect_not_found_message

_GENERIC_FLOW_TYPE = "FLOW"


@dataclass(frozen=True)
class ResolvedReference:
    object_type: str
    id: str
    name: str
    is_flow: bool


@dataclass
class ValidationResult:
    report: ValidationReport
    deploy_yaml: str | None
    """The substituted YAML, exactly what StartPublish deploys (None for a version source)."""
    resolved: list[ResolvedReference] = field(default_factory=list)
    unlock_needed: bool = False
    """force_unlock was asked, someone else holds the lock, and nothing else is wrong."""


def normalise_yaml_text(text: str) -> str:
    """BOM dropped and LF line ends, as Architect reads it (CRLF files are common)."""
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def validate_publish(
    request: PublishRunRequest,
    *,
    genesys: PublishGenesys,
    lock: Lockfile | None,
    yaml_text: str | None,
    substitutions: Mapping[str, str] | None = None,
    validate_job_timeout_seconds: float = 120.0,
) -> ValidationResult:
    """Every check of the issue's "Validation" section; errors mean: do not touch Genesys."""
    found = Findings()
    if lock is None:
        found.error(
            "NO_LOCK", f"org {request.org}", "the org has no current lock", "run `flowops scan` first"
        )
    live, target = _resolve_target(request, genesys, lock, found)
    deploy_yaml: str | None = None
    resolved: list[ResolvedReference] = []
    reference_count = 0
    if target is not None and live is not None:
        if request.source.kind == "version":
            _check_version(request.source.version, target, genesys, found, validate_job_timeout_seconds)
        elif yaml_text is not None:
            document, deploy_yaml = _parse(yaml_text, substitutions or {}, found)
            if document is not None:
                reference_count = len(document.references)
                _check_identity(document, target, found)
                _check_structure(document, found)
                resolved = _check_references(document, lock, genesys, found)
                if lock is not None:
                    _check_cycles(lock, target, resolved, found)
        if lock is not None:
            _check_drift(lock.flow(target.id), live, request.allow_drift, found)
    unlock_needed = False
    if live is not None and target is not None:
        unlock_needed = _check_lock(live, target, request.force_unlock, found)
    report = ValidationReport(
        target=target, errors=found.errors, warnings=found.warnings, references=reference_count
    )
    return ValidationResult(
        report=report, deploy_yaml=deploy_yaml, resolved=resolved, unlock_needed=unlock_needed
    )


def apply_force_unlock(result: ValidationResult, genesys: PublishGenesys) -> ValidationReport:
    """Remove the lock validation found (force_unlock asked, no errors); the report says so."""
    target = result.report.target
    if not result.unlock_needed or target is None or not result.report.ok:
        return result.report
    genesys.unlock_flow(target.id)
    unlocked = Finding(
        code="FLOW_UNLOCKED",
        severity="warning",
        object=f"flow {target.name!r}",
        message="force_unlock removed someone else's lock (audited)",
        hint="tell the holder: their unsaved Architect changes are gone",
    )
    warnings = [w for w in result.report.warnings if w.code != "FLOW_LOCKED"] + [unlocked]
    return result.report.model_copy(update={"warnings": warnings, "unlocked": True})


# ---- target ------------------------------------------------------------------------------------


def _resolve_target(
    request: PublishRunRequest, genesys: PublishGenesys, lock: Lockfile | None, found: Findings
) -> tuple[Flow | None, TargetFlow | None]:
    ref = request.flow
    label = ref.id or f"{ref.type} {ref.name!r}"
    flow_id = ref.id
    if flow_id is None and lock is not None:
        matches = [f for f in lock.flows if f.name == ref.name and f.type == ref.type]
        flow_id = matches[0].id if len(matches) == 1 else None
    live: Flow | None = None
    try:
        if flow_id is not None:
            live = genesys.get_flow(flow_id)
        elif ref.name is not None:
            page = genesys.list_flows_page(name=ref.name, flow_types=[ref.type] if ref.type else None)
            exact = [flow for flow in page.entities if flow.name == ref.name]
            live = exact[0] if len(exact) == 1 else None
    except NotFoundError:
        live = None
    if live is None or live.deleted:
        found.error(
            "FLOW_NOT_FOUND",
            f"flow {label}",
            "the flow does not exist in the org (or is deleted)",
            "create the flow in Architect (or publish it with Archy) before using the pipeline",
        )
        return None, None
    target = TargetFlow(
        id=live.id, name=live.name or ref.name or "", type=(live.type or ref.type or "").upper()
    )
    return live, target


# ---- YAML ----------------------------------------------------------------------------------------


def _parse(
    text: str, substitutions: Mapping[str, str], found: Findings
) -> tuple[FlowDocument | None, str | None]:
    try:
        document = parse_flow_yaml(text, substitutions, strict_placeholders=True)
    except FlowYamlError as error:
        where = f"line {error.line}" if error.line else "the flow YAML"
        found.error("YAML_INVALID", where, str(error), error.hint or "fix the YAML")
        return None, None
    # Exactly what Archy and the Terraform provider would upload (values verbatim).
    deployed = substitute_placeholders(normalise_yaml_text(text), dict(substitutions)).archy_text
    return document, deployed


def _check_identity(document: FlowDocument, target: TargetFlow, found: Findings) -> None:
    if document.flow_type.upper() != target.type.upper():
        found.error(
            "FLOW_TYPE_MISMATCH",
            f"flow {target.id}",
            f"the YAML is a {document.flow_type} flow, the target is {target.type}",
            "publish the YAML to a flow of its own type",
        )
    if document.name != target.name:
        found.error(
            "FLOW_NAME_MISMATCH",
            f"flow {target.id}",
            f"the YAML names the flow {document.name!r}, the target is {target.name!r}",
            "Architect deploys YAML by name: rename the YAML's flow or pick the matching target",
        )


def _check_structure(document: FlowDocument, found: Findings) -> None:
    for dangling in document.structure.dangling_refs:
        found.error(
            "DANGLING_TASK_REFERENCE",
            dangling.location,
            f"reference to a missing task/state/menu: {dangling.ref}",
            "point the reference at an existing task or remove it",
        )
    for task in document.unreachable_tasks:
        found.warning(
            "UNREACHABLE_TASK", task, "no path reaches this task", "remove it or connect it to the flow"
        )
    for dynamic in document.dynamic_references:
        found.warning(
            "DYNAMIC_REFERENCE",
            f"{dynamic.kind.value} at {dynamic.location}",
            f"picked at run time ({dynamic.expression}); it cannot be checked here",
            "make sure every value the expression can take exists",
        )


# ---- references --------------------------------------------------------------------------------


def _lock_index(lock: Lockfile | None) -> tuple[dict[tuple[str, str], LockedObject], list[LockedFlow]]:
    if lock is None:
        return {}, []
    objects = {(obj.type.upper(), obj.name.casefold()): obj for obj in lock.objects if obj.name}
    return objects, list(lock.flows)


def _check_references(
    document: FlowDocument, lock: Lockfile | None, genesys: PublishGenesys, found: Findings
) -> list[ResolvedReference]:
    objects, flows = _lock_index(lock)
    resolved: list[ResolvedReference] = []
    resolver = OrgObjectResolver(genesys)
    resolver.prefetch(
        [
            reference
            for reference in document.references
            if flow_type_for_object_type(reference.object_type.upper()) is None
            and reference.object_type.upper() != _GENERIC_FLOW_TYPE
        ]
    )
    for reference in document.references:
        object_type = reference.object_type.upper()
        label = f"{object_type} {reference.name!r}"
        if reference.category is not None:
            label += f" (integration {reference.category!r})"
        flow_type = flow_type_for_object_type(object_type)
        if flow_type is not None or object_type == _GENERIC_FLOW_TYPE:
            target = _check_flow_reference(reference, flow_type, flows, genesys, found, label)
            if target is not None:
                resolved.append(target)
            continue
        resolution = resolver.resolve(reference)
        if resolution.status == "unverifiable":
            found.warning(
                "REFERENCE_UNVERIFIED",
                label,
                f"cannot be looked up: {resolution.reason}; Architect resolves it at publish",
                "grant the permission (or check that it exists): a missing object fails the publish",
            )
            continue
        if resolution.status == "missing" or resolution.object is None:
            _report_missing(reference, objects, found, label, resolution.reason)
            continue
        live = resolution.object
        if object_type == "DATAACTION" and not _check_data_action(live.id, genesys, found, label):
            continue
        resolved.append(ResolvedReference(object_type, live.id, live.name or reference.name, is_flow=False))
    return resolved


def _report_missing(
    reference: FlowReference,
    objects: dict[tuple[str, str], LockedObject],
    found: Findings,
    label: str,
    near_miss: str,
) -> None:
    message = architect_not_found_message(reference)
    if reference.soft:
        found.warning(
            "SOFT_REFERENCE_NOT_FOUND",
            label,
            f"{message} Only a Find action names it: Architect publishes and the flow takes its "
            "notFound path",
            near_miss or "create it, or make sure the notFound path is what you want",
        )
        return
    locked = objects.get((reference.object_type.upper(), reference.name.casefold()))
    if locked is not None and (locked.deleted or locked.missing):
        found.error(
            "REFERENCE_DELETED",
            label,
            f"{message} The last scan knew it as {locked.id}; it is deleted in the org",
            "restore it or stop using it",
        )
        return
    found.error(
        "REFERENCE_NOT_FOUND",
        label,
        message,
        near_miss or "create it in the org (or fix the name; names must match exactly)",
    )


def _check_flow_reference(
    reference: FlowReference,
    flow_type: str | None,
    flows: list[LockedFlow],
    genesys: PublishGenesys,
    found: Findings,
    label: str,
) -> ResolvedReference | None:
    name = reference.name.casefold()
    candidates = [
        flow
        for flow in flows
        if flow.name.casefold() == name and (flow_type is None or flow.type == flow_type)
    ]
    live: Flow | None = None
    try:
        if candidates:
            live = genesys.get_flow(candidates[0].id)
        else:
            page = genesys.list_flows_page(name=reference.name, flow_types=[flow_type] if flow_type else None)
            exact = [flow for flow in page.entities if (flow.name or "").casefold() == name]
            live = exact[0] if exact else None
    except NotFoundError:
        live = None
    if live is None or live.deleted:
        found.error(
            "REFERENCE_NOT_FOUND",
            label,
            "no such flow in the org",
            "create and publish it first, or fix the name",
        )
        return None
    if live.published_version is None:
        found.error(
            "REFERENCED_FLOW_UNPUBLISHED",
            label,
            f"flow {live.id} has never been published",
            "publish it first (flows can only use published flows)",
        )
        return None
    object_type = (candidates[0].object_type if candidates else None) or reference.object_type.upper()
    return ResolvedReference(object_type, live.id, live.name or reference.name, is_flow=True)


def _check_data_action(action_id: str, genesys: PublishGenesys, found: Findings, label: str) -> bool:
    try:
        genesys.get_action(action_id)
    except NotFoundError:
        found.error(
            "DATA_ACTION_NOT_FOUND", label, f"data action {action_id} is deleted or unpublished", "publish it"
        )
        return False
    try:
        draft = genesys.get_action_draft_validation(action_id)
    except NotFoundError:
        return True  # no draft: only the published action is involved
    except ForbiddenError as refused:
        # Reading the draft's validation needs integrations:action:edit (SDK docs), which a
        # publish-only client need not have: an optional check, skipped with a warning.
        needed = " or ".join(refused.missing_permissions) or "integrations:action:edit"
        found.warning(
            "DATA_ACTION_DRAFT_NOT_CHECKED",
            label,
            f"its draft was not validated: the OAuth client lacks {needed}",
            f"grant {needed} to check data action drafts before publishing, or ignore this",
        )
        return True
    if not draft.valid:
        problems = "; ".join(str(error.message or error.code) for error in draft.errors) or "draft is invalid"
        found.error(
            "DATA_ACTION_DRAFT_INVALID",
            label,
            f"its draft does not validate: {problems}",
            "fix or discard the draft before publishing flows that use it",
        )
        return False
    return True


# ---- graph ---------------------------------------------------------------------------------------


def _check_cycles(
    lock: Lockfile, target: TargetFlow, resolved: list[ResolvedReference], found: Findings
) -> None:
    # Imported here: networkx costs ~200 ms of cold start and only Validate needs it.
    from flowops.graph.build import build_graph
    from flowops.graph.cycles import find_cycles

    graph = build_graph(lock)
    before = {frozenset(cycle.members) for cycle in find_cycles(graph)}
    graph.add_node(target.id)
    graph.remove_edges_from(list(graph.out_edges(target.id)))
    for reference in resolved:
        graph.add_edge(target.id, reference.id, type=reference.object_type)
    names = {flow.id: flow.name for flow in lock.flows} | {target.id: target.name}
    for cycle in find_cycles(graph):
        members = frozenset(cycle.members)
        if target.id in members and members not in before:
            # Start the walk at the flow being published: that is where the new edge leaves.
            loop = cycle.witness[:-1] or [target.id]
            start = loop.index(target.id) if target.id in loop else 0
            walk = " → ".join(names.get(node, node) for node in [*loop[start:], *loop[:start], loop[start]])
            found.error(
                "NEW_CYCLE",
                f"flow {target.name!r}",
                f"this version closes a dependency cycle: {walk}",
                "break the loop (a transfer back to a caller is usually the culprit)",
            )


# ---- org state -----------------------------------------------------------------------------------


def _check_drift(locked: LockedFlow | None, live: Flow, allow_drift: bool, found: Findings) -> None:
    org_version = live.published_version.id if live.published_version else None
    lock_version = locked.published_version if locked else None
    if locked is None or org_version == lock_version:
        return
    message = (
        f"the org publishes version {org_version}, the lock records {lock_version}: someone published "
        "outside the pipeline"
    )
    if allow_drift:
        found.warning("DRIFT_FROM_LOCK", f"flow {live.id}", message, "rescan to bring the lock up to date")
    else:
        found.error(
            "DRIFT_FROM_LOCK",
            f"flow {live.id}",
            message,
            "rescan (`flowops scan`) and review the change, or send allow_drift: true",
        )


def _check_lock(live: Flow, target: TargetFlow, force_unlock: bool, found: Findings) -> bool:
    if live.locked_user is None and live.locked_client is None:
        return False
    holder = " ".join(
        part
        for part in (
            (live.locked_user.name if live.locked_user else None) or "someone",
            f"using {live.locked_client.name}" if live.locked_client and live.locked_client.name else None,
        )
        if part
    )
    if not force_unlock:
        found.error(
            "FLOW_LOCKED",
            f"flow {target.name!r}",
            f"the flow is locked by {holder}",
            f"ask {holder.split(' using ')[0]} to check it in, or send force_unlock: true",
        )
        return False
    if found.errors:
        # Other errors stop the run: leave the lock alone, nothing may change in the org.
        found.warning(
            "FLOW_LOCKED",
            f"flow {target.name!r}",
            f"locked by {holder}; not unlocked because validation failed",
            "fix the errors first",
        )
        return False
    # The unlock itself happens in the run, after the publish lease is held (`apply_force_unlock`):
    # validating alone (`flowops validate`) never changes the org.
    found.warning(
        "FLOW_LOCKED",
        f"flow {target.name!r}",
        f"locked by {holder}; force_unlock will remove the lock",
        "tell them: their unsaved Architect changes will be gone",
    )
    return True


def _check_version(
    version: str, target: TargetFlow, genesys: PublishGenesys, found: Findings, timeout_seconds: float
) -> None:
    try:
        genesys.get_flow_version(target.id, version)
    except NotFoundError:
        found.error(
            "VERSION_NOT_FOUND",
            f"flow {target.id} version {version}",
            "no such version",
            "list versions with GET /api/v2/flows/{id}/versions",
        )
        return
    try:
        started = genesys.start_validate_job([(target.id, version)])
        job = genesys.wait_until(
            lambda: genesys.get_validate_job(started.id),
            lambda job: job.status in ("Success", "Failure"),
            what=f"validate job {started.id}",
            poll_interval_seconds=1.0,
            timeout_seconds=timeout_seconds,
        )
    except (NotFoundError, ForbiddenError):
        found.warning(
            "VALIDATE_JOB_UNAVAILABLE",
            f"flow {target.id}",
            "the org does not offer flow validate jobs (a preview API)",
            "nothing to do; the other checks still ran",
        )
        return
    for message in job.messages:
        text = message.text or "(no text)"
        if (message.type or "").lower() == "error":
            found.error(
                "VALIDATE_JOB_ERROR", f"flow {target.id} version {version}", text, "fix it in Architect"
            )
        else:
            found.warning("VALIDATE_JOB_WARNING", f"flow {target.id} version {version}", text)
