"""`flowops local up` serves the webhook API, prints its URL and records it for the other commands."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.integration.local_webhook.endpoint import PROJECT_ROOT

pytestmark = pytest.mark.slow  # a whole `local up` in a subprocess (moto server + stack resources)
STARTUP_TIMEOUT_SECONDS = 240


def test_local_up_serves_the_webhook_api_and_records_its_url(tmp_path: Path) -> None:
    # Given: `flowops local up` with its endpoints file in a temporary place
    endpoints = tmp_path / "endpoints.json"
    environment = {
        **os.environ,
        "FLOWOPS_LOCAL_ENDPOINTS": str(endpoints),
        "FLOWOPS_ARTIFACTS_DIR": str(tmp_path / "artifacts"),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }
    environment.pop("AWS_PROFILE", None)
    process = subprocess.Popen(
        [sys.executable, "-c", "from flowops.cli import main; main()", "local", "up", "--flows", "3"],
        cwd=PROJECT_ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        # When: it reports ready
        assert process.stdout is not None
        printed: list[str] = []
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while not any(line.startswith("ready:") for line in printed) and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            printed.append(line.rstrip("\n"))
        webhook_lines = [line for line in printed if line.startswith("webhook api")]
        # (dev's org, with no genesysRateLimit in cdk.json: Genesys's documented per-token budget)
        assert any(
            line.split() == ["genesys", "limit", "300", "requests/min", "per", "token", "(simulated", "time)"]
            for line in printed
        ), printed

        # Then: it printed the webhook URL, wrote it to the endpoints file, and the URL answers
        assert len(webhook_lines) == 1, printed
        url = webhook_lines[0].split()[-1]
        assert url.startswith("http://127.0.0.1:") and url.endswith("/publish")
        assert json.loads(endpoints.read_text())["webhook_url"] == url
        unsigned = requests.post(url, json={}, timeout=30)
        assert unsigned.status_code == 401
        forged = requests.post(
            url, data=b"{}", headers={"X-Hub-Signature-256": "sha256=" + "0" * 64}, timeout=30
        )
        assert forged.status_code == 401
        assert forged.json()["code"] == "webhook.signature"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    # And: a stopped `local up` leaves no endpoints file behind
    assert process.returncode == 0
    assert not endpoints.exists()
    # And: the terminal got the summary only; the servers' and handlers' output is in the log
    assert process.stdout is not None
    printed += process.stdout.read().splitlines()
    assert len(printed) <= 10, printed
    log_line = next(line for line in printed if line.startswith("logs"))
    log_file = Path(log_line.split()[-1])
    assert log_file.is_relative_to(tmp_path / "artifacts") and log_file.stat().st_size > 0
