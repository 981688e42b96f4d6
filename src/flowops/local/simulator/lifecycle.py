"""What finishing a publish/checkin operation or an architect job does to the org.

Uploaded YAML is read with `flowops.flowyaml.parse_flow_yaml` (the same parser flowops uses
before it deploys), then every reference is resolved BY NAME against the org, as Architect
does: an unknown queue fails the job with `Unable to find a queue named 'X'.`.
"""

from __future__ import annotations

import uuid
from typing import Any

from flowops.local.simulator.api_integrations import DEFAULT_CATEGORY
from flowops.local.simulator.api_objects import BUILTIN_SYSTEM_PROMPTS
from flowops.local.simulator.model import (
    FLOW_OBJECT_TYPES,
    FLOW_REFERENCE_TYPE,
    YAML_KEY_TO_FLOW_TYPE,
    Dependency,
    Flow,
    FlowVersion,
    Operation,
    OrgObject,
    Principal,
    new_id,
    object_type_word,
)
from flowops.local.simulator.state import ArchitectJob, JobMessage, SimulatorState, ValidateJob

_SYSTEM_PROMPT_NAMESPACE = uuid.UUID("0e6d2b1c-4f3a-4b8e-9a7d-5c1e2f3a4b5d")


def start_operation(
    state: SimulatorState, flow: Flow, action_name: str, principal: Principal, **extra: Any
) -> Operation:
    fails = action_name == "PUBLISH" and state.faults.fails_publish(flow.id, flow.name)
    operation = Operation(
        id=new_id(),
        flow_id=flow.id,
        action_name=action_name,
        started_at=state.now(),
        principal=principal,
        succeeds=not fails,
        error_message=f"Publishing flow '{flow.name}' failed: the flow could not be generated."
        if fails
        else None,
    )
    state.operations[operation.id] = operation
    state.operation_args[operation.id] = extra
    flow.current_operation = operation
    return operation


def _resnapshot(state: SimulatorState, consumes: tuple[Dependency, ...]) -> tuple[Dependency, ...]:
    """A (re)publish snapshots the current version of every consumed flow and data action."""
    refreshed = []
    for dependency in consumes:
        snapshot = state.org.current_snapshot(dependency.id)
        refreshed.append(
            Dependency(dependency.id, dependency.object_type, snapshot)
            if snapshot is not None or dependency.id in state.org.flows
            else dependency
        )
    return tuple(refreshed)


def complete_operation(state: SimulatorState, operation: Operation) -> None:
    operation.applied = True
    flow = state.org.flows.get(operation.flow_id)
    if flow is None or not operation.succeeds:
        return
    at = operation.started_at
    args = state.operation_args.pop(operation.id, {})
    if operation.action_name == "PUBLISH":
        source_id = (
            args.get("version")
            or flow.saved_version_id
            or flow.checked_in_version_id
            or flow.latest_version_id()
        )
        source = flow.versions.get(source_id) if source_id else None
        consumes = _resnapshot(state, source.consumes) if source else ()
        yaml_text = source.yaml_text if source else None
        version = FlowVersion(flow.next_version_id(), "PUBLISH", consumes, at, operation.principal, yaml_text)
        state.org.add_version(flow, version)
        state.org.publish_version(flow, version.version_id, at, operation.principal)
        flow.saved_version_id = None
        flow.locked_by = None
    elif operation.action_name == "CHECKIN":
        source_id = flow.saved_version_id or flow.latest_version_id()
        source = flow.versions.get(source_id) if source_id else None
        consumes = source.consumes if source else ()
        version = FlowVersion(
            flow.next_version_id(),
            "CHECKIN",
            consumes,
            at,
            operation.principal,
            source.yaml_text if source else None,
        )
        state.org.add_version(flow, version)
        flow.checked_in_version_id = version.version_id
        flow.saved_version_id = None
        flow.locked_by = None


# ---- architect jobs (YAML deploys) ----------------------------------------------------------


