"""The embedded cloud keeps its state between commands (src/flowops/cli/embedded_state.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from flowops.cli import app, embedded_state, exit_codes
from flowops.cli.local_cloud import CloudConnection
from flowops.lock import canonical_bytes, lock_sha256
from flowops.store import ArtifactStore, LockPointerStore, lock_key
from tests.unit.lock.org_files import load_org_lock


def _connection(cloud: Any) -> CloudConnection:
    environment = cloud.function_environment("CheckDependencyIndex")
    return CloudConnection(
        region=cloud.region,
        org=environment.get("FLOWOPS_ORG", "dev"),
        artifacts_bucket=environment["ARTIFACTS_BUCKET"],
        state_table=environment["STATE_TABLE"],
        audit_table=environment["AUDIT_TABLE"],
    )


def test_a_kept_state_comes_back_in_a_new_cloud_and_answers_graph_without_one(
    local_cloud_factory: Callable[..., Any], no_cloud: None, tmp_path: Path
) -> None:
    # Given an embedded stack holding a lock and its pointer, saved when its command ended
    first = local_cloud_factory()
    connection = _connection(first)
    lock = load_org_lock("nested_cycles", org=connection.org)
    sha = lock_sha256(lock)
    artifacts = ArtifactStore(connection.artifacts_bucket, first.s3)
    artifacts.put_immutable(lock_key(connection.org, sha), canonical_bytes(lock))
    LockPointerStore(connection.state_table, first.dynamodb).advance(
        connection.org, sha, None, key=lock_key(connection.org, sha), scan_id="kept"
    )
    parameters = embedded_state.parameters_of(10, 1, None)
    directory = embedded_state.save(connection, parameters)
    first.stop()

    # When no cloud runs, graph and lock questions are asked
    waves = CliRunner().invoke(app, ["graph", "waves", "--json"])
    shown = CliRunner().invoke(app, ["lock", "show", "--json"])

    # Then they are answered from the kept lock, and say so on stderr
    assert waves.exit_code == exit_codes.OK, waves.output
    assert json.loads(waves.stdout)["lock_sha256"] == sha
    assert "last embedded scan kept" in waves.stderr
    assert shown.exit_code == exit_codes.OK and json.loads(shown.stdout)["lock_sha256"] == sha

    # When the next embedded cloud of the same org starts, it gets the same data back
    second = local_cloud_factory()
    state = embedded_state.load_state(directory)
    assert state is not None and state.parameters == parameters
    embedded_state.restore(_connection(second), state, directory)
    pointer = LockPointerStore(connection.state_table, second.dynamodb).get_current(connection.org)
    assert pointer is not None and pointer.sha == sha
    body = ArtifactStore(connection.artifacts_bucket, second.s3).get_bytes(lock_key(connection.org, sha), sha)
    assert body == canonical_bytes(lock)


def test_without_a_kept_state_graph_still_says_no_cloud(no_cloud: None) -> None:
    result = CliRunner().invoke(app, ["graph", "waves"])
    assert result.exit_code == exit_codes.UNREACHABLE
    assert "flowops local up" in result.stderr
