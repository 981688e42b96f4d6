"""Hostile documents are refused quickly, in bounded memory, and never crash the process.

The deep document below segfaulted the C composer (libyaml recursion), and the alias bomb cost
43 s of CPU before the prescan in `flowops.bounded` existed. The time bounds are generous
pytest-timeout marks (a hang fails the test); memory is asserted with tracemalloc.
"""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest

from flowops.bounded import (
    FLOW_YAML_LIMITS,
    HostileInputError,
    InputLimits,
    InputTooLargeError,
    load_bounded_json,
    load_bounded_yaml,
    prescan_yaml,
)
from flowops.flowyaml import FlowYamlError, SubstitutionSet, parse_flow_yaml
from flowops.lock import LockFormatError, parse_lock
from tests.unit.flowyaml._fixtures import fixture_text

# 50 KB, nested 25,000 deep in flow style: the document that killed `flowops local up`.
DEEP_FLOW_STYLE = "inboundCall:\n  name: Deep\n  x: " + "[" * 25_000 + "]" * 25_000 + "\n"
# Block style reaches the same depth with indentation (quadratic text, so fewer levels here).
DEEP_BLOCK_STYLE = "inboundCall:\n  name: Deep\n  x:\n" + "".join(
    " " * (level + 4) + f"k{level}:\n" for level in range(400)
)
# "Billion laughs": 9 levels of 9 aliases each, about 400 bytes, ~387 million values expanded.
LAUGHS = ",".join(["lol"] * 9)
ALIAS_BOMB = (
    "inboundCall:\n  name: Bomb\n  l0: &l0 ["
    + LAUGHS
    + "]\n"
    + "".join(f"  l{level}: &l{level} [" + ",".join([f"*l{level - 1}"] * 9) + "]\n" for level in range(1, 9))
)
MEMORY_BOUND_BYTES = 8 * 1024 * 1024


def peak_memory(action: Callable[[], Any]) -> tuple[BaseException | None, int]:
    """Run `action`; return what it raised and the peak of Python allocations meanwhile."""
    tracemalloc.start()
    try:
        action()
    except BaseException as raised:
        return raised, tracemalloc.get_traced_memory()[1]
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return None, peak


@pytest.mark.timeout(10)
def test_a_document_nested_25000_deep_is_refused_in_bounded_memory() -> None:
    # Given the 50 KB document nested 25,000 levels deep
    assert len(DEEP_FLOW_STYLE) > 50_000
    # When it is parsed as a flow
    raised, peak = peak_memory(lambda: parse_flow_yaml(DEEP_FLOW_STYLE))
    # Then it is refused as too deep, naming the line, without a crash or a large allocation
    assert isinstance(raised, FlowYamlError)
    assert "nested more than 128 levels" in str(raised)
    assert raised.line == 3
    assert peak < MEMORY_BOUND_BYTES


@pytest.mark.timeout(10)
def test_block_style_nesting_is_refused_too() -> None:
    with pytest.raises(FlowYamlError, match="nested more than 128 levels"):
        parse_flow_yaml(DEEP_BLOCK_STYLE)


@pytest.mark.timeout(10)
def test_an_alias_bomb_is_refused_before_it_expands() -> None:
    # Given a ~400-byte document whose aliases expand to hundreds of millions of values
    assert len(ALIAS_BOMB.encode()) < 500
    # When it is parsed as a flow
    raised, peak = peak_memory(lambda: parse_flow_yaml(ALIAS_BOMB))
    # Then it is refused by its expanded size, in bounded memory
    assert isinstance(raised, FlowYamlError)
    assert "expands to more than 200000 values through its aliases" in str(raised)
    assert peak < MEMORY_BOUND_BYTES


def test_a_recursive_alias_is_refused() -> None:
    text = "inboundCall:\n  name: Loop\n  x: &loop\n    - a\n    - *loop\n"
    with pytest.raises(FlowYamlError, match="recursive structure"):
        parse_flow_yaml(text)


