"""The synthesis cache key covers everything the CDK app reads: infra/, cdk.json and the flowops
modules infra/ imports (a change in the scan's limits changes the template's timeouts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowops.local.runtime import synth


def test_the_flowops_modules_infra_imports_are_part_of_the_key() -> None:
    root = synth._checkout()
    imported = synth._flowops_modules_imported_by(sorted((root / "infra").rglob("*.py")))
    names = {path.relative_to(root).as_posix() for path in imported}
    assert {"layers/flowops/scan/shape.py", "src/flowops/stacknames.py"} <= names


def test_a_change_in_an_imported_flowops_module_changes_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    before = synth.infra_fingerprint()
    shape = next(
        path
        for path in synth._flowops_modules_imported_by(sorted((synth._checkout() / "infra").rglob("*.py")))
        if path.name == "shape.py"
    )
    original = Path.read_bytes

    def edited(path: Path) -> bytes:
        data = original(path)
        return data + b"\n# edited\n" if path == shape else data

    monkeypatch.setattr(Path, "read_bytes", edited)
    assert synth.infra_fingerprint() != before
