"""A small org for release tests, and release directories written the way a team writes them.

The org: common module `Shared Menu` (published 1.0) called by `Main IVR` (2.0) and `After Hours`
(1.0); queues `Support` and `Sales`. `Sales Line` calls nobody's module.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flowops.flowyaml import FlowReference, ReferenceKind, render_minimal_flow_yaml

ENV = "test"
MODULE = "m-menu"
MAIN = "f-main"
AFTER = "f-after"
SALES = "f-sales"

ORG_DOCUMENT: dict[str, Any] = {
    "objects": [
        {"id": "q-support", "name": "Support", "type": "QUEUE"},
        {"id": "q-sales", "name": "Sales", "type": "QUEUE"},
    ],
    "flows": [
        {
            "id": MODULE,
            "name": "Shared Menu",
            "type": "COMMONMODULE",
            "publishedVersion": 1,
            "consumes": [{"id": "q-support", "type": "QUEUE"}],
        },
        {
            "id": MAIN,
            "name": "Main IVR",
            "type": "INBOUNDCALL",
            "publishedVersion": 2,
            "consumes": [{"id": "q-support", "type": "QUEUE"}, {"id": MODULE, "type": "COMMONMODULEFLOW"}],
        },
        {
            "id": AFTER,
            "name": "After Hours",
            "type": "INBOUNDCALL",
            "publishedVersion": 1,
            "consumes": [{"id": MODULE, "type": "COMMONMODULEFLOW"}],
        },
        {
            "id": SALES,
            "name": "Sales Line",
            "type": "INBOUNDCALL",
            "publishedVersion": 1,
            "consumes": [{"id": "q-sales", "type": "QUEUE"}],
        },
    ],
}


def queue(name: str) -> FlowReference:
    return FlowReference(kind=ReferenceKind.QUEUE, name=name)


def module(name: str) -> FlowReference:
    return FlowReference(kind=ReferenceKind.COMMONMODULE, name=name)


def transfer(name: str) -> FlowReference:
    return FlowReference(kind=ReferenceKind.FLOW, name=name)


def flow_yaml(flow_type: str, name: str, *refs: FlowReference, description: str = "") -> str:
    return render_minimal_flow_yaml(flow_type, name, refs, description=description or f"{name} (release)")


def write_release(directory: Path, flows: dict[str, str], environments: dict[str, str] | None = None) -> Path:
    """`flows` maps a path under flows/ to its text; `environments` an env name to options text."""
    for relative, text in flows.items():
        path = directory / "flows" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for name, text in (environments if environments is not None else {ENV: "substitutions: {}\n"}).items():
        path = directory / "environments" / f"{name}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return directory


def read_release(directory: Path) -> Any:
    from flowops.cli.release import load_bundle

    return load_bundle(directory)


def answer_connect_with(connection: Any, monkeypatch: Any) -> None:
    """Every CLI command's `connect()` answers with `connection` (a local cloud in this process)."""
    from flowops.cli import local_cloud, publish

    monkeypatch.setattr(local_cloud, "connect", lambda *_: connection)
    monkeypatch.setattr(publish, "connect", lambda *_: connection)


def run_cli(*args: str) -> Any:
    """`flowops ARGS` in this process."""
    from typer.testing import CliRunner

    from flowops.cli import app

    return CliRunner().invoke(app, list(args))
