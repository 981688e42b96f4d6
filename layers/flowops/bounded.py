"""Bounded reading of untrusted YAML and JSON: size, nesting depth and alias expansion.

Every YAML or JSON document flowops reads from outside (a webhook body, an uploaded flow, a
substitutions or options file, a lock file, a CLI file) goes through this module, because the
parsers themselves have no limits that protect the process:

- libyaml's composer (behind `CSafeLoader`) recurses in C once per nesting level: a 50 KB
  document nested 25,000 deep overflows the C stack and kills the process (no exception);
  PyYAML's pure-Python composer and constructor recurse in Python (RecursionError, or a C
  stack overflow when the interpreter's limit was raised);
- aliases are constructed as shared references, so a 423-byte "billion laughs" document loads
  quickly and then costs minutes of CPU and gigabytes of memory in whatever walks it next;
- nothing bounds the size of the text itself.

`prescan_yaml` therefore walks the parser's EVENT stream first. Event parsing is iterative in
both libyaml and PyYAML (an explicit state stack), so the walk cannot crash however deep the
document is. It stops at the first event that exceeds a limit, keeps only a stack as deep as
the depth limit and one integer per anchor, and computes the size of the document as it would
be after alias expansion, so an alias bomb is refused after reading a few hundred bytes. Only a
document that passed is handed to the composing loader; its nesting is then small enough for
every recursive step after it (composer, constructor, reference walks, JSON dumps, pydantic).
"""

from __future__ import annotations

import json
from typing import IO, Any

from pydantic import BaseModel, ConfigDict, Field

_MiB = 1024 * 1024


def _fast_loader() -> type[Any]:
    """libyaml's parser when installed (about 10x faster); its event parsing is iterative like
    PyYAML's. PyYAML is imported here, by the first YAML read: the JSON readers of this module
    (every handler that reads a lock) do not pay for it at cold start."""
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class InputLimits(BaseModel):
    """Bounds for one kind of document. The defaults are those of an Architect flow YAML."""

    model_config = ConfigDict(frozen=True)

    max_bytes: int = Field(default=2 * _MiB, ge=1)
    """Size of the text in UTF-8 bytes. The largest public Archy flow is 60 KB; parsing costs
    about 80 bytes of memory per byte of YAML, so 2 MiB stays far inside a 512 MB Lambda."""
    max_depth: int = Field(default=128, ge=1)
    """Nested mappings/lists. Real flows reach about 50 (nested decisions inside tasks)."""
    max_nodes: int = Field(default=200_000, ge=1)
    """Scalars, mappings and lists after alias expansion (a 2 MiB flow has about 100,000)."""
    max_aliases: int = Field(default=1_000, ge=0)
    """Alias uses (`*name`). Archy never writes them; hand-written YAML rarely needs many."""


FLOW_YAML_LIMITS = InputLimits()
SUBSTITUTIONS_LIMITS = InputLimits(max_bytes=1 * _MiB, max_depth=16, max_nodes=100_000, max_aliases=100)
# A lock of a 20,000-flow org is about 20 MB of JSON, nested about 8 deep.
LOCK_JSON_LIMITS = InputLimits(max_bytes=64 * _MiB, max_depth=32, max_nodes=50_000_000, max_aliases=0)
# Any other JSON artifact or file flowops reads back (reports, pages, options, endpoints files).
JSON_LIMITS = InputLimits(max_bytes=64 * _MiB, max_depth=64, max_nodes=50_000_000, max_aliases=0)


class HostileInputError(ValueError):
    """A document refused before (or instead of) parsing it: too big, too deep, too many aliases.

    `line` is 1-based when known; `hint` says how to fix the document.
    """

    def __init__(self, problem: str, *, hint: str, line: int | None = None) -> None:
        self.problem = problem
        self.hint = hint
        self.line = line
        where = f"line {line}: " if line is not None else ""
        super().__init__(f"{where}{problem} ({hint})")


class InputTooLargeError(HostileInputError):
    """The document is larger than its size limit (a webhook answers 413 for it)."""

    def __init__(self, what: str, size: int | None, limit: int) -> None:
        measured = f"is {size} bytes" if size is not None else "is larger than the limit"
        super().__init__(
            f"{what} {measured}; the limit is {limit} bytes",
            hint="split the document or reduce it below the limit",
        )
        self.size = size
        self.limit = limit


def ensure_size(data: str | bytes, limits: InputLimits, what: str) -> None:
    """Raise `InputTooLargeError` when `data` is over `limits.max_bytes` (UTF-8 bytes)."""
    # A str is at most 4 bytes per character: skip the encode for the common small case.
    if isinstance(data, str) and len(data) * 4 <= limits.max_bytes:
        return
    size = len(data.encode("utf-8", "surrogatepass")) if isinstance(data, str) else len(data)
    if size > limits.max_bytes:
        raise InputTooLargeError(what, size, limits.max_bytes)


