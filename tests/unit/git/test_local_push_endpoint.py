"""The `POST /git/push` endpoint `flowops local up` serves for its Git server: the releaser's
answer or refusal over HTTP, and bounded requests; `GET /runs/<release id>` (the statuses' link)."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from flowops.local.gitserver.hosting import MAX_BODY_BYTES, _endpoint
from flowops.webhook.errors import SignatureError


class Releaser:
    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    def accept(self, body: bytes, headers: dict[str, str]) -> Any:
        self.bodies.append(body)
        if "X-Hub-Signature-256" not in headers:
            raise SignatureError("missing X-Hub-Signature-256")

        class Answer:
            def model_dump_json(self) -> str:
                return json.dumps({"status": "ignored", "reason": "test"})

        return Answer()


class Hosting:
    """What the endpoint asks of `LocalGitHosting`."""

    def __init__(self, releaser: Releaser) -> None:
        self._releaser = releaser

    def releaser(self) -> Releaser:
        return self._releaser

    def release_status(self, release_id: str) -> dict[str, Any] | None:
        return {"release_id": release_id, "status": "SUCCEEDED"} if release_id == "git-dev-1" else None


@pytest.fixture
def served() -> Iterator[tuple[str, Releaser]]:
    releaser = Releaser()
    server = _endpoint(Hosting(releaser))  # type: ignore[arg-type]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", releaser
    server.shutdown()
    server.server_close()


def post(url: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_releasers_answer_and_refusals_reach_the_git_server(served: tuple[str, Releaser]) -> None:
    base, releaser = served
    # Given a signed delivery, Then the releaser's answer is the 200 body
    assert post(f"{base}/git/push", b"{}", {"X-Hub-Signature-256": "sha256=x"}) == (
        200,
        {"status": "ignored", "reason": "test"},
    )
    # Given an unsigned one, Then the releaser's refusal keeps its status and code
    status, answer = post(f"{base}/git/push", b"{}", {})
    assert (status, answer["code"]) == (401, "webhook.signature")


def test_other_paths_and_oversized_bodies_never_reach_the_releaser(served: tuple[str, Releaser]) -> None:
    base, releaser = served
    assert post(f"{base}/publish", b"{}", {})[0] == 404
    # A declared length over the bound is refused before the body is read
    request = urllib.request.Request(  # noqa: S310
        f"{base}/git/push", data=b"{}", method="POST", headers={"Content-Length": str(MAX_BODY_BYTES + 1)}
    )
    with pytest.raises((urllib.error.HTTPError, urllib.error.URLError, ConnectionError)) as raised:
        urllib.request.urlopen(request, timeout=10)  # noqa: S310
    if isinstance(raised.value, urllib.error.HTTPError):
        assert raised.value.code == 413
    assert releaser.bodies == []


def test_a_release_link_answers_its_status(served: tuple[str, Releaser]) -> None:
    base, _ = served

    def get(path: str) -> tuple[int, dict[str, Any]]:
        try:
            with urllib.request.urlopen(f"{base}{path}", timeout=10) as response:  # noqa: S310
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    assert get("/runs/git-dev-1") == (200, {"release_id": "git-dev-1", "status": "SUCCEEDED"})
    assert get("/runs/git-dev-2")[0] == 404
    assert get("/runs/../etc")[0] == 404
