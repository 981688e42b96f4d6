"""A YAML loader that reads Architect flow files the way Archy (js-yaml, YAML 1.2) does.

PyYAML implements YAML 1.1, where `yes`, `no`, `on`, `off`, `y`, `n` are booleans, `1:30` is
the number 90 and `2024-01-01` is a date. Architect files use `yes:` / `no:` as decision output
KEYS and `- yes` / `- no` as speech-recognition terms; read as booleans they would silently
become `True:` / `False:`. This loader resolves plain scalars with the YAML 1.2 core schema
(only `true` / `false` are booleans, no dates, no sexagesimal numbers), keeps every mapping
key as the text that was written, and rejects duplicate keys as js-yaml does.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, ScalarNode

from flowops.bounded import FLOW_YAML_LIMITS, InputLimits, prescan_yaml

# libyaml's C parser is ~10x faster than the pure-Python one (flow files reach 900 lines and a
# scan reads hundreds); resolution and construction stay in Python either way.
_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ArchitectYamlLoader(_BaseLoader):  # type: ignore[valid-type,misc]
    """SafeLoader with YAML 1.2 core-schema scalars and text keys."""

    # A fresh table (not the inherited YAML 1.1 one), filled in below.
    yaml_implicit_resolvers: dict[str | None, list[tuple[str, re.Pattern[str]]]] = {}


ArchitectYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)
ArchitectYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
    list("-+0123456789"),
)
ArchitectYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)
ArchitectYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:null",
    re.compile(r"^(?:~|null|Null|NULL|)$"),
    ["~", "n", "N", ""],
)
ArchitectYamlLoader.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^<<$"), ["<"])


def _construct_int(loader: yaml.SafeLoader, node: ScalarNode) -> int:
    text = str(loader.construct_scalar(node))
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    # YAML 1.2: a leading zero is still decimal (PyYAML would read 010 as octal 8).
    return int(text, 10)


def _construct_text_keyed_mapping(loader: yaml.SafeLoader, node: MappingNode) -> dict[str, Any]:
    seen: set[str] = set()
    for key_node, _ in node.value:
        if not isinstance(key_node, ScalarNode):
            raise ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                "found a mapping or list used as a key",
                key_node.start_mark,
            )
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        if key_node.value in seen:
            raise ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                f"found duplicate key {key_node.value!r}",
                key_node.start_mark,
            )
        seen.add(key_node.value)
    loader.flatten_mapping(node)
    mapping: dict[str, Any] = {}
    for key_node, value_node in node.value:
        # The key keeps the characters that were written: `yes:` stays "yes", `1:` stays "1".
        mapping[str(key_node.value)] = loader.construct_object(value_node, deep=True)
    return mapping


ArchitectYamlLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
ArchitectYamlLoader.add_constructor("tag:yaml.org,2002:map", _construct_text_keyed_mapping)


def load_architect_yaml(text: str, limits: InputLimits = FLOW_YAML_LIMITS) -> Any:
    """Parse one YAML document with `ArchitectYamlLoader`.

    The text is prescanned first (`flowops.bounded`): a document over `limits` raises
    `HostileInputError` before the composer, which recurses per nesting level, ever sees it.
    Syntax errors raise yaml.YAMLError.
    """
    prescan_yaml(text, limits, _BaseLoader)
    loader = ArchitectYamlLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()
