"""Shared helpers of the simulator tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests


def poll(
    fetch: Callable[[], dict[str, Any]], done: Callable[[dict[str, Any]], bool], timeout: float = 5.0
) -> dict[str, Any]:
    """Call `fetch` until `done(answer)`; the simulators in these tests run at x60 or faster."""
    deadline = time.monotonic() + timeout
    while True:
        answer = fetch()
        if done(answer) or time.monotonic() > deadline:
            return answer
        time.sleep(0.02)


def get_json(session: requests.Session, url: str, **params: Any) -> dict[str, Any]:
    response = session.get(url, params=params, timeout=10)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
