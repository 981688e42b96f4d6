"""The dependency graph of a lock.

One node per object id: every flow of the lock, every object the lock lists and every id a
flow consumes. One edge ``A → B`` per "A's published version consumes B", carrying the
consumed ``version``. Node attributes:

``type``
    dependency-tracking object type (``INBOUNDCALLFLOW``, ``DATAACTION``, ``QUEUE`` ...)
``name``, ``published_version``
    from the flow record when the node is a scanned flow, else from the object record, else
    from the consuming dependency record (the name/version Genesys reported for it)
``deleted``, ``missing``
    ``missing`` is set for objects the lock marks missing and for consumed ids the lock has
    no record of at all
``is_flow``
    the node is an Architect flow (scanned, or of a flow object type)
``scanned``
    the node is one of the lock's flows (its own consumed resources are in the graph)
``flow_type``
    the flow type (``INBOUNDCALL``) for scanned flows, else None
``unread``
    only on scanned flows whose consumed resources could not be read: the reason code
"""

from __future__ import annotations

from typing import Any

import networkx as nx

from flowops.flowtypes import is_flow_object_type
from flowops.lock import Lockfile


def build_graph(lock: Lockfile) -> nx.DiGraph:
    """Build the consumes-graph of ``lock``; deterministic (nodes and edges added in sorted order)."""
    attributes: dict[str, dict[str, Any]] = {}

    # Precedence, weakest first: what a consumer reported, the object record, the flow record.
    for flow in lock.flows:
        for dependency in flow.consumes:
            if dependency.id in attributes:
                continue
            attributes[dependency.id] = {
                "type": dependency.type,
                "name": dependency.name or dependency.id,
                "published_version": None,
                "deleted": False,
                "missing": True,
                "is_flow": is_flow_object_type(dependency.type),
                "scanned": False,
                "flow_type": None,
            }
    for locked in lock.objects:
        attributes[locked.id] = {
            "type": locked.type,
            "name": locked.name or locked.id,
            "published_version": locked.version,
            "deleted": locked.deleted,
            "missing": locked.missing,
            "not_visible": bool(locked.not_visible),
            "is_flow": is_flow_object_type(locked.type),
            "scanned": False,
            "flow_type": None,
        }
    for flow in lock.flows:
        known = attributes.get(flow.id)
        attributes[flow.id] = {
            # A flow type dependency tracking does not cover has no object type: show its flow type.
            "type": flow.object_type or flow.type,
            "name": flow.name,
            "published_version": flow.published_version,
            # A flow listed by the scan exists; the deleted flag is the object record's to give.
            "deleted": bool(known["deleted"]) if known is not None else False,
            "missing": False,
            "is_flow": True,
            "scanned": True,
            "flow_type": flow.type,
        }
        if flow.unread is not None:
            attributes[flow.id]["unread"] = flow.unread.reason.value

    graph = nx.DiGraph(org=lock.org)
    graph.add_nodes_from((node_id, attributes[node_id]) for node_id in sorted(attributes))
    graph.add_edges_from(
        (flow.id, dependency.id, {"version": dependency.version, "type": dependency.type})
        for flow in lock.flows
        for dependency in flow.consumes
    )
    return graph
