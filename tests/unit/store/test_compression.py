"""Gzip of large scan artifacts: deterministic, and refused when hostile or broken."""

from __future__ import annotations

import os

import pytest

from flowops.store.compression import gunzip_bounded, gzip_bytes, inflate_if_gzip, is_gzip
from flowops.store.errors import StoreError


@pytest.mark.parametrize("body", [b"", b"{}", b'{"flows": []}' * 10_000, os.urandom(200_000)])
def test_round_trip_is_exact_and_deterministic(body: bytes) -> None:
    # When a body is compressed twice
    first, second = gzip_bytes(body), gzip_bytes(body)
    # Then the bytes are identical (a retried step rewrites the same object) and inflate back
    assert first == second and is_gzip(first)
    assert gunzip_bounded(first, len(body), "page") == body


def test_a_body_inflating_past_the_limit_is_refused_without_inflating_it_all() -> None:
    # Given 64 MiB of zeros compressed to about 64 KB (a gzip bomb)
    bomb = gzip_bytes(bytes(64 * 1024 * 1024))
    assert len(bomb) < 100_000
    # When it is read with a 1 MiB limit, it is refused and names the artifact
    with pytest.raises(StoreError, match=r"scans/o/s/pages/00001\.json\.gz inflates past 1048576 bytes"):
        gunzip_bounded(bomb, 1024 * 1024, "scans/o/s/pages/00001.json.gz")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (gzip_bytes(os.urandom(50_000))[:1_000], "truncated gzip"),
        (b"\x1f\x8b\x08\x00garbage-after-the-magic", "not readable gzip"),
    ],
)
def test_a_broken_stream_is_a_store_error(body: bytes, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        gunzip_bounded(body, 10_000_000, "artifact")


def test_uncompressed_artifacts_of_older_scans_are_read_unchanged() -> None:
    assert inflate_if_gzip(b'{"page_number": 1}', 100, "page") == b'{"page_number": 1}'
    assert inflate_if_gzip(gzip_bytes(b"<!doctype html>"), 100, "report") == b"<!doctype html>"
