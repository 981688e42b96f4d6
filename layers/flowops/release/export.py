"""Export an org's published flows as release files (`flowops export`).

Each chosen flow's PUBLISHED version goes through the real export jobs API and lands in
`flows/<yamlKey>/<slug>.yaml` (`flowops.release.bundle.export_path`). The text is written exactly
as exported: a release built from the directory plans every exported flow as `unchanged`.
A file that already holds the flow (same type and name, found by reading the directory) is
rewritten in place, so a flow keeps its file name across exports even when slugs collide.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import BaseModel, ConfigDict

from flowops.flowyaml import flow_type_info
from flowops.genesys.models import Flow
from flowops.release.bundle import export_path
from flowops.release.errors import BundleError
from flowops.release.live import GenesysLiveOrg, published_version


class ExportedFlow(BaseModel):
    model_config = ConfigDict(frozen=True)

    flow_id: str
    name: str
    flow_type: str
    version: str
    path: str
    text: str


class ExportResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    exported: list[ExportedFlow]
    skipped: list[str]
    """Flows chosen but not exported, each with the reason (never published, unknown type)."""


def choose_flows(live: GenesysLiveOrg, selectors: Sequence[str] | None) -> tuple[list[Flow], list[str]]:
    """`selectors` are flow names or `TYPE/name`; None: every non-system flow of the org."""
    flows = sorted(live.all_flows(), key=lambda f: ((f.type or ""), (f.name or "")))
    if selectors is None:
        return [flow for flow in flows if not flow.system], []
    chosen: list[Flow] = []
    missing: list[str] = []
    for selector in selectors:
        flow_type, slash, name = selector.partition("/")
        if slash and flow_type_info(flow_type) is not None:
            wanted = flow_type_info(flow_type)
            matches = [f for f in flows if f.name == name and wanted and f.type == wanted.flow_type]
        else:
            matches = [f for f in flows if f.name == selector]
        if not matches:
            missing.append(selector)
        chosen.extend(match for match in matches if match not in chosen)
    if missing:
        raise BundleError(
            f"no flow called {', '.join(repr(m) for m in missing)} in the org "
            "(names are exact; use TYPE/name, e.g. INBOUNDCALL/Main IVR, when two types share a name)"
        )
    return chosen, []


def flow_file_path(flow_type: str, name: str, taken: Mapping[str, str] | None = None) -> str | None:
    """Where a flow of Genesys type `flow_type` (or its YAML key) called `name` lives in a release
    directory (`flows/<yamlKey>/<slug>.yaml`, `export_path`); None for a type Architect YAML has
    no key for. What export writes and what `live/<env>` removes when the flow leaves the org."""
    info = flow_type_info(flow_type)
    return export_path(info.yaml_key, name, taken or {}) if info is not None else None


def export_flows(
    live: GenesysLiveOrg, flows: Sequence[Flow], *, existing: Mapping[str, str] | None = None
) -> ExportResult:
    """Export each flow's published version; `existing` maps paths already in the directory to
    the flow they hold (`<yamlKey>/<name>`), so a flow keeps its file."""
    taken: dict[str, str] = dict(existing or {})
    by_identity = {identity: path for path, identity in taken.items()}
    exported: list[ExportedFlow] = []
    skipped: list[str] = []
    for flow in flows:
        info = flow_type_info(flow.type or "")
        version = published_version(flow)
        label = f"{flow.type} {flow.name!r}"
        if info is None:
            skipped.append(f"{label}: Architect YAML has no key for flow type {flow.type}")
            continue
        if version is None:
            skipped.append(f"{label}: never published (nothing to export)")
            continue
        identity = f"{info.yaml_key}/{flow.name}"
        path = by_identity.get(identity) or export_path(info.yaml_key, flow.name or "", taken)
        taken[path] = identity
        by_identity[identity] = path
        text = live.published_yaml(flow)
        exported.append(
            ExportedFlow(
                flow_id=flow.id,
                name=flow.name or "",
                flow_type=flow.type or "",
                version=version,
                path=path,
                text=text,
            )
        )
    return ExportResult(exported=exported, skipped=skipped)
