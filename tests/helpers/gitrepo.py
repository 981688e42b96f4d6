"""Test helpers for Git pushes: a work tree driven by the real `git` command, and a webhook
endpoint on 127.0.0.1 in front of a `PushReleaser`."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from flowops.git.service import PushReleaser
from flowops.webhook.errors import WebhookError

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Dev One",
    "GIT_AUTHOR_EMAIL": "dev1@example.com",
    "GIT_COMMITTER_NAME": "Dev One",
    "GIT_COMMITTER_EMAIL": "dev1@example.com",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_CONFIG_NOSYSTEM": "1",
    "HOME": "/nonexistent",
}


class Webhook:
    """The webhook endpoint on 127.0.0.1: the PushReleaser behind a tiny HTTP server."""

    def __init__(self, releaser: PushReleaser) -> None:
        self.releaser = releaser
        self.payloads: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.payloads.append(json.loads(body))
                try:
                    status, answer = (
                        200,
                        outer.releaser.accept(body, dict(self.headers.items())).model_dump_json(),
                    )
                except WebhookError as error:
                    status, answer = error.status_code, json.dumps({"message": error.message})
                data = answer.encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/git/push"


def git(work: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV}
    done = subprocess.run(
        ["git", *args], cwd=work, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
    return done.stdout.strip()


def commit(work: Path, files: dict[str, str], message: str) -> str:
    for path, text in files.items():
        target = work / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", message)
    return git(work, "rev-parse", "HEAD")


MIRROR_TOKEN = "mirror-token"
"""The local Git server's token in the mirror tests (tests/integration/git/conftest.py)."""


def clone_branch(server: Any, branch: str, into: Path, repository: str = "flows") -> Path:
    """A fresh clone of `branch` of a local Git server's repository, into `into`."""
    url = server.url(repository).replace("http://", f"http://x:{MIRROR_TOKEN}@")
    git(into.parent, "clone", "-q", "-b", branch, url, str(into))
    return into
