"""Version ordering."""

from __future__ import annotations

import pytest

from flowops.lock import compare_versions, is_older, version_key


@pytest.mark.parametrize(
    ("older", "newer"),
    [("2.0", "10.0"), ("1.9", "1.10"), ("9", "10"), ("3.0", "3.0.1"), ("1.0", "1.0.beta"), ("0.9", "1")],
)
def test_versions_compare_numerically_part_by_part(older: str, newer: str) -> None:
    assert is_older(older, newer)
    assert not is_older(newer, older)
    assert compare_versions(older, newer) == -1 and compare_versions(newer, older) == 1


def test_trailing_zero_parts_do_not_count() -> None:
    assert compare_versions("2", "2.0") == 0
    assert version_key("2.0.0") == version_key("2")
    assert not is_older("2", "2.0")
