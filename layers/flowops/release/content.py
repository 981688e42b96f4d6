"""A release's flows for one environment, and the normalised content used to compare them.

Two YAML texts of a flow are "the same content" when they load to the same document: key order,
quoting style, comments, indentation, line ends, a byte-order mark and `{{placeholders}}` already
filled in never count. That is what a person means by "nothing changed", and it is what Architect
reads (it parses the YAML; the text is not kept).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from flowops.flowtypes import flow_type_for_object_type
from flowops.flowyaml import FlowDocument, FlowReference, FlowYamlError, parse_flow_yaml
from flowops.flowyaml.substitutions import substitute_placeholders
from flowops.release.bundle import BundleFlow, ReleaseBundle


def content_digest(document: dict[str, Any]) -> str:
    """sha256 of the loaded document as canonical JSON (sorted keys, no whitespace)."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def yaml_content_digest(text: str) -> str | None:
    """The digest of a flow YAML text (already substituted); None when it does not parse."""
    try:
        return content_digest(parse_flow_yaml(text).raw)
    except FlowYamlError:
        return None


def flow_key(flow_type: str, name: str) -> str:
    """`INBOUNDCALL/Main IVR`: flows are unique by type and name in an org."""
    return f"{flow_type.upper()}/{name}"


class FlowRef(BaseModel):
    """A reference from one flow to another flow (a transfer, a module call, an in-queue flow)."""

    model_config = ConfigDict(frozen=True)

    name: str
    flow_type: str | None
    """None: the YAML does not say the type (a generic flow transfer)."""


class ResolvedFlow(BaseModel):
    """One flow file of the release with the environment's substitutions applied."""

    model_config = ConfigDict(frozen=True)

    path: str
    name: str
    flow_type: str
    deploy_yaml: str = Field(repr=False)
    content_sha256: str
    flow_refs: list[FlowRef] = Field(default_factory=list)
    references: list[FlowReference] = Field(default_factory=list, repr=False)
    dangling: list[str] = Field(default_factory=list)
    unreachable: list[str] = Field(default_factory=list)
    dynamic: list[str] = Field(default_factory=list)

    @property
    def key(self) -> str:
        return flow_key(self.flow_type, self.name)


class UnreadableFlow(BaseModel):
    model_config = ConfigDict(frozen=True)

    path: str
    message: str
    line: int | None = None


def resolve_flow(path: str, text: str, substitutions: dict[str, str]) -> ResolvedFlow | UnreadableFlow:
    """Substitute, parse (strict placeholders: a missing value is an error) and summarise."""
    try:
        document = parse_flow_yaml(text, substitutions, strict_placeholders=True)
    except FlowYamlError as error:
        hint = f" (fix: {error.hint})" if error.hint else ""
        return UnreadableFlow(path=path, message=f"{error}{hint}", line=error.line)
    normalised = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    deploy_yaml = substitute_placeholders(normalised, substitutions).text
    return ResolvedFlow(
        path=path,
        name=document.name,
        flow_type=document.flow_type.upper(),
        deploy_yaml=deploy_yaml,
        content_sha256=content_digest(document.raw),
        flow_refs=flow_references(document),
        references=list(document.references),
        dangling=[f"{d.location}: {d.ref}" for d in document.structure.dangling_refs],
        unreachable=list(document.unreachable_tasks),
        dynamic=[f"{d.kind.value} at {d.location} ({d.expression})" for d in document.dynamic_references],
    )


def flow_references(document: FlowDocument) -> list[FlowRef]:
    refs: dict[tuple[str, str | None], FlowRef] = {}
    for reference in document.references:
        object_type = reference.object_type.upper()
        flow_type = flow_type_for_object_type(object_type)
        if flow_type is None and object_type != "FLOW":
            continue
        refs[(reference.name, flow_type)] = FlowRef(name=reference.name, flow_type=flow_type)
    return sorted(refs.values(), key=lambda ref: (ref.name, ref.flow_type or ""))


def resolve_bundle(
    bundle: ReleaseBundle, environment: str
) -> tuple[list[ResolvedFlow], list[UnreadableFlow]]:
    """Every flow file of the bundle for `environment` (BundleError if it has no options file)."""
    substitutions = bundle.substitutions(environment)
    readable: list[ResolvedFlow] = []
    unreadable: list[UnreadableFlow] = []
    for flow in bundle.flows:
        resolved = resolve_flow(flow.path, flow.text, substitutions)
        (readable if isinstance(resolved, ResolvedFlow) else unreadable).append(resolved)  # type: ignore[arg-type]
    return readable, unreadable


__all__ = [
    "BundleFlow",
    "FlowRef",
    "ResolvedFlow",
    "UnreadableFlow",
    "content_digest",
    "flow_key",
    "resolve_bundle",
    "resolve_flow",
    "yaml_content_digest",
]
