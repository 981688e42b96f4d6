"""`flowops sim serve` as a subprocess: the listening line, bad input, port in use."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import requests

FLOWOPS = [sys.executable, "-c", "from flowops.cli import main; main()"]


def test_serve_prints_the_listening_line_and_answers() -> None:
    # Given the simulator started from the CLI
    process = subprocess.Popen(
        [*FLOWOPS, "sim", "serve", "--flows", "20", "--seed", "3", "--time-scale", "60"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # When its first line is read
        line = process.stdout.readline() if process.stdout else ""
        # Then it names the URL, where the API answers
        assert line.startswith("listening on http://127.0.0.1:")
        url = line.split()[-1]
        health = requests.get(f"{url}/__sim/health", timeout=10).json()
        assert health["flows"] == 20
    finally:
        process.kill()
        process.wait(timeout=10)


def test_malformed_org_file_is_one_error_line_and_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "org.json"
    path.write_text(
        json.dumps(
            {
                "flows": [
                    {
                        "id": "a",
                        "name": "A",
                        "type": "INBOUNDCALL",
                        "consumes": [{"id": "x", "type": "QUEUE"}],
                    }
                ]
            }
        )
    )
    result = subprocess.run(
        [*FLOWOPS, "sim", "serve", "--org-file", str(path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "flows[0] (id 'a') consumes[0]: dangling" in result.stderr and "Traceback" not in result.stderr


def test_bad_fault_spec_and_port_in_use(tmp_path: Path) -> None:
    bad_faults = subprocess.run(
        [*FLOWOPS, "sim", "serve", "--faults", "5xx=7"], capture_output=True, text=True, timeout=60
    )
    assert bad_faults.returncode == 2 and "5xx" in bad_faults.stderr
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        in_use = subprocess.run(
            [*FLOWOPS, "sim", "serve", "--flows", "5", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert in_use.returncode == 3 and "cannot listen" in in_use.stderr and "Traceback" not in in_use.stderr
