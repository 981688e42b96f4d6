"""The release plan: what a release would do to one environment's org, and in which order.

For every flow file: `create` (no such flow), `update` (its content differs from the published
version's), `unchanged` (same normalised content: nothing is published, no new version). Then
the consumers of every changed common module — flows whose published version holds a snapshot
of the module — are added as `republish` (or an unchanged file is upgraded to it), because a
consumer keeps running the old module until it is published again. Every entry says why.

Validation covers the whole set at once, so a flow may reference a flow the same release
creates. Flows are ordered into deployment waves (dependencies first, `flowops.graph.waves`);
flows that reference each other form one strongly connected unit and publish in one wave, new
members with `createStubs` (Architect creates a stub for a flow that does not exist yet, and
the stub is filled when its own YAML is deployed in the same wave).

Finding codes (stable, `flowops plan --json` relies on them):

| code | severity | meaning |
| --- | --- | --- |
| YAML_INVALID | error | a file does not parse, or a placeholder has no value in the environment |
| DUPLICATE_FLOW | error | two files define the same flow (type and name) |
| FLOW_LOCKED | error | someone holds the Architect lock of a flow the release changes |
| DANGLING_TASK_REFERENCE | error | a task/state/menu reference points nowhere |
| REFERENCE_NOT_FOUND | error | a flow in neither the release nor the org; a missing queue, prompt, ... |
| SOFT_REFERENCE_NOT_FOUND | warning | only a Find action names the missing object (its notFound path runs) |
| REFERENCED_FLOW_UNPUBLISHED | error | a referenced flow exists but was never published |
| REFERENCE_DELETED | error | the lock records a referenced object as deleted |
| REFERENCE_UNVERIFIED | warning | not looked up (permission, no API) and unknown to the lock |
| UNREACHABLE_TASK / DYNAMIC_REFERENCE | warning | as in `flowops validate` |
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from flowops.genesys.models import Flow
from flowops.lock.models import Lockfile
from flowops.publish.models import Finding, Findings
from flowops.publish.references import ObjectLookup, OrgObjectResolver, architect_not_found_message
from flowops.release.bundle import ReleaseBundle
from flowops.release.content import (
    FlowRef,
    ResolvedFlow,
    flow_key,
    resolve_bundle,
    resolve_flow,
    yaml_content_digest,
)
from flowops.release.live import LiveOrg, published_version
from flowops.release.models import Action as Action

PlanStatus = Literal["no-changes", "changes", "invalid"]
CHANGING: frozenset[str] = frozenset({"create", "update", "republish"})
_ALWAYS_PRESENT_TYPES = frozenset({"SYSTEMPROMPT"})


class PlanFlow(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    name: str
    flow_type: str
    action: Action
    reasons: list[str]
    path: str | None = None
    """The release file; None for a module consumer taken from the org (its published YAML)."""
    flow_id: str | None = None
    live_version: str | None = None
    wave: int | None = None
    in_cycle: bool = False
    create_stubs: bool = False
    """Deploy with `createStubs`: a new flow in a cycle whose partners do not exist yet."""
    content_sha256: str = ""
    deploy_yaml: str = Field(default="", exclude=True, repr=False)

    @property
    def changes(self) -> bool:
        return self.action in CHANGING


class PlanWave(BaseModel):
    model_config = ConfigDict(frozen=True)

    index: int
    flows: list[str]
    """Flow keys (`TYPE/name`), sorted."""


class ReleasePlan(BaseModel):
    model_config = ConfigDict(frozen=True)

    environment: str
    bundle_sha256: str
    source_revision: str
    flows: list[PlanFlow]
    waves: list[PlanWave]
    errors: list[Finding] = Field(default_factory=list)
    warnings: list[Finding] = Field(default_factory=list)

    @property
    def status(self) -> PlanStatus:
        if self.errors:
            return "invalid"
        return "changes" if self.changed else "no-changes"

    @property
    def changed(self) -> list[PlanFlow]:
        return [flow for flow in self.flows if flow.changes]

    def flow(self, key: str) -> PlanFlow:
        return next(flow for flow in self.flows if flow.key == key)

    def counts(self) -> dict[str, int]:
        counts = {"create": 0, "update": 0, "republish": 0, "unchanged": 0}
        for flow in self.flows:
            counts[flow.action] += 1
        return counts


def compute_plan(
    bundle: ReleaseBundle,
    environment: str,
    live: LiveOrg,
    *,
    lock: Lockfile | None = None,
    objects: ObjectLookup | None = None,
) -> ReleasePlan:
    """The plan of `bundle` for `environment` against `live` (reads only; changes nothing).

    `objects` looks queues, data actions, prompts, ... up in the live org (the validate rules,
    `flowops.publish.references`), one cached resolver for the whole release; without it they
    are checked against the `lock` only (warnings for what it does not know)."""
    found = Findings()
    resolver = OrgObjectResolver(objects) if objects is not None else None
    readable, unreadable = resolve_bundle(bundle, environment)
    for problem in unreadable:
        found.error(
            "YAML_INVALID",
            problem.path + (f" line {problem.line}" if problem.line else ""),
            problem.message,
            "fix the file or add the missing substitution to the environment's options file",
        )
    by_key: dict[str, ResolvedFlow] = {}
    for flow in readable:
        if flow.key in by_key:
            found.error(
                "DUPLICATE_FLOW",
                f"{flow.flow_type} {flow.name!r}",
                f"defined by both {by_key[flow.key].path} and {flow.path}",
                "keep one file per flow",
            )
            continue
        by_key[flow.key] = flow

    entries: dict[str, PlanFlow] = {}
    live_flows: dict[str, Flow] = {}
    for key, flow in sorted(by_key.items()):
        existing = live.find_flow(flow.flow_type, flow.name)
        entries[key] = _entry_for(flow, existing, live)
        if existing is not None:
            live_flows[key] = existing

    # Consumers of changed common modules: republished so that they take the new module version.
    sources: dict[str, ResolvedFlow] = dict(by_key)
    for key in sorted(entries):
        entry = entries[key]
        if entry.flow_type != "COMMONMODULE" or entry.action != "update" or key not in live_flows:
            continue
        for consumer in live.module_consumers(live_flows[key]):
            consumer_key = flow_key(consumer.type or "", consumer.name or "")
            reason = (
                f"calls common module {entry.name!r}, which this release changes: "
                "republished to take its new version"
            )
            if consumer_key in entries:
                current = entries[consumer_key]
                entries[consumer_key] = current.model_copy(
                    update={
                        "action": "republish" if current.action == "unchanged" else current.action,
                        "reasons": [*current.reasons, reason] if current.action != "unchanged" else [reason],
                    }
                )
                continue
            text = live.published_yaml(consumer)
            resolved = resolve_flow(f"org:{consumer.id}", text, {})
            if not isinstance(resolved, ResolvedFlow):
                found.error(
                    "YAML_INVALID",
                    f"{consumer.type} {consumer.name!r} (org)",
                    f"its published YAML cannot be read: {resolved.message}",
                    "republish it by hand after the release",
                )
                continue
            sources[consumer_key] = resolved
            live_flows[consumer_key] = consumer
            entries[consumer_key] = PlanFlow(
                key=consumer_key,
                name=resolved.name,
                flow_type=resolved.flow_type,
                action="republish",
                reasons=[reason + " (not in the release: its published YAML is redeployed unchanged)"],
                flow_id=consumer.id,
                live_version=published_version(consumer),
                content_sha256=resolved.content_sha256,
                deploy_yaml=resolved.deploy_yaml,
            )

    for key, entry in sorted(entries.items()):
        if not entry.changes:
            continue
        existing = live_flows.get(key)
        if existing is not None and (existing.locked_user is not None or existing.locked_client is not None):
            found.error(
                "FLOW_LOCKED",
                f"{entry.flow_type} {entry.name!r}",
                f"the flow is locked by {existing.lock_holder or 'someone'}",
                "ask them to check it in (or unlock it in Architect), then plan again",
            )
        _check_flow(sources[key], entries, live, lock, resolver, found)

    waves, cycle_keys = _waves(entries, sources)
    wave_of = {member: wave.index for wave in waves for member in wave.flows}
    final = []
    for key, entry in sorted(entries.items()):
        in_cycle = key in cycle_keys
        final.append(
            entry.model_copy(
                update={
                    "wave": wave_of.get(key),
                    "in_cycle": in_cycle,
                    "create_stubs": in_cycle and entry.action == "create",
                }
            )
        )
    return ReleasePlan(
        environment=environment,
        bundle_sha256=bundle.sha256,
        source_revision=bundle.source_revision,
        flows=final,
        waves=waves,
        errors=found.errors,
        warnings=found.warnings,
    )


def _entry_for(flow: ResolvedFlow, existing: Flow | None, live: LiveOrg) -> PlanFlow:
    common: dict[str, Any] = {
        "key": flow.key,
        "name": flow.name,
        "flow_type": flow.flow_type,
        "path": flow.path,
        "content_sha256": flow.content_sha256,
        "deploy_yaml": flow.deploy_yaml,
    }
    if existing is None:
        return PlanFlow(action="create", reasons=["new flow: the org has no such flow"], **common)
    version = published_version(existing)
    common |= {"flow_id": existing.id, "live_version": version}
    if version is None:
        return PlanFlow(action="update", reasons=["the flow exists but was never published"], **common)
    live_digest = yaml_content_digest(live.published_yaml(existing))
    if live_digest == flow.content_sha256:
        return PlanFlow(
            action="unchanged", reasons=[f"same content as published version {version}"], **common
        )
    return PlanFlow(action="update", reasons=[f"content differs from published version {version}"], **common)


def _target_in_release(ref: FlowRef, entries: dict[str, PlanFlow]) -> list[PlanFlow]:
    if ref.flow_type is not None:
        entry = entries.get(flow_key(ref.flow_type, ref.name))
        return [entry] if entry is not None else []
    return [entry for entry in entries.values() if entry.name == ref.name]


def _check_flow(
    flow: ResolvedFlow,
    entries: dict[str, PlanFlow],
    live: LiveOrg,
    lock: Lockfile | None,
    resolver: OrgObjectResolver | None,
    found: Findings,
) -> None:
    where = f"{flow.flow_type} {flow.name!r}"
    for dangling in flow.dangling:
        found.error("DANGLING_TASK_REFERENCE", where, f"reference to a missing task/state/menu: {dangling}")
    for task in flow.unreachable:
        found.warning("UNREACHABLE_TASK", f"{where} {task}", "no path reaches this task")
    for dynamic in flow.dynamic:
        found.warning("DYNAMIC_REFERENCE", where, f"picked at run time: {dynamic}; it cannot be checked here")
    for ref in flow.flow_refs:
        if _target_in_release(ref, entries):
            continue
        label = f"{ref.flow_type or 'flow'} {ref.name!r} (used by {flow.name!r})"
        candidates = (
            [target] if ref.flow_type and (target := live.find_flow(ref.flow_type, ref.name)) else []
        ) or ([] if ref.flow_type else live.find_by_name(ref.name))
        if not candidates:
            found.error(
                "REFERENCE_NOT_FOUND",
                label,
                "no such flow in the org or in the release",
                "add it to the release",
            )
        elif all(published_version(candidate) is None for candidate in candidates):
            found.error(
                "REFERENCED_FLOW_UNPUBLISHED",
                label,
                "the flow exists but was never published",
                "add its YAML to the release (or publish it first)",
            )
    objects = {(o.type.upper(), o.name.casefold()): o for o in (lock.objects if lock else []) if o.name}
    for reference in flow.references:
        object_type = reference.object_type.upper()
        if object_type in _ALWAYS_PRESENT_TYPES or object_type == "FLOW" or object_type.endswith("FLOW"):
            continue
        locked = objects.get((object_type, reference.name.casefold()))
        label = f"{object_type} {reference.name!r} (used by {flow.name!r})"
        if resolver is not None:
            resolution = resolver.resolve(reference)
            if resolution.status == "found":
                continue
            if resolution.status == "missing":
                message = architect_not_found_message(reference)
                if reference.soft:
                    found.warning(
                        "SOFT_REFERENCE_NOT_FOUND",
                        label,
                        f"{message} Only a Find action names it (notFound path)",
                    )
                else:
                    found.error(
                        "REFERENCE_NOT_FOUND",
                        label,
                        message,
                        resolution.reason
                        or "create it in the org (or fix the name; names must match exactly)",
                    )
                continue
            if locked is None:
                found.warning(
                    "REFERENCE_UNVERIFIED",
                    label,
                    f"cannot be looked up: {resolution.reason}; Architect resolves it",
                )
                continue
        if locked is None:
            found.warning(
                "REFERENCE_UNVERIFIED",
                label,
                "not in the current lock (no flow used it at the last scan); "
                "Architect resolves it at publish",
                "check that it exists: a missing object fails the release and rolls it back",
            )
        elif locked.deleted or locked.missing:
            found.error(
                "REFERENCE_DELETED",
                label,
                f"{locked.id} is deleted in the org",
                "restore it or stop using it",
            )


def _waves(entries: dict[str, PlanFlow], sources: dict[str, ResolvedFlow]) -> tuple[list[PlanWave], set[str]]:
    # Imported here: networkx costs ~200 ms of cold start and only planning needs it.
    import networkx as nx

    from flowops.graph.waves import deployment_waves

    changing = {key for key, entry in entries.items() if entry.changes}
    graph = nx.DiGraph()
    for key in sorted(changing):
        graph.add_node(key, is_flow=True, name=key)
    for key in sorted(changing):
        for ref in sources[key].flow_refs:
            for target in _target_in_release(ref, entries):
                if target.key in changing:
                    graph.add_edge(key, target.key)
    waves = deployment_waves(graph)
    in_cycle = {flow.id for wave in waves for flow in wave.flows if flow.in_cycle}
    return [PlanWave(index=wave.index, flows=sorted(wave.flow_ids)) for wave in waves], in_cycle
