"""A cloud that dies while a command runs: one `error:` line, exit 3, never a traceback.

The stack's resources run in an in-process moto (`cli_cloud`); every boto3 client the CLI
creates gets a `before-call` hook that, once the cloud has "died" (after the command's N-th
successful AWS call), refuses every call with the same EndpointConnectionError botocore raises
when an endpoint stops answering. N varies so that the death lands at different points:
before the execution starts, right after, and while it is followed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError
from typer.testing import CliRunner

from flowops.cli import app, exit_codes, local_cloud
from flowops.cli.local_cloud import CloudConnection, TargetSelection
from flowops.lock import canonical_bytes, lock_sha256
from flowops.store import ArtifactStore, LockPointerStore, lock_key
from flowops.webhook.lookup import substitutions_key
from tests.unit.lock.org_files import load_org_lock


class DyingCloud:
    def __init__(self) -> None:
        self.calls_left: int | None = None
        self.refused = 0

    def hook(self, **_: Any) -> None:
        if self.calls_left is None:
            return
        if self.calls_left <= 0:
            self.refused += 1
            raise EndpointConnectionError(endpoint_url="http://127.0.0.1:4566/")
        self.calls_left -= 1


@pytest.fixture
def dying(cli_cloud: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[DyingCloud]:
    environment = cli_cloud.function_environment("CheckDependencyIndex")
    org = environment.get("FLOWOPS_ORG", "dev")
    lock = load_org_lock("diamond", org=org)
    sha = lock_sha256(lock)
    artifacts = ArtifactStore(environment["ARTIFACTS_BUCKET"], cli_cloud.s3)
    artifacts.put_immutable(lock_key(org, sha), canonical_bytes(lock))
    artifacts.put_json(substitutions_key(org, "dev"), {})
    LockPointerStore(environment["STATE_TABLE"], cli_cloud.dynamodb).advance(
        org, sha, None, key=lock_key(org, sha), scan_id="dying"
    )
    monkeypatch.setenv(
        "FLOWOPS_SCAN_STATE_MACHINE_ARN", cli_cloud.state_machine_arn("ScanWorkflow/StateMachine")
    )
    cloud = DyingCloud()
    original = CloudConnection.client

    def client(self: CloudConnection, service: str) -> Any:
        created = original(self, service)
        created.meta.events.register("before-call", cloud.hook)
        return created

    monkeypatch.setattr(CloudConnection, "client", client)
    local_cloud.select_target(TargetSelection())
    yield cloud
    local_cloud.select_target(TargetSelection())


FLOW = "flow-top"  # a flow of the diamond org
LONG_RUNNING = [
    ["scan", "--timeout", "30"],
    ["publish", "--flow", FLOW, "--version", "1.0", "--timeout", "30"],
    ["trace", "--flow", FLOW, "--since", "2h", "--timeout", "30"],
    ["graph", "waves"],
    ["lock", "show"],
    ["runs", "list"],
]


def test_a_cloud_dying_mid_command_is_one_error_line_and_exit_3(dying: DyingCloud) -> None:
    # One cloud for every command (starting the stack's resources is the slow part)
    deaths = 0
    for arguments in LONG_RUNNING:
        for calls_before_death in (0, 1, 3, 6):
            # Given a cloud that answers `calls_before_death` calls of this command, then dies
            dying.calls_left, dying.refused = calls_before_death, 0
            # When the command runs
            result = CliRunner().invoke(app, arguments)
            label = f"{' '.join(arguments)} (dies after {calls_before_death} calls)"
            # Then it ends with one error line and "unreachable" whenever the death reached it
            assert "Traceback" not in result.output, label
            assert "internal error" not in result.stderr, f"{label}: {result.stderr}"
            if dying.refused:
                deaths += 1
                assert result.exit_code == exit_codes.UNREACHABLE, (
                    f"{label}: exit {result.exit_code}\n{result.output}"
                )
                errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
                assert len(errors) == 1, f"{label}: {result.stderr}"
            else:
                assert result.exit_code in exit_codes.DOCUMENTED, label
    dying.calls_left = None
    assert deaths >= 2 * len(LONG_RUNNING)  # short commands finish before the later deaths
