"""Flow and object types as the lock needs them: re-exported from the one table in
:mod:`flowops.flowtypes` (kept as a module so ``flowops.lock`` stays importable on its own)."""

from __future__ import annotations

from flowops.flowtypes import (
    COMMON_MODULE_OBJECT_TYPE,
    DATA_ACTION_OBJECT_TYPE,
    FLOW_OBJECT_TYPES,
    flow_object_type,
    is_flow_object_type,
)

__all__ = [
    "COMMON_MODULE_OBJECT_TYPE",
    "DATA_ACTION_OBJECT_TYPE",
    "FLOW_OBJECT_TYPES",
    "flow_object_type",
    "is_flow_object_type",
]
