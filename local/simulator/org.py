"""The in-memory org of the simulator: model, generator and org-file loader in one import.

from local.simulator.org import Org, generate_org, load_org_file, OrgFileError
"""

from __future__ import annotations

from local.simulator.archyaml import render_flow_yaml
from local.simulator.generator import GENERATED_ORG_EPOCH, generate_org
from local.simulator.model import (
    FLOW_OBJECT_TYPES,
    FLOW_TYPES,
    KNOWN_OBJECT_TYPES,
    Dependency,
    Flow,
    FlowVersion,
    Operation,
    Org,
    OrgObject,
    Principal,
)
from local.simulator.orgfile import OrgFileError, load_org_file, parse_org_document

__all__ = [
    "FLOW_OBJECT_TYPES",
    "FLOW_TYPES",
    "GENERATED_ORG_EPOCH",
    "KNOWN_OBJECT_TYPES",
    "Dependency",
    "Flow",
    "FlowVersion",
    "Operation",
    "Org",
    "OrgFileError",
    "OrgObject",
    "Principal",
    "generate_org",
    "load_org_file",
    "parse_org_document",
    "render_flow_yaml",
]
