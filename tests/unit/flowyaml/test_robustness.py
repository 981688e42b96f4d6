"""Whatever the text, `parse_flow_yaml` either returns a document or raises FlowYamlError."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowops.flowyaml import FlowDocument, FlowYamlError, parse_flow_yaml
from tests.unit.flowyaml._fixtures import fixture_text

SEED_TEXT = fixture_text("dr-fallback-ivr__DR-Emergency-IVR.yaml")[:2500]
YAML_ALPHABET = st.sampled_from(list(" \t\n\r:-?[]{},#&*!|>'\"%@`{}$\\abcyesnoinboundCall0123456789\ufeff"))
BOUNDED = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parse_or_flow_error(text: str) -> None:
    try:
        result = parse_flow_yaml(text, {"ivr_failure": "x: y"})
    except FlowYamlError:
        return
    assert isinstance(result, FlowDocument)


@BOUNDED
@given(st.text(max_size=300))
def test_random_text_only_raises_flow_yaml_error(text: str) -> None:
    parse_or_flow_error(text)


@BOUNDED
@given(st.text(alphabet=YAML_ALPHABET, max_size=300))
def test_yaml_like_noise_only_raises_flow_yaml_error(text: str) -> None:
    parse_or_flow_error("inboundCall:\n  name: N\n" + text)


@BOUNDED
@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=len(SEED_TEXT)),
            st.integers(min_value=0, max_value=40),
            st.text(alphabet=YAML_ALPHABET, max_size=8),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_mutated_real_flow_only_raises_flow_yaml_error(edits: list[tuple[int, int, str]]) -> None:
    # Given a real flow with random splices (deletions + insertions of YAML-special text)
    text = SEED_TEXT
    for position, length, insert in edits:
        text = text[:position] + insert + text[position + length :]
    # When parsed / Then only FlowYamlError can escape
    parse_or_flow_error(text)


def test_deep_nesting_is_a_flow_yaml_error_not_a_crash() -> None:
    parse_or_flow_error("inboundCall:\n  name: N\n  x: " + "[" * 5000 + "]" * 5000 + "\n")