def _fail(state: SimulatorState, job: ArchitectJob, text: str, **details: Any) -> None:
    job.status = "Failure"
    job.messages.append(JobMessage(state.now(), "Error", text, details))


def _resolve(
    state: SimulatorState, object_type: str, name: str, category: str | None = None
) -> Dependency | None:
    org = state.org
    if object_type == "DATAACTION":
        # Architect matches a data action by its integration (category) and its exact name:
        # case and trailing spaces count.
        action = next(
            (
                o
                for o in org.objects.values()
                if o.object_type == "DATAACTION"
                and not o.deleted
                and o.name == name
                and (category is None or (o.category or DEFAULT_CATEGORY) == category)
            ),
            None,
        )
        return Dependency(action.id, "DATAACTION", org.current_snapshot(action.id)) if action else None
    if object_type == FLOW_REFERENCE_TYPE:
        flow = org.find_flow_by_name(name)
        return Dependency(flow.id, flow.object_type, flow.published_version_id) if flow else None
    if object_type in FLOW_OBJECT_TYPES:
        flow = org.find_flow_by_name(name, FLOW_OBJECT_TYPES[object_type])
        return Dependency(flow.id, flow.object_type, flow.published_version_id) if flow else None
    obj = org.find_object_by_name(object_type, name)
    if obj is None and object_type == "SYSTEMPROMPT" and name in BUILTIN_SYSTEM_PROMPTS:
        # The system prompts every org ships with.
        obj = org.add_object(
            OrgObject(str(uuid.uuid5(_SYSTEM_PROMPT_NAMESPACE, name.lower())), name, "SYSTEMPROMPT")
        )
    return Dependency(obj.id, obj.object_type, org.current_snapshot(obj.id)) if obj else None


def _stub_flow(state: SimulatorState, flow_type: str, name: str) -> Dependency:
    """An unpublished, empty flow standing in for one the YAML names (`createStubs`): the flow
    that calls it publishes; the stub is filled when its own YAML is deployed."""
    stub = state.org.add_flow(Flow(id=new_id(), name=name, flow_type=flow_type, description="stub"))
    return Dependency(stub.id, stub.object_type, None)


def upload_problem(text: str) -> str | None:
    """What Architect refuses in an uploaded file before reading it as a flow: text that is not
    YAML at all, and `{{key}}` placeholders nobody substituted (Archy and Terraform replace them
    before the upload; one left over means the deploy was misconfigured, and Architect would
    otherwise create objects literally named `{{bot_name}}`)."""
    import yaml

    from flowops.flowyaml.loader import load_architect_yaml
    from flowops.flowyaml.substitutions import substitute_placeholders

    normalised = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    try:
        load_architect_yaml(normalised)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        return f"Unable to parse the flow file: invalid YAML{where}: {error.problem or error.context}."
    except yaml.YAMLError as error:
        return f"Unable to parse the flow file: invalid YAML: {error}."
    scanned = substitute_placeholders(normalised, {})
    leftovers = sorted(
        (scanned.first_unresolved_line[key], original)
        for original in scanned.token_to_placeholder.values()
        if original.startswith("{{")
        for key in [original[2:-2]]
    )
    if leftovers:
        line, original = leftovers[0]
        more = f" (and {len(leftovers) - 1} more)" if len(leftovers) > 1 else ""
        return (
            f"Unable to parse the flow file: unresolved substitution '{original}' at line {line}{more}. "
            "Supply a value for it in the substitutions."
        )
    return None