def read_capped(stream: IO[bytes], max_bytes: int, what: str) -> bytes:
    """Read a stream to its end, but never more than `max_bytes` + 1 bytes into memory."""
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise InputTooLargeError(what, None, max_bytes)
    return data


def prescan_yaml(text: str, limits: InputLimits, loader_class: type[Any] | None = None) -> None:
    """Walk the event stream of `text` and raise `HostileInputError` at the first limit exceeded.

    Syntax errors propagate as the parser's `yaml.YAMLError`; the composing load would report
    the same error at the same place, so callers handle both alike.
    """
    ensure_size(text, limits, "the YAML document")
    parser = (loader_class or _fast_loader())(text)
    try:
        _walk_events(parser, limits)
    finally:
        parser.dispose()


def _walk_events(parser: Any, limits: InputLimits) -> None:
    from yaml.events import (
        AliasEvent,
        CollectionEndEvent,
        CollectionStartEvent,
        DocumentStartEvent,
        NodeEvent,
        ScalarEvent,
    )

    # Per open collection: its expanded size so far. Per finished anchor: its expanded size.
    open_sizes: list[int] = []
    open_anchors: list[str | None] = []
    anchored: dict[str, int] = {}
    total = 0
    aliases = 0
    while parser.check_event():
        event = parser.get_event()
        if isinstance(event, DocumentStartEvent):
            anchored.clear()  # anchors are local to a document
            continue
        if not isinstance(event, NodeEvent | CollectionEndEvent):
            continue
        line = event.start_mark.line + 1 if event.start_mark is not None else None
        if isinstance(event, CollectionStartEvent):
            if len(open_sizes) >= limits.max_depth:
                raise HostileInputError(
                    f"the document is nested more than {limits.max_depth} levels deep",
                    hint="flatten the structure; no Architect flow needs this depth",
                    line=line,
                )
            open_sizes.append(1)
            open_anchors.append(event.anchor)
            added = 1
        elif isinstance(event, CollectionEndEvent):
            size = open_sizes.pop()
            anchor = open_anchors.pop()
            if anchor is not None:
                anchored[anchor] = size
            if open_sizes:
                open_sizes[-1] += size
            continue
        elif isinstance(event, AliasEvent):
            aliases += 1
            if aliases > limits.max_aliases:
                raise HostileInputError(
                    f"the document uses more than {limits.max_aliases} aliases",
                    hint="write the values out instead of repeating *aliases",
                    line=line,
                )
            if event.anchor in open_anchors:
                raise HostileInputError(
                    f"alias *{event.anchor} refers to a node that contains it (a recursive structure)",
                    hint="an alias must refer to a finished &anchor outside itself",
                    line=line,
                )
            # An undefined alias counts as one node; the loader reports it with its position.
            added = anchored.get(str(event.anchor), 1)
        else:
            added = 1
            if isinstance(event, ScalarEvent) and event.anchor is not None:
                anchored[event.anchor] = 1
        total += added
        if total > limits.max_nodes:
            raise HostileInputError(
                f"the document expands to more than {limits.max_nodes} values"
                + (" through its aliases" if aliases else ""),
                hint="reduce the document; aliases must not multiply its size",
                line=line,
            )
        if open_sizes and not isinstance(event, CollectionStartEvent):
            open_sizes[-1] += added


def load_bounded_yaml(text: str, limits: InputLimits) -> Any:
    """`yaml.safe_load` with `limits` checked first (raises HostileInputError or yaml.YAMLError)."""
    prescan_yaml(text, limits)
    loader = _fast_loader()(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def load_bounded_json(data: str | bytes, limits: InputLimits, what: str) -> Any:
    """`json.loads` with a size limit first and a depth limit after.

    Raises `HostileInputError` for limits and `ValueError` (json.JSONDecodeError or
    UnicodeDecodeError) for text that is not JSON. CPython's decoder guards its recursion
    (RecursionError, no crash); the depth is checked afterwards without recursion, so the
    value returned is safe for the recursive code that walks it next.
    """
    ensure_size(data, limits, what)
    try:
        document = json.loads(data)
    except RecursionError:
        raise HostileInputError(
            f"{what} is nested too deeply to read", hint=f"at most {limits.max_depth} levels"
        ) from None
    _check_json_depth(document, limits, what)
    return document


def _check_json_depth(document: Any, limits: InputLimits, what: str) -> None:
    pending: list[tuple[Any, int]] = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limits.max_depth:
            raise HostileInputError(
                f"{what} is nested more than {limits.max_depth} levels deep", hint="flatten the structure"
            )
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
