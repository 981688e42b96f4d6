"""Architect flow YAML: substitutions, YAML 1.1 quirks, reference extraction, structure.

document = parse_flow_yaml(text, {"queue_name": "Support"})
document.references          # [FlowReference(kind=QUEUE, name="Support", ...)]
document.unreachable_tasks   # ["task:Old Task_12"]
"""

from flowops.flowyaml.errors import FlowYamlError
from flowops.flowyaml.flow_types import KNOWN_YAML_KEYS, FlowTypeInfo, flow_type_for_yaml_key, flow_type_info
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
