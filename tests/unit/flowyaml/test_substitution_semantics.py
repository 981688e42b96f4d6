"""Substitutions as Archy (options file, Lesson 7 "Substitutions") and the Terraform provider
(`genesyscloud_flow.substitutions`: `strings.Replace(content, "{{"+k+"}}", v)`) apply them:
the literal `{{key}}` is replaced by the value verbatim, before the YAML is read."""

from __future__ import annotations

import pytest

from flowops.flowyaml import FlowYamlError, SubstitutionSet, parse_flow_yaml
from flowops.flowyaml.substitutions import substitute_placeholders


def terraform_provider(text: str, values: dict[str, str]) -> str:
    """The provider's documented behaviour, as a reference: plain replace of `{{k}}`."""
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    return text


FLOW = """\
inboundCall:
  name: "{{flow name}}"
  description: Routes {{region/code}} calls for {{a+b}}
  startUpRef: ./tasks/task[main]
  tasks:
    - task:
        name: Main
        refId: main
        actions:
          - transferToAcd:
              name: Transfer
              targetQueue:
                lit:
                  name: "{{queue: main}}"
"""
VALUES = {"flow name": "Main IVR", "region/code": "EU-1", "a+b": "Acme", "queue: main": "Support"}


def test_keys_with_space_colon_slash_and_plus_are_substituted() -> None:
    # Given keys Archy allows (any text without surrounding whitespace)
    document = parse_flow_yaml(FLOW, VALUES, strict_placeholders=True)
    # Then every placeholder is filled, like the provider does
    assert document.name == "Main IVR"
    assert document.description == "Routes EU-1 calls for Acme"
    assert [ref.name for ref in document.references] == ["Support"]
    assert document.unresolved_placeholders == []


def test_the_deployed_text_is_byte_for_byte_what_the_provider_uploads() -> None:
    substituted = substitute_placeholders(FLOW, VALUES)
    assert substituted.archy_text == terraform_provider(FLOW, VALUES)


def test_inner_spaces_are_not_the_key_and_strict_mode_says_why() -> None:
    # Given `{{ flow name }}` while the value is for `flow name`
    text = FLOW.replace("{{flow name}}", "{{ flow name }}")
    # When read without strictness / Then it stays unresolved, as the provider leaves it
    document = parse_flow_yaml(text, VALUES)
    assert document.name == "{{ flow name }}"
    assert document.unresolved_placeholders == [" flow name "]
    assert substitute_placeholders(text, VALUES).archy_text == terraform_provider(text, VALUES)
    # And strictly it is an error that names the brace spacing
    with pytest.raises(FlowYamlError) as caught:
        parse_flow_yaml(text, VALUES, strict_placeholders=True)
    assert caught.value.line == 2
    assert "spaces inside the braces" in (caught.value.hint or "")


@pytest.mark.parametrize("key", ["", " padded", "trailing ", "a}b", "line\nbreak"])
def test_keys_archy_rejects_are_errors(key: str) -> None:
    with pytest.raises(FlowYamlError, match="substitution key"):
        SubstitutionSet.from_mapping({key: "x"})


def test_values_are_strings_numbers_or_booleans_as_archy_says() -> None:
    values = SubstitutionSet.from_mapping({"n": 5, "b": True, "s": "x"})
    assert values.as_dict() == {"n": "5", "b": "true", "s": "x"}
    with pytest.raises(FlowYamlError, match="string, number or boolean"):
        SubstitutionSet.from_mapping({"l": ["x"]})


def test_a_placeholder_used_as_a_whole_unquoted_value_needs_a_plain_safe_value() -> None:
    text = "inboundCall:\n  name: {{n}}\n  startUpTaskActions: []\n"
    assert parse_flow_yaml(text, {"n": "Main IVR"}).name == "Main IVR"
    with pytest.raises(FlowYamlError, match="cannot be inserted as is"):
        parse_flow_yaml(text, {"n": "Main: IVR"})


def test_unsafe_values_are_errors_even_when_not_strict() -> None:
    # An unsafe value is never silently accepted: the caller asked for it to be inserted
    text = "inboundCall:\n  name: Flow\n  description: {{d}}\n"
    with pytest.raises(FlowYamlError) as caught:
        parse_flow_yaml(text, {"d": "secret-token: abc"})
    assert "secret-token" not in str(caught.value)  # values can be secrets: never echoed
