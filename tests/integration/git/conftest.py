"""A real local Git server (dulwich smart HTTP) for the `live/<env>` mirror tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from flowops.local.gitserver import LocalGitServer
from tests.helpers.gitrepo import MIRROR_TOKEN


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalGitServer]:
    """One repository, `flows`. The webhook URL is a closed port: deliveries fail, the mirror
    does not care."""
    with LocalGitServer(
        tmp_path / "repos", webhook_url="http://127.0.0.1:9/", secret="s", token=MIRROR_TOKEN
    ) as srv:
        srv.create_repository("flows")
        yield srv
