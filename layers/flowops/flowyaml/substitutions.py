"""Placeholders in Architect flow YAML and the per-environment values that fill them.

Real flow files carry two kinds of placeholders:

- `{{key}}`: Archy's `substitutions:` (options file) and the Terraform `genesyscloud_flow`
  resource's `substitutions` map;
- `${key}`: Terraform `templatefile()` variables.

Semantics, exactly as Archy and the Terraform provider apply them (docs/substitutions.md):

- Text replacement before the YAML is parsed: the literal `{{key}}` is replaced by the value,
  VERBATIM (no quoting, no escaping). The key is everything between the braces: keys may hold
  spaces, `:`, `/`, `+` (`{{queue: main}}`). `{{ key }}` names the key ` key `, which neither tool
  accepts (Archy: keys have no leading/trailing whitespace; the provider replaces only
  `{{key}}`), so it stays unresolved and is reported with that reason.
- Where the two differ, Archy's options-file rules win: keys must be non-empty and without
  surrounding whitespace; values are strings, numbers or booleans (the provider takes strings).
- A value that would not mean itself where it lands is an ERROR, never silently escaped: `: `
  or ` #` in an unquoted value, a leading YAML indicator (`*`, `&`, `!`, `|`, ...), `"` or a backslash
  inside a double-quoted scalar, `'` inside a single-quoted one, a `"` inside an expression
  (it would end the expression's string literal), a line break anywhere, or an unquoted value
  YAML would read as another number/null (`007`). Escaping would make flowops accept a file
  that Archy and Terraform then deploy differently.

Placeholders without a value are swapped for a neutral token that parses as a plain string and
is turned back into the original `{{key}}` text once the YAML has been parsed; placeholders in
comments are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from flowops.bounded import SUBSTITUTIONS_LIMITS, HostileInputError, load_bounded_yaml
from flowops.flowyaml.errors import FlowYamlError

# `{{key}}`: the key is the exact text between the braces (Archy and the provider both replace
# the literal `{{<key>}}`). `${key}`: Terraform templatefile variables (HCL trims inner spaces).
PLACEHOLDER_PATTERN = re.compile(r"\{\{(?P<curly>[^{}\n]+)\}\}|\$\{\s*(?P<dollar>[\w.-]+)\s*\}")

# The token stands in for an unresolved placeholder: letters, digits and underscores only, so it
# is a plain YAML string in every position (key, value, inside quotes) and never a bool/number.
_TOKEN_PREFIX = "__flowops_placeholder_"  # noqa: S105 (a marker, not a secret)
_TOKEN_PATTERN = re.compile(re.escape(_TOKEN_PREFIX) + r"\d+__")

_BLOCK_SCALAR_HEADER = re.compile(r"(?:^|[\s:\-?])[|>][+-]?[1-9]?[+-]?$")
_PLAIN_UNSAFE_START = set("-?:,[]{}#&*!|>'\"%@`")

PlaceholderContext = Literal["plain_whole", "plain_part", "double", "single", "block", "comment"]


def placeholder_key(match: re.Match[str]) -> str:
    """The key a placeholder match names, for both `{{key}}` and `${key}`."""
    curly = match.group("curly")
    return curly if curly is not None else match.group("dollar")


class SubstitutionSet(BaseModel):
    """Values for `{{key}}` / `${key}` placeholders, e.g. one environment's settings.

    Values are kept as text, as Archy does. They can be secrets (a data action input such
    as a client secret), so the model's repr shows only the keys.
    """

    model_config = ConfigDict(frozen=True)

    values: dict[str, str] = Field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        return f"SubstitutionSet(keys={sorted(self.values)!r})"

    __str__ = __repr__

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, object]) -> SubstitutionSet:
        """Build from a mapping of scalar values (str, int, float, bool; None becomes "").

        Keys follow Archy: at least one character, no leading or trailing whitespace, and
        (so that `{{key}}` can be written) no braces or line breaks."""
        for key in mapping:
            _check_key(str(key))
        return cls(values={str(key): _scalar_to_text(str(key), value) for key, value in mapping.items()})

    @classmethod
    def from_text(cls, text: str, environment: str | None = None) -> SubstitutionSet:
        """Read YAML or JSON content (JSON is YAML): a plain mapping, an Archy options file
        (`substitutions:`), or a per-environment file::

            substitutions: {shared: x}          # optional, applies to every environment
            environments:
              dev: {queue_name: Support-Dev}    # or dev: {substitutions: {...}}

        With `environment`, that environment's values are laid over the shared ones.
        """
        import yaml

        try:
            loaded = load_bounded_yaml(text.lstrip("\ufeff"), SUBSTITUTIONS_LIMITS) if text.strip() else {}
        except HostileInputError as exc:
            raise FlowYamlError(
                f"substitutions file refused: {exc.problem}", line=exc.line, hint=exc.hint
            ) from None
        except yaml.YAMLError as exc:
            raise FlowYamlError(
                f"substitutions file is not valid YAML/JSON: {exc}",
                hint="it must be a mapping of key: value",
            ) from exc
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, Mapping):
            raise FlowYamlError("substitutions file must be a mapping", hint="write key: value lines")
        return cls.from_document(loaded, environment)

    @classmethod
    def from_document(cls, document: Mapping[str, Any], environment: str | None = None) -> SubstitutionSet:
        """Same as `from_text` for an already parsed document."""
        has_layout = "substitutions" in document or "environments" in document
        if not has_layout:
            if environment is not None:
                raise FlowYamlError(
                    f"environment {environment!r} requested but the file has no 'environments' section",
                    hint="add environments: {<name>: {key: value}}",
                )
            return cls.from_mapping(document)
        shared = _mapping_or_empty(document.get("substitutions"), "substitutions")
        result = cls.from_mapping(shared)
        if environment is None:
            return result
        environments = _mapping_or_empty(document.get("environments"), "environments")
        if environment not in environments:
            known = ", ".join(sorted(str(name) for name in environments)) or "none"
            raise FlowYamlError(
                f"unknown environment {environment!r}",
                hint=f"known environments: {known}",
            )
        env_section = _mapping_or_empty(environments[environment], f"environments.{environment}")
        if "substitutions" in env_section:
            env_section = _mapping_or_empty(
                env_section["substitutions"], f"environments.{environment}.substitutions"
            )
        return result.merged(cls.from_mapping(env_section))

    def merged(self, overrides: SubstitutionSet | Mapping[str, object]) -> SubstitutionSet:
        """A new set with `overrides` laid over this one."""
        other = (
            overrides if isinstance(overrides, SubstitutionSet) else SubstitutionSet.from_mapping(overrides)
        )
        return SubstitutionSet(values={**self.values, **other.values})

    def as_dict(self) -> dict[str, str]:
        return dict(self.values)

    def keys(self) -> list[str]:
        return sorted(self.values)


def _mapping_or_empty(value: object, where: str) -> Mapping[str, object]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise FlowYamlError(f"'{where}' must be a mapping of key: value", hint="indent the keys under it")
    return value


def _check_key(key: str) -> None:
    if not key or key != key.strip():
        raise FlowYamlError(
            f"substitution key {key!r} is empty or has leading/trailing whitespace",
            hint="Archy requires keys of at least one character without surrounding whitespace",
        )
    if any(char in key for char in "{}\n\r"):
        raise FlowYamlError(
            f"substitution key {key!r} contains a brace or a line break",
            hint="a placeholder is written {{key}}: the key cannot contain braces",
        )


def _scalar_to_text(key: str, value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise FlowYamlError(
        f"substitution {key!r} must be a string, number or boolean, not {type(value).__name__}",
        hint="Archy substitutions are scalar values",
    )


@dataclass(frozen=True)
class UnsafeValue:
    key: str
    line: int
    reason: str


@dataclass
class SubstitutedText:
    """Text ready for the YAML parser, and what is needed to undo the neutral tokens."""

    text: str
    token_to_placeholder: dict[str, str] = field(default_factory=dict)
    unresolved: list[str] = field(default_factory=list)
    """Keys without a value, sorted, each once."""
    first_unresolved_line: dict[str, int] = field(default_factory=dict)
    resolved: list[str] = field(default_factory=list)
    unresolved_reasons: dict[str, str] = field(default_factory=dict)
    """Why a placeholder did not match although a similar key has a value (`{{ key }}`)."""
    unsafe: list[UnsafeValue] = field(default_factory=list)
    """Values that would not mean themselves where they land (an error for every caller)."""
    archy_text: str = ""
    """The text exactly as Archy/Terraform deploy it: values verbatim, unresolved placeholders
    left as written."""

    def restore(self, text: str) -> str:
        """Put the original placeholder text back in place of neutral tokens."""
        if not self.token_to_placeholder or _TOKEN_PREFIX not in text:
            return text
        return _TOKEN_PATTERN.sub(lambda m: self.token_to_placeholder.get(m.group(0), m.group(0)), text)


def substitute_placeholders(text: str, values: Mapping[str, str]) -> SubstitutedText:
    """Fill `{{key}}` / `${key}` placeholders from `values` verbatim; neutral tokens for the rest.

    Placeholders inside YAML comments are left alone and not reported. Values that would change
    meaning where they land are listed in `unsafe` (see the module docstring).
    """
    result = SubstitutedText(text=text)
    unresolved: set[str] = set()
    resolved: set[str] = set()
    token_for_placeholder: dict[str, str] = {}
    out_lines: list[str] = []
    archy_lines: list[str] = []
    for line_number, (line, contexts) in enumerate(_lines_with_contexts(text), start=1):
        pieces: list[str] = []
        archy_pieces: list[str] = []
        cursor = 0
        for match in PLACEHOLDER_PATTERN.finditer(line):
            context = contexts(match.start(), match.end())
            if context == "comment":
                continue
            pieces.append(line[cursor : match.start()])
            archy_pieces.append(line[cursor : match.start()])
            key = placeholder_key(match)
            if key in values:
                resolved.add(key)
                value = values[key]
                reason = _unsafe_reason(value, context, line, match.start(), match.end())
                if reason is not None:
                    result.unsafe.append(UnsafeValue(key, line_number, reason))
                pieces.append(value)
                archy_pieces.append(value)
            else:
                unresolved.add(key)
                result.first_unresolved_line.setdefault(key, line_number)
                if key.strip() != key and key.strip() in values:
                    result.unresolved_reasons[key] = (
                        f"'{{{{{key}}}}}' has spaces inside the braces; Archy and Terraform only "
                        f"replace '{{{{{key.strip()}}}}}'"
                    )
                original = match.group(0)
                token = token_for_placeholder.get(original)
                if token is None:
                    token = f"{_TOKEN_PREFIX}{len(token_for_placeholder)}__"
                    token_for_placeholder[original] = token
                    result.token_to_placeholder[token] = original
                pieces.append(token)
                archy_pieces.append(original)
            cursor = match.end()
        pieces.append(line[cursor:])
        archy_pieces.append(line[cursor:])
        out_lines.append("".join(pieces))
        archy_lines.append("".join(archy_pieces))
    result.text = "\n".join(out_lines)
    result.archy_text = "\n".join(archy_lines)
    result.unresolved = sorted(unresolved)
    result.resolved = sorted(resolved)
    return result


def _unsafe_reason(value: str, context: PlaceholderContext, line: str, start: int, end: int) -> str | None:
    """Why `value`, inserted verbatim at line[start:end], would not be read as itself."""
    if "\n" in value or "\r" in value:
        return "it contains a line break, which changes the YAML structure around it"
    if '"' in value and _in_expression(line, start):
        return "it contains '\"', which would end the expression's string literal"
    if context == "double":
        if '"' in value or "\\" in value:
            return "it contains '\"' or '\\', which end or escape the double-quoted YAML string it is in"
        return None
    if context == "single":
        quote = "'" in value
        return 'it contains "\'", which ends the single-quoted YAML string it is in' if quote else None
    if context == "block":
        return None
    starts = _opens_plain_scalar(line, start)
    ends = _closes_plain_scalar(line, end)
    if ": " in value or (value.endswith(":") and not ends):
        return "it contains ': ', which YAML reads as a mapping in an unquoted value"
    if value.endswith(":"):
        return "it ends with ':', which YAML reads as a mapping key in an unquoted value"
    if " #" in value or "\t#" in value:
        return "it contains ' #', which starts a YAML comment in an unquoted value (the rest is dropped)"
    if starts and value and value[0] in _PLAIN_UNSAFE_START:
        return f"it starts with {value[0]!r}, a YAML indicator at the start of an unquoted value"
    if (starts and value != value.lstrip()) or (ends and value != value.rstrip()):
        return "it has leading or trailing spaces, which YAML drops from an unquoted value"
    if starts and ends and context == "plain_whole" and not _reads_as_itself(value):
        return "YAML would read it as a number or null whose text differs from the value"
    return None


def _in_expression(line: str, start: int) -> bool:
    """The placeholder sits in the value of an `exp:` key (an Architect expression)."""
    return re.search(r"(?:^|[\s{,])exp\s*:\s", line[:start]) is not None


def _reads_as_itself(value: str) -> bool:
    import yaml

    from flowops.flowyaml.loader import load_architect_yaml

    try:
        loaded = load_architect_yaml(value)
    except yaml.YAMLError:
        return False
    if isinstance(loaded, str):
        return loaded == value
    if isinstance(loaded, bool):
        return value in ("true", "false")
    if isinstance(loaded, int):
        return str(loaded) == value
    if isinstance(loaded, float):
        return repr(loaded) == value or str(loaded) == value
    return False


def _is_plain_safe(value: str) -> bool:
    """True when `value` can stand as an unquoted YAML scalar and mean the same text."""
    if not value or value != value.strip() or "\n" in value or "\r" in value or "\t" in value:
        return False
    if value[0] in _PLAIN_UNSAFE_START:
        return False
    return ": " not in value and " #" not in value and not value.endswith(":")


class _LineContexts:
    """Answers "what kind of YAML text is at column c of this line"."""

    def __init__(self, line: str, states: list[str], block: bool) -> None:
        self._line = line
        self._states = states
        self._block = block

    def __call__(self, start: int, end: int) -> PlaceholderContext:
        if self._block:
            return "block"
        state = self._states[start] if start < len(self._states) else "plain"
        if state in ("comment", "double", "single"):
            return state  # type: ignore[return-value]
        return "plain_whole" if _is_whole_plain_scalar(self._line, start, end) else "plain_part"


def _opens_plain_scalar(line: str, start: int) -> bool:
    before = line[:start]
    stripped_before = before.rstrip()
    return (
        stripped_before == ""
        or stripped_before[-1] in "[{,"
        or (stripped_before[-1] in ":-?" and before != stripped_before)
    )


def _closes_plain_scalar(line: str, end: int) -> bool:
    after = line[end:]
    stripped_after = after.lstrip()
    return (
        stripped_after == ""
        or stripped_after[0] in ",]}"
        or (stripped_after.startswith("#") and after != stripped_after)
        or stripped_after == ":"
        or stripped_after.startswith(": ")
    )


def _is_whole_plain_scalar(line: str, start: int, end: int) -> bool:
    return _opens_plain_scalar(line, start) and _closes_plain_scalar(line, end)


def _lines_with_contexts(text: str) -> Iterable[tuple[str, _LineContexts]]:
    """Scan YAML text line by line, tracking quoted scalars (which may span lines), comments
    and block scalars (`|`, `>`), whose content is literal text."""
    quote: str | None = None
    block_parent_indent: int | None = None
    for line in text.split("\n"):
        indent = len(line) - len(line.lstrip(" "))
        if block_parent_indent is not None and quote is None:
            if not line.strip() or indent > block_parent_indent:
                yield line, _LineContexts(line, [], block=True)
                continue
            block_parent_indent = None
        states: list[str] = []
        index = 0
        comment = False
        while index < len(line):
            char = line[index]
            if comment:
                states.append("comment")
            elif quote == '"':
                states.append("double")
                if char == "\\" and index + 1 < len(line):
                    states.append("double")
                    index += 2
                    continue
                if char == '"':
                    quote = None
            elif quote == "'":
                states.append("single")
                if char == "'":
                    if index + 1 < len(line) and line[index + 1] == "'":
                        states.append("single")
                        index += 2
                        continue
                    quote = None
            elif char == "#" and (index == 0 or line[index - 1] in " \t"):
                comment = True
                states.append("comment")
            elif char in "\"'" and _starts_scalar(line, index):
                quote = char
                states.append("double" if char == '"' else "single")
            else:
                states.append("plain")
            index += 1
        if quote is None:
            content = "".join(
                ch for ch, state in zip(line, states, strict=False) if state != "comment"
            ).rstrip()
            if _BLOCK_SCALAR_HEADER.search(content):
                block_parent_indent = indent
        yield line, _LineContexts(line, states, block=False)


def _starts_scalar(line: str, index: int) -> bool:
    before = line[:index]
    stripped = before.rstrip()
    if stripped == "":
        return True
    if stripped[-1] in "[{,":
        return True
    return stripped[-1] in ":-?" and before != stripped
