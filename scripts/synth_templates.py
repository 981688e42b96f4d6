"""Write the local templates the wheel ships (src/flowops/local/templates/<environment>.json, and
a copy of cdk.json).

    make templates        # = .venv/bin/python scripts/synth_templates.py

Installed from the wheel, the local cloud has no CDK app to synthesize (flowops.local.packaged);
tests/packaging/test_templates.py fails when these files differ from a fresh synthesis.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from flowops.local.packaged import packaged_name, packaged_variants, template_text
from flowops.local.runtime.synth import synth_template

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "src" / "flowops" / "local" / "templates"


def main() -> None:
    TEMPLATES_DIR.mkdir(parents=True, exist_ok=True)
    for stale in TEMPLATES_DIR.glob("*.json"):
        stale.unlink()
    shutil.copyfile(TEMPLATES_DIR.parents[3] / "cdk.json", TEMPLATES_DIR / "cdk.json")
    for environment, git in packaged_variants():
        path = TEMPLATES_DIR / packaged_name(environment, git)
        path.write_text(template_text(synth_template(environment, git=git)), encoding="utf-8")
        print(f"wrote {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")


if __name__ == "__main__":
    main()
