"""The synthesized template passes cfn-lint with no error (warnings are reported, not fatal:
the source-only template's refusal rule is, on purpose, always false — W8003)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.infra.conftest import SynthesizedApp


def test_cfn_lint_finds_no_error_in_the_synthesized_template(
    synthesized_with_nag: SynthesizedApp, tmp_path: Path
) -> None:
    # Given the synthesized template on disk
    template = tmp_path / "template.json"
    template.write_text(json.dumps(synthesized_with_nag.template))
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    # When cfn-lint checks it
    result = subprocess.run(
        [str(cfn_lint), "--format", "json", str(template)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    findings = json.loads(result.stdout or "[]")
    # Then no finding is an error
    errors = [f"{f['Rule']['Id']}: {f['Message']}" for f in findings if f["Level"] == "Error"]
    assert errors == []
