"""Test helper: simulator org files (tests/unit/fixtures/orgs/*.json) as Lockfiles.

The org file format is the simulator's: ``{"flows": [{"id", "name", "type", "publishedVersion",
"consumes": [{"id", "type"}]}], "objects": [{"id", "name", "type", "deleted"?}]}``. The lock
fixtures also use two optional keys: ``version`` on a ``consumes`` entry (the version the
consumer snapshotted; defaults to the consumed object's current version) and ``version`` on an
object (its published version, e.g. a data action's). A consumed id that is neither a flow nor an
object becomes a ``missing`` object, as a scan records a reference the org cannot resolve.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flowops.lock import LockedDependency, LockedFlow, LockedObject, Lockfile

ORGS_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "orgs"


def lock_from_org_document(document: dict[str, Any], org: str = "fixture") -> Lockfile:
    flows: list[dict[str, Any]] = document.get("flows", [])
    objects: list[dict[str, Any]] = document.get("objects", [])
    names = {record["id"]: record["name"] for record in [*flows, *objects]}
    current_versions = {flow["id"]: flow.get("publishedVersion") for flow in flows}
    current_versions |= {record["id"]: record.get("version") for record in objects}

    locked_flows = [
        LockedFlow(
            id=flow["id"],
            name=flow["name"],
            type=flow["type"],
            published_version=flow.get("publishedVersion"),
            consumes=[
                LockedDependency(
                    id=consumed["id"],
                    type=consumed["type"],
                    name=names.get(consumed["id"], ""),
                    version=consumed.get("version", current_versions.get(consumed["id"])),
                )
                for consumed in flow.get("consumes", [])
            ],
        )
        for flow in flows
    ]
    locked_objects = [
        LockedObject(
            id=record["id"],
            name=record["name"],
            type=record["type"],
            version=record.get("version"),
            deleted=bool(record.get("deleted", False)),
        )
        for record in objects
    ]
    known_ids = set(names)
    locked_objects += [
        LockedObject(id=consumed["id"], type=consumed["type"], missing=True)
        for flow in flows
        for consumed in flow.get("consumes", [])
        if consumed["id"] not in known_ids
    ]
    return Lockfile(org=org, flows=locked_flows, objects=locked_objects)


def load_org_lock(name: str, org: str = "fixture") -> Lockfile:
    """The lock of fixture ``tests/unit/fixtures/orgs/<name>.json``."""
    document = json.loads((ORGS_DIR / f"{name}.json").read_text(encoding="utf-8"))
    return lock_from_org_document(document, org=org)
