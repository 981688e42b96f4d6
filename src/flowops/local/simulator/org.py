"""The in-memory org of the simulator: model, generator and org-file loader in one import.

from flowops.local.simulator.org import Org, generate_org, load_org_file, OrgFileError
from flowops.local.simulator.org import load_or_generate_org, OrgSourceError   # what the CLI uses
"""

from __future__ import annotations

from pathlib import Path

from flowops.local.simulator.archyaml import render_flow_yaml
from flowops.local.simulator.generator import GENERATED_ORG_EPOCH, generate_org
from flowops.local.simulator.model import (
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
from flowops.local.simulator.orgfile import OrgFileError, load_org_file, parse_org_document


class OrgSourceError(ValueError):
    """The org could not be loaded or generated; the message is one line a user can act on."""


def load_or_generate_org(
    *, flows: int = 200, seed: int = 1, org_file: str | Path | None = None, now: float | None = None
) -> Org:
    """The org a simulator serves: read from `org_file` when given, else generated from
    (`flows`, `seed`). Every `flowops` command that starts a simulator goes through here, so an
    org file is read and its errors are reported the same way everywhere.

    Raises OrgSourceError only (a malformed or unreadable file, or fewer than one flow).
    """
    if org_file is not None:
        try:
            return load_org_file(org_file, now=now)
        except OrgFileError as error:
            raise OrgSourceError(str(error)) from None
    if flows < 1:
        # Checked here rather than caught from generate_org: its ValueError is not a user message.
        raise OrgSourceError(f"a generated org needs at least one flow, got {flows}")
    return generate_org(flows, seed=seed, now=now)


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
    "OrgSourceError",
    "Principal",
    "generate_org",
    "load_or_generate_org",
    "load_org_file",
    "parse_org_document",
    "render_flow_yaml",
]
