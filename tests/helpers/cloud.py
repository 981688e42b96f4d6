"""Local cloud fixtures (see src/flowops/local/runtime).

- `aws_credentials`: fake credentials + region in the environment, so no test can reach AWS.
- `moto_aws`: a plain in-process moto for store-level tests (fresh state per test).
- `synthesized_template`: the FlowopsStack template, synthesized once per session (source-only layer).
- `local_cloud` / `local_cloud_factory`: a LocalCloud built from that template (fresh moto per test).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

LOCAL_REGION = "eu-west-1"


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": LOCAL_REGION,
        "AWS_REGION": LOCAL_REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


@pytest.fixture
def moto_aws(aws_credentials: None) -> Iterator[None]:
    from moto import mock_aws

    with mock_aws():
        yield


@pytest.fixture(scope="session")
def synthesized_template() -> dict[str, Any]:
    from flowops.local.runtime.synth import synth_template

    return synth_template()


@pytest.fixture
def local_cloud_factory(
    aws_credentials: None, synthesized_template: dict[str, Any]
) -> Iterator[Callable[..., Any]]:
    """Build LocalClouds (default: from the session template); every one is closed after the test."""
    from flowops.local.runtime.cloud import LocalCloud

    opened: list[LocalCloud] = []

    def factory(**overrides: Any) -> LocalCloud:
        overrides.setdefault("template", synthesized_template)
        cloud = LocalCloud(**overrides)
        cloud.start()
        opened.append(cloud)
        return cloud

    yield factory
    for cloud in reversed(opened):
        cloud.stop()


@pytest.fixture
def local_cloud(local_cloud_factory: Callable[..., Any]) -> Any:
    return local_cloud_factory()
