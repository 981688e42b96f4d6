"""Per-environment substitution sets."""

from __future__ import annotations

import textwrap

import pytest

from flowops.flowyaml import FlowYamlError, SubstitutionSet

ENVIRONMENTS_FILE = textwrap.dedent(
    """
    substitutions:
      division: Home
      queue_name: Support
    environments:
      dev:
        queue_name: Support-Dev
      prod:
        substitutions:
          queue_name: Support
          retries: 3
          enabled: true
    """
)


def test_environment_values_are_laid_over_shared_ones() -> None:
    # Given a file with shared and per-environment values / When loading dev and prod
    dev = SubstitutionSet.from_text(ENVIRONMENTS_FILE, "dev")
    prod = SubstitutionSet.from_text(ENVIRONMENTS_FILE, "prod")
    # Then each environment has its own values on top of the shared ones, all as text
    assert dev.as_dict() == {"division": "Home", "queue_name": "Support-Dev"}
    assert prod.as_dict() == {"division": "Home", "queue_name": "Support", "retries": "3", "enabled": "true"}


def test_archy_options_file_and_json_mapping_are_read() -> None:
    # Given an Archy options file and a JSON mapping / When loaded / Then both give the values
    assert SubstitutionSet.from_text("substitutions:\n  a: 1\n").as_dict() == {"a": "1"}
    assert SubstitutionSet.from_text('{"a": "x", "b": null}').as_dict() == {"a": "x", "b": ""}
    assert SubstitutionSet.from_text("").as_dict() == {}


def test_unknown_environment_lists_known_ones() -> None:
    with pytest.raises(FlowYamlError, match="known environments: dev, prod"):
        SubstitutionSet.from_text(ENVIRONMENTS_FILE, "staging")


def test_nested_values_and_non_mappings_are_rejected() -> None:
    with pytest.raises(FlowYamlError, match="string, number or boolean"):
        SubstitutionSet.from_mapping({"a": {"b": 1}})
    with pytest.raises(FlowYamlError, match="must be a mapping"):
        SubstitutionSet.from_text("- a\n- b\n")
    with pytest.raises(FlowYamlError, match="not valid YAML"):
        SubstitutionSet.from_text("a: [\n")


def test_merged_overrides_and_keeps_the_original() -> None:
    base = SubstitutionSet.from_mapping({"a": "1", "b": "2"})
    merged = base.merged({"b": "3"})
    assert merged.as_dict() == {"a": "1", "b": "3"}
    assert base.as_dict() == {"a": "1", "b": "2"}
    assert merged.keys() == ["a", "b"]
