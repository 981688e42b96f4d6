from __future__ import annotations

from typing import Any

import pytest

from tests.integration.runtime.probe_stack import PROBE_SOURCES, add_probe_workflow


@pytest.fixture(scope="session")
def probe_template() -> dict[str, Any]:
    """FlowopsStack + the probe workflow, synthesized once (cached on disk by source hash)."""
    from flowops.local.runtime.synth import synth_template

    return synth_template(extend=add_probe_workflow, extend_source=PROBE_SOURCES)
