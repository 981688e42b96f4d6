"""Gzip for the scan's large intermediate artifacts, with a bounded reader.

Page results, the report graph and the HTML report are JSON/HTML that compress about ten to
one; stored compressed, a 20,000-flow scan keeps within its storage budget. Compression is
deterministic (no timestamp in the header), so a retried step writes identical bytes. Reading
is bounded like every other input: a body that inflates past the reader's limit (a gzip bomb,
or simply an artifact too big for the step) is refused without being inflated in full.
"""

from __future__ import annotations

import gzip
import zlib

from flowops.store.errors import StoreError

GZIP_SUFFIX = ".gz"
GZIP_CONTENT_TYPE = "application/gzip"
GZIP_ENCODING = "gzip"
_GZIP_MAGIC = b"\x1f\x8b"
# Level 6 is zlib's default: within a few per cent of level 9's size at a fraction of its CPU.
_LEVEL = 6
_CHUNK = 1024 * 1024


def gzip_bytes(body: bytes) -> bytes:
    """`body` gzip-compressed, byte-identical for identical input."""
    return gzip.compress(body, compresslevel=_LEVEL, mtime=0)


def is_gzip(body: bytes) -> bool:
    return body[:2] == _GZIP_MAGIC


def gunzip_bounded(body: bytes, limit: int, what: str) -> bytes:
    """Inflate a gzip body, refusing one that would exceed `limit` bytes or is not intact."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    parts: list[bytes] = []
    size = 0
    try:
        pending = body
        while not inflater.eof:
            chunk = inflater.decompress(pending, _CHUNK)
            pending = inflater.unconsumed_tail
            if not chunk and not pending and not inflater.eof:
                raise StoreError(f"{what} is a truncated gzip stream")
            size += len(chunk)
            if size > limit:
                raise StoreError(f"{what} inflates past {limit} bytes; refused as too large")
            parts.append(chunk)
    except zlib.error as error:
        raise StoreError(f"{what} is not readable gzip: {error}") from error
    return b"".join(parts)


def inflate_if_gzip(body: bytes, limit: int, what: str) -> bytes:
    """The body as written: inflated when it is gzip, unchanged otherwise (older artifacts)."""
    return gunzip_bounded(body, limit, what) if is_gzip(body) else body
