"""Bounded Step Functions state: every message and message list a step returns or raises is capped.

A state's input and output are limited to 256 KB, and exceeding it is `States.DataLimitExceeded`,
an error no `Catch` with `States.ALL` handles: the execution fails on the spot, so no rollback
or failure record runs, the run item stays RUNNING and the flow's lease stays held. Texts that
come from outside (Architect job messages — 3,000 of them for a large broken flow — Genesys error
texts, validation findings) are therefore capped where a handler hands them to Step Functions:

- a text longer than its limit keeps its head and ends with a marker naming how much was cut and
  the S3 key of the full text;
- a list of texts keeps its first items and ends with one marker item for the rest;
- an error message (what a `Catch` puts into the state as `Cause`) is capped the same way.

The full value is stored through `spill` (content-addressed JSON in the artifacts bucket, see
`ArtifactStore.put_large_payload`). When storing fails (no grant, S3 down) the cap still applies
and the marker says so: bounding the state must never turn into a new failure of the step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

MAX_TEXT_CHARS = 8_000
"""One text in a step's output (causes compose up to two capped error messages and a note)."""
MAX_ERROR_CHARS = 3_000
"""One error message: Lambda's error payload becomes the `Cause` a `Catch` stores in the state."""
MAX_LIST_ITEMS = 25
"""Items of a list of texts (messages, checks, warnings, codes); each item at most 1,000 chars."""
MAX_ITEM_CHARS = 1_000

Spill = Callable[[Any], str]
"""Stores a value (JSON-able) and returns its S3 key."""


def _stored(spill: Spill | None, value: Any) -> str:
    if spill is None:
        return "not stored"
    try:
        return f"full text at S3 key {spill(value)}"
    except Exception as error:  # storing is best effort: the cap itself must not fail the step
        return f"full text not stored: {type(error).__name__}"


def cap_text(text: str, spill: Spill | None = None, *, limit: int = MAX_TEXT_CHARS) -> str:
    """`text`, or its head plus `… [N more characters; full text at S3 key K]` within `limit`."""
    if len(text) <= limit:
        return text
    return _cut(text, limit, _stored(spill, {"text": text}))


def _cut(text: str, limit: int, where: str) -> str:
    # The marker's own length depends on the count; 12 digits is more than any text here.
    marker_room = len(f" … [{'9' * 12} more characters; {where}]")
    keep = max(0, limit - marker_room)
    return f"{text[:keep]} … [{len(text) - keep} more characters; {where}]"


def cap_texts(items: list[str], spill: Spill | None = None, *, limit: int = MAX_LIST_ITEMS) -> list[str]:
    """The first items (each at most MAX_ITEM_CHARS) plus one `… and N more` item naming the full list."""
    if len(items) <= limit and all(len(item) <= MAX_ITEM_CHARS for item in items):
        return items
    where = _stored(spill, {"items": items})
    kept = items if len(items) <= limit - 1 else items[: limit - 1]
    capped = [
        item if len(item) <= MAX_ITEM_CHARS else _cut(item, MAX_ITEM_CHARS, "see the full list")
        for item in kept
    ]
    return [*capped, f"… and {len(items) - len(kept)} more ({where})"]


def bound_payload(value: Any, spill: Spill | None = None, *, lists: bool = True) -> Any:
    """A step's JSON output with every text (and, with `lists`, every list of texts) capped.

    The structure is kept. `lists=False` is for steps whose lists of texts are ids that later
    states use (their models cap them, with the full list in S3).
    """
    if isinstance(value, str):
        return cap_text(value, spill)
    if isinstance(value, dict):
        return {key: bound_payload(child, spill, lists=lists) for key, child in value.items()}
    if isinstance(value, list):
        if lists and value and all(isinstance(item, str) for item in value):
            return cap_texts(value, spill)
        return [bound_payload(item, spill, lists=lists) for item in value]
    return value


def bound_error(error: BaseException, spill: Spill | None = None) -> BaseException:
    """The same error with its message capped (its class, and so its ASL error name, unchanged)."""
    text = str(error)
    if len(text) <= MAX_ERROR_CHARS or len(error.args) != 1 or not isinstance(error.args[0], str):
        return error
    capped = cap_text(text, spill, limit=MAX_ERROR_CHARS)
    error.args = (capped,)
    if isinstance(getattr(error, "message", None), str):
        error.message = capped  # type: ignore[attr-defined]
    return error
