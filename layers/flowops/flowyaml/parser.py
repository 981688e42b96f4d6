"""`parse_flow_yaml`: Architect flow YAML text -> `FlowDocument`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flowops.bounded import FLOW_YAML_LIMITS, HostileInputError, ensure_size
from flowops.flowyaml.errors import FlowYamlError
from flowops.flowyaml.flow_types import KNOWN_YAML_KEYS, FlowTypeInfo, flow_type_for_yaml_key
from flowops.flowyaml.models import FlowDocument
from flowops.flowyaml.references import ReferenceCollector, name_text
from flowops.flowyaml.structure import build_structure, unreachable_containers
from flowops.flowyaml.substitutions import SubstitutedText, SubstitutionSet, substitute_placeholders

_TAB_HINT = "YAML indentation must use spaces, not tabs"
# PyYAML / libyaml problem text -> what usually fixes it.
_HINTS: tuple[tuple[str, str], ...] = (
    ("'\\t'", _TAB_HINT),
    ("mapping or list used as a key", "an unquoted {...} or [...] became a key; quote the value"),
    (
        "unhashable key",
        "an unquoted {{placeholder}} or {...} is read as a mapping; quote it or substitute it",
    ),
    ("duplicate key", "each key may appear once in a mapping (Archy rejects duplicates too)"),
    ("mapping values are not allowed", "a plain value contains ': '; quote the value"),
    ("expected <block end>", "check the indentation, or quote a value that starts with a special character"),
    ("could not find expected ':'", "a key is missing its ':' or a quoted value is not closed"),
    ("found unexpected end of stream", "a quoted value or a [ / { is not closed"),
    ("found undefined alias", "an *alias is used without a matching &anchor; quote values starting with '*'"),
    ("found character that cannot start any token", "quote values that start with a special character"),
    ("special characters are not allowed", "the text contains control characters; remove them"),
)


def parse_flow_yaml(
    text: str,
    substitutions: Mapping[str, str] | SubstitutionSet | None = None,
    *,
    strict_placeholders: bool = False,
) -> FlowDocument:
    """Read one Architect flow YAML file.

    `substitutions` fill `{{key}}` / `${key}` placeholders. Placeholders without a value are
    parsed through a neutral token, keep their `{{key}}` text in the result, and are listed
    in `unresolved_placeholders`; with `strict_placeholders` they raise instead.
    Raises `FlowYamlError` (and nothing else) for anything that is not a readable flow.
    """
    if not isinstance(text, str):
        raise FlowYamlError(f"flow YAML must be text, not {type(text).__name__}")
    try:
        # Before any work on the text: substitution and normalisation copy it.
        ensure_size(text, FLOW_YAML_LIMITS, "the flow YAML")
    except HostileInputError as exc:
        raise FlowYamlError(exc.problem, hint=exc.hint) from None
    values = (
        substitutions.as_dict() if isinstance(substitutions, SubstitutionSet) else dict(substitutions or {})
    )
    normalised = _normalise(text)
    substituted = substitute_placeholders(normalised, values)
    if substituted.unsafe:
        # Archy and Terraform insert values verbatim: a value that would change meaning where it
        # lands is refused, not escaped (an escaped file passes here and fails there).
        unsafe = substituted.unsafe[0]
        fix = (
            f'quote the placeholder in the flow file ("{{{{{unsafe.key}}}}}") or change the value'
            if "unquoted" in unsafe.reason
            else "change the value: Archy and Terraform insert it verbatim"
        )
        raise FlowYamlError(
            f"substitution {unsafe.key!r} cannot be inserted as is: {unsafe.reason}",
            line=unsafe.line,
            hint=fix,
        )
    if strict_placeholders and substituted.unresolved:
        first = substituted.unresolved[0]
        reasons = [
            substituted.unresolved_reasons[key]
            for key in substituted.unresolved
            if key in substituted.unresolved_reasons
        ]
        names = ", ".join(repr(key) if key != key.strip() else key for key in substituted.unresolved)
        raise FlowYamlError(
            f"no value for placeholder(s): {names}",
            line=substituted.first_unresolved_line.get(first),
            hint="; ".join(reasons) if reasons else "add them to the substitutions for this environment",
        )
    try:
        loaded = _load(substituted)
        return _document(loaded, substituted, normalised)
    except RecursionError as exc:
        raise FlowYamlError(
            "the document is nested too deeply to read", hint="flatten the structure"
        ) from exc


def _normalise(text: str) -> str:
    """Drop a byte-order mark and use LF line ends (CRLF files are common from Windows)."""
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def _load(substituted: SubstitutedText) -> Any:
    # PyYAML (and the loader built on it) on the first parse: handlers that only carry parsed
    # flows do not import it at cold start.
    import yaml

    from flowops.flowyaml.loader import load_architect_yaml

    try:
        return load_architect_yaml(substituted.text)
    except HostileInputError as exc:
        raise FlowYamlError(f"refused: {exc.problem}", line=exc.line, hint=exc.hint) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = substituted.restore(" ".join(part for part in (exc.context, exc.problem) if part))
        line = mark.line + 1 if mark else None
        hint = _hint_for(problem)
        if line is not None and _line_indented_with_tab(substituted.text, line):
            # libyaml only says "found character that cannot start any token".
            hint = _TAB_HINT
        raise FlowYamlError(
            f"invalid YAML: {problem or 'unreadable'}",
            line=line,
            column=mark.column + 1 if mark else None,
            hint=hint,
        ) from None
    except yaml.YAMLError as exc:
        problem = substituted.restore(str(exc))
        raise FlowYamlError(f"invalid YAML: {problem}", hint=_hint_for(problem)) from None


def _line_indented_with_tab(text: str, line: int) -> bool:
    lines = text.split("\n")
    if not 1 <= line <= len(lines):
        return False
    content = lines[line - 1]
    return "\t" in content[: len(content) - len(content.lstrip(" \t"))]


def _hint_for(problem: str) -> str | None:
    return next((hint for needle, hint in _HINTS if needle in problem), None)


def _document(loaded: Any, substituted: SubstitutedText, text: str) -> FlowDocument:
    if loaded is None:
        raise FlowYamlError(
            "the document is empty", hint="an Archy flow file starts with its flow type, e.g. inboundCall:"
        )
    if not isinstance(loaded, dict):
        raise FlowYamlError(
            f"the document is a {type(loaded).__name__}, not a mapping",
            line=1,
            hint="an Archy flow file starts with its flow type, e.g. inboundCall:",
        )
    raw = _restore_tokens(loaded, substituted)
    flow_keys = [key for key in raw if flow_type_for_yaml_key(key) is not None]
    if len(raw) != 1 or len(flow_keys) != 1:
        unknown = [key for key in raw if flow_type_for_yaml_key(key) is None]
        problem = (
            f"unknown top-level key {unknown[0]!r}"
            if unknown
            else f"expected one flow type at the top level, found {len(raw)}: {', '.join(raw)}"
        )
        raise FlowYamlError(
            problem,
            line=_line_of_top_level_key(text, unknown[0] if unknown else flow_keys[-1]),
            hint=f"the top-level key is the flow type, one of: {', '.join(KNOWN_YAML_KEYS)}",
        )
    yaml_key = flow_keys[0]
    info = flow_type_for_yaml_key(yaml_key)
    assert info is not None  # guaranteed by flow_keys
    body = raw[yaml_key]
    if not isinstance(body, dict):
        raise FlowYamlError(
            f"'{yaml_key}' must be a mapping of flow settings",
            line=_line_of_top_level_key(text, yaml_key),
            hint="indent name:, startUpRef:, tasks: ... under it",
        )
    name = name_text(body.get("name"))
    if name is None:
        raise FlowYamlError(
            f"the {yaml_key} flow has no name",
            line=_line_of_top_level_key(text, yaml_key),
            hint=f"add name: under {yaml_key}:",
        )
    return _build(info, yaml_key, name, body, raw, substituted)


def _build(
    info: FlowTypeInfo,
    yaml_key: str,
    name: str,
    body: dict[str, Any],
    raw: dict[str, Any],
    substituted: SubstitutedText,
) -> FlowDocument:
    root_path = f"/{yaml_key}"
    collector = ReferenceCollector(info)
    collector.collect(body, root_path)
    structure = build_structure(body, root_path)
    division = body.get("division")
    if isinstance(division, Mapping):
        division = division.get("name")
    return FlowDocument(
        yaml_key=yaml_key,
        flow_type=info.flow_type,
        object_type=info.object_type,
        name=name,
        description=name_text(body.get("description")),
        division=name_text(division),
        references=collector.references(),
        dynamic_references=collector.dynamic_references(),
        structure=structure,
        unreachable_tasks=unreachable_containers(structure),
        unresolved_placeholders=substituted.unresolved,
        raw=raw,
    )


def _restore_tokens(value: Any, substituted: SubstitutedText) -> Any:
    if not substituted.token_to_placeholder:
        return value
    if isinstance(value, dict):
        return {substituted.restore(key): _restore_tokens(child, substituted) for key, child in value.items()}
    if isinstance(value, list):
        return [_restore_tokens(child, substituted) for child in value]
    if isinstance(value, str):
        return substituted.restore(value)
    return value


def _line_of_top_level_key(text: str, key: str) -> int | None:
    pattern = re.compile(rf"^['\"]?{re.escape(key)}['\"]?\s*:", re.MULTILINE)
    match = pattern.search(text)
    return text.count("\n", 0, match.start()) + 1 if match else None
