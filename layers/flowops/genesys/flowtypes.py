"""Flow type <-> dependency-tracking object type: re-exported from the one table in
:mod:`flowops.flowtypes` (SPEECH has no object type; see there)."""

from __future__ import annotations

from flowops.flowtypes import (
    FLOW_TYPE_TO_OBJECT_TYPE,
    FLOW_TYPES,
    dependency_object_type,
    flow_type_for_object_type,
    is_flow_object_type,
)

__all__ = [
    "FLOW_TYPES",
    "FLOW_TYPE_TO_OBJECT_TYPE",
    "dependency_object_type",
    "flow_type_for_object_type",
    "is_flow_object_type",
]
