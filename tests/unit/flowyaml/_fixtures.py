"""The real Archy flow files (copied byte for byte from /work/shared/fixtures/archy-yaml,
see fixtures/SOURCES.md for origin and MIT licences)."""

from __future__ import annotations

from pathlib import Path

FIXTURE_DIR = Path(__file__).parent / "fixtures"


def fixture_text(file_name: str) -> str:
    # newline="" keeps CRLF endings as they are in the file.
    with (FIXTURE_DIR / file_name).open(encoding="utf-8", newline="") as handle:
        return handle.read()


def all_fixture_names() -> list[str]:
    return sorted(path.name for path in FIXTURE_DIR.iterdir() if path.suffix in (".yaml", ".yml"))
