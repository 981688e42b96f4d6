"""What reaches the operator's terminal: every text from an org made safe, one `error:` line.

Flow names, object names, error messages and causes come from the org (anyone with Architect
access names flows) and from the cloud. Printed raw, a name can clear the screen or set the
window title (ANSI escapes), forge a line such as `error: ...` (newlines), or reorder what the
operator reads (bidi overrides, the "Trojan Source" trick). So text output goes through this
module: `safe()` makes one value printable, `echo_lines()` prints lines each made safe (a
newline inside a line cannot start a new one), `fail()` prints the single `error:` line, and
`table()` prints a rich table with every cell made safe. JSON output needs none of this:
`json.dumps` escapes every control and non-ASCII character.
"""

from __future__ import annotations

import io
import re
import sys
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

import typer

# Zero-width (non-)joiners are format characters too, but Persian, Indic scripts and emoji
# sequences need them in legitimate names; they cannot move or hide text.
_KEPT_FORMAT_CHARACTERS = frozenset({"\u200c", "\u200d"})
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})
_ANY_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # the only unsafe ASCII: C0 controls and DEL


_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(character: str) -> str:
    if character in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[character]
    code = ord(character)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def safe(value: object) -> str:
    """`value` as text with every control, format (bidi, zero-width) and line-separator
    character shown as a visible escape (`\\x1b`, `\\n`, `\\u202e`): printable, one line, and
    still recognisable to the operator. Text without such characters is returned unchanged."""
    text = value if isinstance(value, str) else str(value)
    if text.isascii() and not _ANY_UNSAFE.search(text):
        return text
    return "".join(
        _escaped(character)
        if unicodedata.category(character) in _UNSAFE_CATEGORIES and character not in _KEPT_FORMAT_CHARACTERS
        else character
        for character in text
    )


class CliError(Exception):
    """An error a command reports as its one `error:` line with `exit_code` (src/flowops/cli/
    exit_codes.py). Raised anywhere below a command, the root group prints and exits with it,
    so helpers deep in a command need not know about typer."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def echo_lines(lines: Iterable[object], *, err: bool = False) -> None:
    """Print each line made safe; the lines are the only line breaks that reach the terminal."""
    typer.echo("\n".join(safe(line) for line in lines), err=err)


def echo(line: object = "", *, err: bool = False) -> None:
    echo_lines([line], err=err)


def error_line(message: object) -> str:
    """The one line an error prints: `error: <message>`, the message made safe."""
    return f"error: {safe(message)}"


def fail(message: object, code: int) -> typer.Exit:
    """Print the one `error:` line on stderr; the Exit to raise (`raise fail(...) from None`)."""
    typer.echo(error_line(message), err=True)
    return typer.Exit(code)


def table(
    columns: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    title: str | None = None,
    err: bool = False,
    no_wrap: Sequence[str] = (),
) -> None:
    """Print a rich table; every cell made safe and printed literally (no rich markup).

    On a terminal rich fits the table to the width; to a pipe or file it prints plain
    aligned columns without box lines, so scripts can still `grep` and `awk` them."""
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    stream = sys.stderr if err else sys.stdout
    interactive = stream.isatty()
    rendered = Table(
        title=safe(title) if title else None,
        box=box.SIMPLE_HEAD if interactive else None,
        show_edge=False,
        pad_edge=False,
        header_style="bold",
    )
    for column in columns:
        rendered.add_column(column, no_wrap=column in no_wrap or not interactive, overflow="fold")
    for row in rows:
        rendered.add_row(*(Text(safe("" if cell is None else cell)) for cell in row))
    if interactive:
        Console(file=stream, highlight=False).print(rendered)
        return
    # A pipe or file: every cell whole (no terminal width to fit), no trailing padding.
    console = Console(file=io.StringIO(), width=100_000, no_color=True, highlight=False)
    with console.capture() as captured:
        console.print(rendered)
    typer.echo("\n".join(line.rstrip() for line in captured.get().splitlines()), err=err)


def labelled(identifier: str, name: Any) -> str:
    """`Name (id)` when the name is known and differs from the id, else the id: how a flow or
    object is shown wherever the CLI prints one (names are what people search for; the id
    disambiguates two flows of the same name)."""
    text = str(name or "")
    return f"{text} ({identifier})" if text and text != identifier else identifier
