"""Test configuration: fixtures live in tests/helpers and are loaded as plugins."""

import pytest

pytest_plugins = [
    "tests.helpers.simulator",
    "tests.helpers.cloud",
]


@pytest.fixture(autouse=True)
def _cli_artifacts_in_tmp(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """CLI artifacts (reports, waterfalls, logs, the embedded cloud's kept state) go to a
    per-test folder: a state kept by one test (or by a developer's own runs) must never be
    restored into another."""
    monkeypatch.setenv("FLOWOPS_ARTIFACTS_DIR", str(tmp_path_factory.mktemp("flowops-artifacts")))


@pytest.fixture(autouse=True)
def _fresh_flow_visibility_cache() -> None:
    """Tests reuse scan ids over different orgs: a direct read cached by one must not answer another."""
    from flowops.scan.pages import forget_flow_visibility

    forget_flow_visibility()
