"""Ordering of Genesys version strings.

Flow versions are strings such as ``"3.0"`` and data action versions are integers that the
lock stores as strings (``"7"``). Comparing them as text gets ``"10.0" < "2.0"`` wrong, so
versions compare part by part: dot-separated numeric parts as integers, anything else as
text after every number. Trailing zero parts do not count, so ``"2"`` equals ``"2.0"``.
"""

from __future__ import annotations

from functools import lru_cache

# A part is (0, number, "") for numeric parts and (1, 0, text) otherwise: numbers sort before
# text, and the tuple shape stays uniform so any two keys compare without a TypeError.
VersionPart = tuple[int, int, str]


@lru_cache(maxsize=4096)  # an org has few distinct version strings, compared once per edge
def version_key(version: str) -> tuple[VersionPart, ...]:
    """Sort key for a version string; equal keys mean equal versions."""
    parts: list[VersionPart] = []
    for raw_part in version.strip().split("."):
        part = raw_part.strip()
        if part.isdigit():
            parts.append((0, int(part), ""))
        else:
            parts.append((1, 0, part))
    while parts and parts[-1] == (0, 0, ""):
        parts.pop()
    return tuple(parts)


def compare_versions(left: str, right: str) -> int:
    """-1, 0 or 1 as ``left`` is older than, equal to or newer than ``right``."""
    left_key, right_key = version_key(left), version_key(right)
    if left_key < right_key:
        return -1
    if left_key > right_key:
        return 1
    return 0


def is_older(version: str, than: str) -> bool:
    """True when ``version`` sorts strictly before ``than`` (``"2.0"`` is older than ``"10.0"``)."""
    return compare_versions(version, than) < 0