def complete_architect_job(state: SimulatorState, job: ArchitectJob) -> None:
    from flowops.flowyaml import FlowYamlError, parse_flow_yaml

    problem = upload_problem(job.yaml_text or "")
    if problem is not None:
        _fail(state, job, problem)
        return
    try:
        document = parse_flow_yaml(job.yaml_text or "")
    except FlowYamlError as error:
        _fail(state, job, f"The flow file could not be read: {error}")
        return
    flow_type = document.flow_type.upper()
    flow_type = YAML_KEY_TO_FLOW_TYPE.get(document.flow_type, flow_type)
    org = state.org
    existing = org.find_flow_by_name(document.name, flow_type)
    job.flow_ref = {"id": existing.id if existing else "", "name": document.name}
    if existing is not None:
        holder = state.lock_holder(existing.id)
        if holder is not None and holder.client_id != job.principal.client_id:
            _fail(
                state, job,
                f"Flow '{existing.name}' is locked by user '{holder.user_name}' "
                f"(client '{holder.client_name}') "
                "and cannot be published.",
                flowId=existing.id,
            )  # fmt: skip
            return
    if state.faults.fails_publish(existing.id if existing else "", document.name):
        _fail(
            state,
            job,
            f"An error occurred publishing flow '{document.name}': the flow could not be generated.",
        )
        # A large broken flow: Architect reports one error per broken action.
        for index in range(1, state.faults.job_errors):
            _fail(
                state,
                job,
                f"Action 'Transfer to ACD {index}' in task 'Main' of flow '{document.name}': Unable to "
                f"find a queue named 'Support Queue {index}'.",
            )
        return

    consumes: list[Dependency] = []
    missing: list[str] = []
    for reference in document.references:
        resolved = _resolve(state, reference.object_type, reference.name, reference.category)
        if resolved is None and job.create_stubs and reference.object_type in FLOW_OBJECT_TYPES:
            resolved = _stub_flow(state, FLOW_OBJECT_TYPES[reference.object_type], reference.name)
        if resolved is None and reference.soft:
            continue  # a Find action's notFound path: Architect publishes, the flow takes it
        if resolved is None:
            in_category = f" in category '{reference.category}'" if reference.category is not None else ""
            missing.append(
                f"Unable to find a {object_type_word(reference.object_type)} named '{reference.name}'"
                f"{in_category}."
            )
        elif resolved not in consumes:
            consumes.append(resolved)
    if missing:
        job.status = "Failure"
        for text in dict.fromkeys(missing):
            job.messages.append(JobMessage(state.now(), "Error", text, {"flowName": document.name}))
        return

    at = (job.uploaded_at or state.now()) + 1.0
    flow = existing or org.add_flow(Flow(id=new_id(), name=document.name, flow_type=flow_type))
    version = FlowVersion(
        flow.next_version_id(), "PUBLISH", tuple(consumes), at, job.principal, job.yaml_text
    )
    org.add_version(flow, version)
    org.publish_version(flow, version.version_id, at, job.principal)
    flow.deleted = False
    flow.saved_version_id = None
    job.flow_ref = {"id": flow.id, "name": flow.name}
    job.status = "Success"


# ---- validate jobs -------------------------------------------------------------------------


def complete_validate_job(state: SimulatorState, job: ValidateJob) -> None:
    org = state.org
    for flow_id, version_id in job.items:
        flow = org.flows[flow_id]
        version = flow.versions[version_id]
        for dependency in version.consumes:
            described = org.describe(dependency.id)
            if described is None or described[2]:
                name = described[0] if described else dependency.id
                text = f"Unable to find a {object_type_word(dependency.object_type)} named '{name}'."
                job.messages.append(
                    JobMessage(state.now(), "Error", text, {"flowId": flow_id, "flowVersion": version_id})
                )
                continue
            target = org.flows.get(dependency.id)
            if (
                target is not None
                and dependency.object_type == "COMMONMODULEFLOW"
                and dependency.version != target.published_version_id
            ):
                job.messages.append(
                    JobMessage(
                        state.now(),
                        "Warning",
                        f"Common module '{target.name}' is published at version "
                        f"{target.published_version_id}; "
                        f"this flow uses version {dependency.version}. Republish the flow to pick it up.",
                        {"flowId": flow_id, "flowVersion": version_id},
                    )
                )
    job.status = "Failure" if any(m.type == "Error" for m in job.messages) else "Success"
