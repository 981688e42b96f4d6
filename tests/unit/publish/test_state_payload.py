"""`flowops.statepayload`: texts and text lists handed to Step Functions are capped, the full
value is stored once, and capping never fails the step."""

from __future__ import annotations

import json
from typing import Any

from flowops.publish.errors import PublishJobFailedError
from flowops.statepayload import (
    MAX_ERROR_CHARS,
    MAX_LIST_ITEMS,
    MAX_TEXT_CHARS,
    bound_error,
    bound_payload,
    cap_text,
    cap_texts,
)

MESSAGES = [f"Error: Unable to find a queue named 'Support Queue {index}'." for index in range(3_000)]


class RecordingSpill:
    def __init__(self) -> None:
        self.stored: list[Any] = []

    def __call__(self, value: Any) -> str:
        self.stored.append(value)
        return f"state/dev/{len(self.stored):064d}.json"


def failing_spill(value: Any) -> str:
    raise RuntimeError("S3 unreachable")


def test_short_texts_and_lists_pass_unchanged_and_store_nothing() -> None:
    spill = RecordingSpill()
    assert cap_text("ok", spill) == "ok"
    assert cap_texts(["a", "b"], spill) == ["a", "b"]
    assert spill.stored == []


def test_a_long_text_keeps_its_head_and_names_the_key_of_the_full_text() -> None:
    # Given a 400 KB text
    text = " | ".join(MESSAGES)
    spill = RecordingSpill()
    # When capped
    capped = cap_text(text, spill)
    # Then it fits, starts like the original, and says where the full text is
    assert len(capped) <= MAX_TEXT_CHARS
    assert capped.startswith(MESSAGES[0])
    assert capped.endswith(f"; full text at S3 key state/dev/{1:064d}.json]")
    assert spill.stored == [{"text": text}]


def test_a_long_list_keeps_its_first_items_and_one_marker_for_the_rest() -> None:
    spill = RecordingSpill()
    capped = cap_texts(MESSAGES, spill)
    assert len(capped) == MAX_LIST_ITEMS
    assert capped[:-1] == MESSAGES[: MAX_LIST_ITEMS - 1]
    assert capped[-1].startswith(f"… and {3_000 - MAX_LIST_ITEMS + 1} more (full text at S3 key state/dev/")
    assert spill.stored == [{"items": MESSAGES}]


def test_a_step_output_is_bounded_field_by_field_and_keeps_its_shape() -> None:
    # Given a job progress with 3,000 messages (about 200 KB), next to ordinary fields
    output = {"purpose": "publish", "polls": 3, "messages": MESSAGES, "nested": [{"cause": "x" * 50_000}]}
    # When bounded
    bounded = bound_payload(output, RecordingSpill())
    # Then small fields are untouched and the whole output is small
    assert (bounded["purpose"], bounded["polls"]) == ("publish", 3)
    assert len(bounded["messages"]) == MAX_LIST_ITEMS
    assert len(bounded["nested"][0]["cause"]) <= MAX_TEXT_CHARS
    assert len(json.dumps(bounded)) < 40 * 1024


def test_an_error_message_is_capped_and_keeps_its_class_and_asl_name() -> None:
    error = PublishJobFailedError("the publish failed: " + " | ".join(MESSAGES))
    spill = RecordingSpill()
    bounded = bound_error(error, spill)
    assert bounded is error and isinstance(bounded, PublishJobFailedError)
    assert bounded.asl_error_name == "Publish.JobFailed"
    assert len(str(bounded)) <= MAX_ERROR_CHARS and bounded.message == str(bounded)
    assert "full text at S3 key" in str(bounded)
    assert "Support Queue 2999" in spill.stored[0]["text"]


def test_a_spill_that_fails_still_caps_and_says_the_text_was_not_stored() -> None:
    capped = cap_text("y" * 20_000, failing_spill)
    assert len(capped) <= MAX_TEXT_CHARS
    assert capped.endswith("; full text not stored: RuntimeError]")
