"""Hostile YAML, generated: nesting, alias chains, recursive aliases and merge keys in both flow
and block style, wrapped in a flow document. Whatever is generated, `parse_flow_yaml` returns a
document within the limits or raises FlowYamlError — never a crash, a RecursionError or a hang.

Bounded: a fixed number of derandomized examples, no example database, a per-test timeout.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowops.bounded import FLOW_YAML_LIMITS
from flowops.flowyaml import FlowDocument, FlowYamlError, parse_flow_yaml

BOUNDED = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@st.composite
def nested(draw: st.DrawFn) -> str:
    """A value nested up to 600 deep, in flow style, block style, or a mix."""
    depth = draw(st.integers(min_value=1, max_value=600))
    style = draw(st.sampled_from(["flow-list", "flow-map", "block-map", "block-list"]))
    if style == "flow-list":
        return "[" * depth + "x" + "]" * depth
    if style == "flow-map":
        return "{a: " * depth + "x" + "}" * depth
    depth = min(depth, 300)  # block style grows quadratically with depth
    if style == "block-map":
        return (
            "\n"
            + "".join(" " * (4 + level) + f"k{level}:\n" for level in range(depth))
            + " " * (4 + depth)
            + "x"
        )
    return (
        "\n" + "".join(" " * (4 + 2 * level) + "-\n" for level in range(depth)) + " " * (4 + 2 * depth) + "x"
    )


@st.composite
def alias_chain(draw: st.DrawFn) -> str:
    """`levels` anchors, each a list of `fanout` aliases of the previous: fanout**levels values."""
    levels = draw(st.integers(min_value=1, max_value=12))
    fanout = draw(st.integers(min_value=1, max_value=12))
    merge = draw(st.booleans())
    lines = ["  l0: &l0 {k: v}" if merge else "  l0: &l0 [x, y]"]
    for level in range(1, levels):
        if merge:
            lines.append(
                f"  l{level}: &l{level} {{<<: *l{level - 1}, n{level}: ["
                + ", ".join([f"*l{level - 1}"] * fanout)
                + "]}"
            )
        else:
            lines.append(f"  l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * fanout) + "]")
    if draw(st.booleans()):
        lines.append("  loop: &loop [a, *loop]")
    return "\n".join(lines) + "\n"


def _depth_and_size(value: Any) -> tuple[int, int]:
    deepest, size = 0, 0
    pending = [(value, 1)]
    while pending:
        current, depth = pending.pop()
        size += 1
        if size > FLOW_YAML_LIMITS.max_nodes + 10:
            break
        deepest = max(deepest, depth)
        children = (
            current.values() if isinstance(current, dict) else current if isinstance(current, list) else []
        )
        pending.extend((child, depth + 1) for child in children)
    return deepest, size


def _parses_or_refuses(text: str) -> None:
    try:
        document = parse_flow_yaml(text)
    except FlowYamlError:
        return
    assert isinstance(document, FlowDocument)
    depth, size = _depth_and_size(document.raw)
    assert depth <= FLOW_YAML_LIMITS.max_depth + 1
    assert size <= FLOW_YAML_LIMITS.max_nodes


@pytest.mark.timeout(120)
@BOUNDED
@given(nested())
def test_generated_nesting_is_parsed_or_refused(value: str) -> None:
    _parses_or_refuses(f"inboundCall:\n  name: Nested\n  x: {value}\n")


@pytest.mark.timeout(120)
@BOUNDED
@given(alias_chain())
def test_generated_alias_chains_are_parsed_or_refused(chain: str) -> None:
    _parses_or_refuses("inboundCall:\n  name: Aliases\n" + chain)
