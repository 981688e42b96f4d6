"""Architect flow YAML: substitutions, YAML 1.1 quirks, reference extraction, structure.

document = parse_flow_yaml(text, {"queue_name": "Support"})
document.references          # [FlowReference(kind=QUEUE, name="Support", ...)]
document.unreachable_tasks   # ["task:Old Task_12"]

The names below are imported on first use (`flowops.lazy_exports`): importing one submodule
builds no pydantic model of the others (a handler's cold start, issue 13).
"""

from typing import TYPE_CHECKING

from flowops.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from flowops.flowyaml.errors import FlowYamlError
    from flowops.flowyaml.flow_types import (
        KNOWN_YAML_KEYS,
        FlowTypeInfo,
        flow_type_for_yaml_key,
        flow_type_info,
    )
    from flowops.flowyaml.models import (
        DanglingRef,
        DynamicReference,
        FlowDocument,
        FlowEdge,
        FlowNode,
        FlowReference,
        FlowStructure,
        NodeKind,
        ReferenceKind,
    )
    from flowops.flowyaml.parser import parse_flow_yaml
    from flowops.flowyaml.render import render_minimal_flow_yaml
    from flowops.flowyaml.substitutions import SubstitutionSet

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "flowops.flowyaml.errors": ("FlowYamlError",),
        "flowops.flowyaml.flow_types": (
            "KNOWN_YAML_KEYS",
            "FlowTypeInfo",
            "flow_type_for_yaml_key",
            "flow_type_info",
        ),
        "flowops.flowyaml.models": (
            "DanglingRef",
            "DynamicReference",
            "FlowDocument",
            "FlowEdge",
            "FlowNode",
            "FlowReference",
            "FlowStructure",
            "NodeKind",
            "ReferenceKind",
        ),
        "flowops.flowyaml.parser": ("parse_flow_yaml",),
        "flowops.flowyaml.render": ("render_minimal_flow_yaml",),
        "flowops.flowyaml.substitutions": ("SubstitutionSet",),
    },
)

__all__ = [
    "KNOWN_YAML_KEYS",
    "DanglingRef",
    "DynamicReference",
    "FlowDocument",
    "FlowEdge",
    "FlowNode",
    "FlowReference",
    "FlowStructure",
    "FlowTypeInfo",
    "FlowYamlError",
    "NodeKind",
    "ReferenceKind",
    "SubstitutionSet",
    "flow_type_for_yaml_key",
    "flow_type_info",
    "parse_flow_yaml",
    "render_minimal_flow_yaml",
]
