"""Problems a release engineer should act on, found in the consumes-graph.

Each problem has a stable ``code`` (safe to match on in CI and alerts), a severity, the
objects it is about, the flows that consume them, a message and a hint saying how to fix it.

- ``MISSING_REFERENCE`` (error): a flow consumes an object the org does not have.
- ``REFERENCE_NOT_VISIBLE`` (warning): a flow consumes a flow in a division the OAuth client
  cannot see (the org has it, so it is not missing; its state is unknown to the scan).
- ``DELETED_REFERENCE`` (error): a flow consumes a deleted object.
- ``UNPUBLISHED_FLOW_CONSUMED`` (error): a flow consumes a scanned flow that was never published.
- ``STALE_SNAPSHOT`` (warning): a flow consumes an older version of a common module or data
  action than the one now published (consumers snapshot modules: they need republishing).
  Versions compare numerically, so "2.0" is older than "10.0".
- ``ORPHAN_COMMON_MODULE`` / ``ORPHAN_DATA_ACTION`` (info): nothing consumes it.
- ``DEPENDENCY_INDEX_FAILED`` (warning): the dependency index could not process an object,
  so its consumed resources may be incomplete (added by :func:`flowops.graph.analyze`).
- ``DEPENDENCIES_UNREAD`` (warning): the scan could not read a flow's consumed resources (the
  lock names the reason); its edges are unknown, so impact and waves may miss it. Info only for
  a flow type dependency tracking does not cover (nothing a rebuild or a grant could change).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any

import networkx as nx
from pydantic import BaseModel, ConfigDict

from flowops.flowtypes import COMMON_MODULE_OBJECT_TYPE, DATA_ACTION_OBJECT_TYPE
from flowops.lock import FailedObject, LockedFlow, UnreadReason, is_older


class ProblemCode(StrEnum):
    MISSING_REFERENCE = "MISSING_REFERENCE"
    REFERENCE_NOT_VISIBLE = "REFERENCE_NOT_VISIBLE"
    DELETED_REFERENCE = "DELETED_REFERENCE"
    UNPUBLISHED_FLOW_CONSUMED = "UNPUBLISHED_FLOW_CONSUMED"
    STALE_SNAPSHOT = "STALE_SNAPSHOT"
    ORPHAN_COMMON_MODULE = "ORPHAN_COMMON_MODULE"
    ORPHAN_DATA_ACTION = "ORPHAN_DATA_ACTION"
    DEPENDENCY_INDEX_FAILED = "DEPENDENCY_INDEX_FAILED"
    DEPENDENCIES_UNREAD = "DEPENDENCIES_UNREAD"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Problem(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: ProblemCode
    severity: Severity
    object_ids: list[str]
    consumer_ids: list[str]
    message: str
    hint: str


_STALE_CHECKED_TYPES = frozenset({COMMON_MODULE_OBJECT_TYPE, DATA_ACTION_OBJECT_TYPE})
_ORPHAN_CODES = {
    COMMON_MODULE_OBJECT_TYPE: (ProblemCode.ORPHAN_COMMON_MODULE, "common module"),
    DATA_ACTION_OBJECT_TYPE: (ProblemCode.ORPHAN_DATA_ACTION, "data action"),
}


def _label(data: dict[str, Any], node: str) -> str:
    return f"{data.get('type', 'object')} '{data.get('name') or node}' ({node})"


def _names(graph: nx.DiGraph, nodes: Iterable[str]) -> str:
    return ", ".join(f"'{graph.nodes[node].get('name') or node}'" for node in nodes)


def _reference_problem(
    graph: nx.DiGraph, node_id: str, data: dict[str, Any], consumers: list[str]
) -> Problem | None:
    """The problem with consuming this node at all (deleted, missing, never published), if any."""
    if data.get("deleted"):
        code, what = ProblemCode.DELETED_REFERENCE, "is deleted but still consumed by"
        hint = "Recreate the object, or remove the reference from these flows and republish them."
    elif data.get("missing"):
        code, what = ProblemCode.MISSING_REFERENCE, "is not in the org but is consumed by"
        hint = "Create the object in this org (same type and name), or remove the reference and republish."
    elif data.get("not_visible"):
        return Problem(
            code=ProblemCode.REFERENCE_NOT_VISIBLE,
            severity=Severity.WARNING,
            object_ids=[node_id],
            consumer_ids=consumers,
            message=(
                f"{_label(data, node_id)} is in a division this OAuth client cannot see, consumed by "
                f"{_names(graph, consumers)}"
            ),
            hint="Give the OAuth client's role access to that division (or all divisions), then scan again.",
        )
    elif data.get("scanned") and data.get("published_version") is None:
        code, what = ProblemCode.UNPUBLISHED_FLOW_CONSUMED, "was never published but is consumed by"
        hint = "Publish this flow first (it comes in an earlier deployment wave)."
    else:
        return None
    # Labels are built only for actual problems: most nodes have none, and joining every
    # consumer name of every node would cost O(E) string work on large orgs.
    return Problem(
        code=code,
        severity=Severity.ERROR,
        object_ids=[node_id],
        consumer_ids=consumers,
        message=f"{_label(data, node_id)} {what} {_names(graph, consumers)}",
        hint=hint,
    )


def _stale_snapshot_problems(
    graph: nx.DiGraph, node_id: str, data: dict[str, Any], consumers: list[str]
) -> list[Problem]:
    current_version = data.get("published_version")
    if data.get("type") not in _STALE_CHECKED_TYPES or current_version is None:
        return []
    problems = []
    for consumer in consumers:
        snapshot_version = graph.edges[consumer, node_id].get("version")
        if snapshot_version is None or not is_older(str(snapshot_version), str(current_version)):
            continue
        consumer_name = graph.nodes[consumer].get("name") or consumer
        problems.append(
            Problem(
                code=ProblemCode.STALE_SNAPSHOT,
                severity=Severity.WARNING,
                object_ids=[node_id],
                consumer_ids=[consumer],
                message=(
                    f"flow '{consumer_name}' ({consumer}) uses version {snapshot_version} of "
                    f"{_label(data, node_id)}, but version {current_version} is published"
                ),
                hint=f"Republish '{consumer_name}' so it picks up version {current_version}.",
            )
        )
    return problems


def _orphan_problem(node_id: str, data: dict[str, Any], consumers: list[str]) -> Problem | None:
    orphan = _ORPHAN_CODES.get(str(data.get("type")))
    if orphan is None or consumers or data.get("deleted") or data.get("missing"):
        return None
    code, kind = orphan
    return Problem(
        code=code,
        severity=Severity.INFO,
        object_ids=[node_id],
        consumer_ids=[],
        message=f"{kind} '{data.get('name') or node_id}' ({node_id}) is not used by any flow",
        hint=f"Delete the {kind} if it is obsolete, or check the flows that should use it.",
    )


def find_problems(graph: nx.DiGraph) -> list[Problem]:
    """Problems of the graph, sorted by code, then object ids, then consumer ids."""
    problems: list[Problem] = []
    for node, data in graph.nodes(data=True):
        node_id = str(node)
        # A flow consuming itself (a transfer to itself) is a cycle, not a consumer.
        consumers = sorted(str(consumer) for consumer in graph.predecessors(node) if consumer != node)
        reference_problem = _reference_problem(graph, node_id, data, consumers) if consumers else None
        orphan_problem = _orphan_problem(node_id, data, consumers)
        problems += [problem for problem in (reference_problem, orphan_problem) if problem is not None]
        problems += _stale_snapshot_problems(graph, node_id, data, consumers)
    return sort_problems(problems)


def failed_object_problems(failed_objects: Iterable[FailedObject]) -> list[Problem]:
    """One ``DEPENDENCY_INDEX_FAILED`` problem per object the dependency index failed on."""
    return [
        Problem(
            code=ProblemCode.DEPENDENCY_INDEX_FAILED,
            severity=Severity.WARNING,
            object_ids=[failed.id],
            consumer_ids=[],
            message=(
                f"the dependency index failed on '{failed.name or failed.id}' ({failed.id}"
                f"{f' version {failed.version}' if failed.version else ''})"
                f"{f': {failed.error_code}' if failed.error_code else ''}; its dependencies may be incomplete"
            ),
            hint="Rebuild the dependency index (POST /api/v2/architect/dependencytracking/build), then scan.",
        )
        for failed in failed_objects
    ]


_UNREAD_HINTS: dict[UnreadReason, str] = {
    UnreadReason.NOT_INDEXED: (
        "The next scan reads it again. If it stays unread, republish the flow or rebuild the "
        "dependency index (POST /api/v2/architect/dependencytracking/build)."
    ),
    UnreadReason.INDEX_FAILED: (
        "Rebuild the dependency index (POST /api/v2/architect/dependencytracking/build); the next "
        "scan reads the flow again."
    ),
    UnreadReason.FORBIDDEN: (
        "Give the OAuth client's role access to the flow's division (or accept that flowops does "
        "not see it); the next scan reads it again."
    ),
    UnreadReason.REFUSED: "The platform refused the read for this flow; the next scan reads it again.",
    UnreadReason.NO_DEPENDENCY_TYPE: (
        "Nothing to do: dependency tracking does not cover this flow type (Terraform skips it too)."
    ),
}


def unread_flow_problems(flows: Iterable[LockedFlow]) -> list[Problem]:
    """One ``DEPENDENCIES_UNREAD`` problem per flow whose consumed resources the scan could not read."""
    problems = []
    for flow in flows:
        if flow.unread is None:
            continue
        reason = flow.unread.reason
        problems.append(
            Problem(
                code=ProblemCode.DEPENDENCIES_UNREAD,
                severity=Severity.INFO if reason is UnreadReason.NO_DEPENDENCY_TYPE else Severity.WARNING,
                object_ids=[flow.id],
                consumer_ids=[],
                message=(
                    f"{flow.type} flow '{flow.name}' ({flow.id} version {flow.published_version}): "
                    f"consumed resources not read ({reason.value}"
                    f"{f': {flow.unread.detail}' if flow.unread.detail else ''}); what it uses is unknown"
                ),
                hint=_UNREAD_HINTS[reason],
            )
        )
    return problems


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    return sorted(
        problems, key=lambda problem: (problem.code.value, problem.object_ids, problem.consumer_ids)
    )
