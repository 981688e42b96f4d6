"""A marker secret in the local Genesys secret never shows up in logs, history, outputs or artifacts.

A full scan runs (the synthesized state machine, the real handlers, the simulator); everything
it writes where people or other systems can read it is then searched for the marker.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.slow

MARKER_CLIENT_ID = "flowops-marker-client"
MARKER_SECRET = "MARKER-s3cr3t-7d1f0c9e-never-print-me"


def test_a_scan_never_writes_the_genesys_client_secret_anywhere(
    start_simulator: Callable[..., Any],
    local_cloud_factory: Callable[..., Any],
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given the Genesys secret in Secrets Manager holds a recognizable client secret
    # INFO is what the stack deploys (POWERTOOLS_LOG_LEVEL); botocore's own DEBUG wire dumps are off there.
    caplog.set_level(logging.INFO)
    sim = start_simulator(flows=30, seed=5, client_id=MARKER_CLIENT_ID, client_secret=MARKER_SECRET)
    cloud = local_cloud_factory(
        genesys_base_url=sim.url,
        genesys_credentials=(MARKER_CLIENT_ID, MARKER_SECRET),
        env_overrides={"FLOWOPS_TIME_SCALE": "60"},
    )
    # When a scan runs end to end (it must authenticate with that secret to succeed)
    result = cloud.start_and_wait(
        "ScanWorkflow/StateMachine", {"page_size": 25}, name="secret-scan", timeout=120
    )
    assert result.status == "SUCCEEDED", result.cause
    # Then the secret is in none of: captured stdout/stderr, log records, execution history,
    # the execution output, or any artifact the scan stored
    captured = capfd.readouterr()
    assert MARKER_SECRET not in captured.out + captured.err
    assert all(MARKER_SECRET not in record.getMessage() for record in caplog.records)
    assert all(MARKER_SECRET not in json.dumps(record.__dict__, default=str) for record in caplog.records)
    history = cloud.sfn.get_execution_history(executionArn=result.execution_arn, maxResults=1000)
    assert MARKER_SECRET not in json.dumps(history["events"], default=str)
    assert MARKER_SECRET not in json.dumps(result.output)
    bucket = cloud.function_environment("ReportScan")["ARTIFACTS_BUCKET"]
    keys = [item["Key"] for item in cloud.s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert keys, "the scan stored no artifacts"
    for key in keys:
        body = cloud.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        assert MARKER_SECRET.encode() not in body, key
    # and no function environment carries it (only the secret's name)
    for function in ("CheckDependencyIndex", "ReadFlowPage", "ReportScan"):
        assert MARKER_SECRET not in json.dumps(cloud.function_environment(function))
