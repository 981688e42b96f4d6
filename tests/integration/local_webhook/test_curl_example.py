"""The worked example in docs/webhook.md, run exactly as written: bash + openssl + curl."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest

from tests.integration.local_webhook.endpoint import WEBHOOK_DOC, WebhookEndpoint

pytestmark = pytest.mark.slow  # shares the package's LocalCloud
EXAMPLE_MARKER = "<!-- example:local-webhook-curl"
MISSING_TOOLS = [tool for tool in ("bash", "openssl", "curl") if shutil.which(tool) is None]


def documented_example() -> str:
    """The first ```bash block after the example marker in docs/webhook.md."""
    text = WEBHOOK_DOC.read_text(encoding="utf-8")
    _, marker, after = text.partition(EXAMPLE_MARKER)
    assert marker, f"docs/webhook.md has no {EXAMPLE_MARKER!r} block"
    match = re.search(r"```bash\n(.*?)```", after, flags=re.DOTALL)
    assert match is not None, "no bash block after the example marker"
    return match.group(1)


def run_example(endpoint: WebhookEndpoint, **extra_env: str) -> tuple[int, dict[str, object]]:
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "FLOWOPS_WEBHOOK_URL": endpoint.publish_url,
        "FLOW_ID": endpoint.flow_id,
        "FLOW_VERSION": endpoint.flow_version,
        **extra_env,
    }
    completed = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", documented_example()],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    body, _, status_line = completed.stdout.strip().rpartition("\n")
    status = re.fullmatch(r"HTTP (\d{3})", status_line)
    assert status is not None, completed.stdout
    return int(status.group(1)), json.loads(body)


@pytest.mark.skipif(bool(MISSING_TOOLS), reason=f"the example needs {', '.join(MISSING_TOOLS)}")
def test_documented_curl_example_publishes_through_the_local_endpoint(endpoint: WebhookEndpoint) -> None:
    # Given: the local endpoint and a scanned flow, named as the docs name them
    before = {execution["executionArn"] for execution in endpoint.executions()}

    # When: the documented shell example runs as written
    status, answer = run_example(endpoint)

    # Then: 202, and the execution it names was started in the local cloud
    assert status == 202, answer
    assert answer["replayed"] is False
    started = {execution["executionArn"] for execution in endpoint.executions()} - before
    assert started == {answer["executionArn"]}


@pytest.mark.skipif(bool(MISSING_TOOLS), reason=f"the example needs {', '.join(MISSING_TOOLS)}")
def test_documented_curl_example_signed_with_another_secret_is_refused(endpoint: WebhookEndpoint) -> None:
    # Given: the same example, signed with a secret the endpoint does not hold
    before = len(endpoint.executions())

    # When: it runs
    status, answer = run_example(endpoint, WEBHOOK_SECRET="not-the-local-secret")

    # Then: 401, nothing started
    assert status == 401, answer
    assert answer["code"] == "webhook.signature"
    assert len(endpoint.executions()) == before