def test_a_document_over_the_size_limit_is_refused_before_parsing() -> None:
    # Given a flow YAML just over 2 MiB
    text = "inboundCall:\n  name: Big\n  description: " + "x" * FLOW_YAML_LIMITS.max_bytes + "\n"
    # When parsed / Then it is refused by size, with the limit in the message
    with pytest.raises(FlowYamlError, match=f"the limit is {FLOW_YAML_LIMITS.max_bytes} bytes"):
        parse_flow_yaml(text)


def test_the_largest_real_flow_and_moderate_nesting_and_aliases_still_parse() -> None:
    # Given the largest public Archy file, a document nested 120 deep, and a few honest aliases
    real = fixture_text("scheduling-bot-blueprint__SchedulingBot.yaml")
    nested = "inboundCall:\n  name: N\n  x: " + "[" * 120 + "]" * 120 + "\n"
    aliased = "inboundCall:\n  name: A\n  a: &shared {k: v}\n  b: *shared\n  c: *shared\n"
    # When parsed / Then each is an ordinary document
    assert parse_flow_yaml(real).name
    assert parse_flow_yaml(nested).raw["inboundCall"]["x"]
    assert parse_flow_yaml(aliased).raw["inboundCall"]["c"] == {"k": "v"}


def test_limits_count_aliases_and_expanded_values_exactly() -> None:
    # Given a 3-value list (the list and 2 scalars) used twice more through aliases:
    # root mapping 1 + keys a, b, c 3 + the list 3 + two aliases of 3 each = 13 values
    text = "a: &x [1, 2]\nb: *x\nc: *x\n"
    # Then a limit at the expanded size accepts it and one below refuses it
    prescan_yaml(text, InputLimits(max_nodes=13))
    with pytest.raises(HostileInputError, match="expands to more than 12 values"):
        prescan_yaml(text, InputLimits(max_nodes=12))
    with pytest.raises(HostileInputError, match="more than 1 aliases"):
        prescan_yaml(text, InputLimits(max_aliases=1))


@pytest.mark.timeout(10)
def test_a_substitutions_file_alias_bomb_is_a_flow_yaml_error() -> None:
    bomb = ALIAS_BOMB.replace("inboundCall:\n  name: Bomb\n", "substitutions:\n")
    with pytest.raises(FlowYamlError, match="substitutions file refused"):
        SubstitutionSet.from_text(bomb)


def test_generic_bounded_yaml_keeps_safe_load_results() -> None:
    assert load_bounded_yaml("a: [1, {b: c}]\n", FLOW_YAML_LIMITS) == {"a": [1, {"b": "c"}]}


@pytest.mark.timeout(10)
def test_deep_json_is_refused_and_a_deep_lock_is_a_lock_format_error() -> None:
    # Given JSON nested 100,000 deep (deeper than the decoder's recursion guard) and 100 deep
    very_deep = "[" * 100_000 + "]" * 100_000
    deep = json.dumps({"body": {"flows": [json.loads("[" * 100 + "]" * 100)]}})
    # When read as bounded JSON / as a lock / Then refused, never a RecursionError
    with pytest.raises(HostileInputError, match="nested too deeply"):
        load_bounded_json(very_deep, FLOW_YAML_LIMITS, "the document")
    with pytest.raises(HostileInputError, match="nested more than 128 levels"):
        load_bounded_json("[" * 200 + "]" * 200, FLOW_YAML_LIMITS, "the document")
    with pytest.raises(LockFormatError, match="refused"):
        parse_lock(deep)


def test_json_over_its_size_limit_is_refused_without_decoding() -> None:
    with pytest.raises(InputTooLargeError, match="is 12 bytes; the limit is 10 bytes"):
        load_bounded_json('{"a": "xxx"}', InputLimits(max_bytes=10), "the document")
