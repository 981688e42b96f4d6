"""What Architect expressions (`exp:` strings) tell about referenced objects.

Only literal forms are resolved: `FindQueue("Support")`, `FindEmergencyGroup("Evacuation")`,
`Prompt.Welcome`, `PromptSystem.on_hold_music`. Everything else that picks an object at run
time (`FindSkill(Flow.skills)`, `FindQueueById(...)`, a variable) is reported as dynamic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flowops.flowyaml.models import ReferenceKind

# Architect lookup functions, by the object kind they return. The `ById` forms take ids, which
# are not names, so they are always reported as dynamic.
_FIND_FUNCTIONS: dict[str, ReferenceKind] = {
    "FindQueue": ReferenceKind.QUEUE,
    "FindSkill": ReferenceKind.SKILL,
    "FindLanguageSkill": ReferenceKind.LANGUAGE,
    "FindUser": ReferenceKind.USER,
    "FindUserByEmail": ReferenceKind.USER,
    "FindGroup": ReferenceKind.GROUP,
    "FindSchedule": ReferenceKind.SCHEDULE,
    "FindScheduleGroup": ReferenceKind.SCHEDULEGROUP,
    "FindEmergencyGroup": ReferenceKind.EMERGENCYGROUP,
    "FindUserPrompt": ReferenceKind.USERPROMPT,
    "FindSystemPrompt": ReferenceKind.SYSTEMPROMPT,
    "FindWrapupCode": ReferenceKind.WRAPUPCODE,
}
_FIND_BY_ID_FUNCTIONS: dict[str, ReferenceKind] = {
    "FindQueueById": ReferenceKind.QUEUE,
    "FindQueuesById": ReferenceKind.QUEUE,
    "FindSkillById": ReferenceKind.SKILL,
    "FindSkillsById": ReferenceKind.SKILL,
    "FindLanguageSkillById": ReferenceKind.LANGUAGE,
    "FindUserById": ReferenceKind.USER,
    "FindUsersById": ReferenceKind.USER,
    "FindGroupById": ReferenceKind.GROUP,
    "FindGroupsById": ReferenceKind.GROUP,
    "FindScheduleById": ReferenceKind.SCHEDULE,
    "FindScheduleGroupById": ReferenceKind.SCHEDULEGROUP,
    "FindEmergencyGroupById": ReferenceKind.EMERGENCYGROUP,
    "FindWrapupCodeById": ReferenceKind.WRAPUPCODE,
}
_FIND_CALL = re.compile(r"(?<![\w.])(?P<function>Find[A-Za-z]+)\s*\(")
_STRING_LITERAL_ARGUMENT = re.compile(r'\s*"(?P<value>(?:[^"\\]|\\.)*)"\s*\)')
_USER_PROMPT = re.compile(r"(?<![\w.])Prompt\.(?P<name>[A-Za-z_]\w*)")
_SYSTEM_PROMPT = re.compile(r"(?<![\w.])PromptSystem\.(?P<name>[A-Za-z_]\w*)")
_NOT_SET = re.compile(r"^\s*(?:\w+\(\s*)?NOT_SET(?:\s*\))?\s*$")
_ONLY_STRING_LITERAL = re.compile(r'^\s*"(?P<value>(?:[^"\\]|\\.)*)"\s*$')


@dataclass(frozen=True)
class ExpressionReference:
    kind: ReferenceKind
    name: str


@dataclass(frozen=True)
class ExpressionFindings:
    literal: list[ExpressionReference]
    dynamic_kinds: list[ReferenceKind]
    has_lookup: bool
    """The expression calls a Find* function (so a field-level dynamic report would repeat it)."""


def is_not_set(expression: str) -> bool:
    """`NOT_SET` or `ToScheduleGroup(NOT_SET)`: an explicitly empty value, not a reference."""
    return bool(_NOT_SET.match(expression))


def string_literal_value(expression: str) -> str | None:
    """The text of an expression that is one string literal (`"Support"`), else None."""
    match = _ONLY_STRING_LITERAL.match(expression)
    return _unescape(match.group("value")) if match else None


def analyse_expression(expression: str) -> ExpressionFindings:
    literal: list[ExpressionReference] = []
    dynamic: list[ReferenceKind] = []
    has_lookup = False
    for call in _FIND_CALL.finditer(expression):
        function = call.group("function")
        if function in _FIND_BY_ID_FUNCTIONS:
            has_lookup = True
            dynamic.append(_FIND_BY_ID_FUNCTIONS[function])
            continue
        kind = _FIND_FUNCTIONS.get(function)
        if kind is None:
            continue  # FindString, FindFirst, ...: not object lookups
        has_lookup = True
        argument = _STRING_LITERAL_ARGUMENT.match(expression, call.end())
        if argument:
            literal.append(ExpressionReference(kind, _unescape(argument.group("value"))))
        else:
            dynamic.append(kind)
    code = _without_string_literals(expression)
    literal.extend(
        ExpressionReference(ReferenceKind.SYSTEMPROMPT, m.group("name"))
        for m in _SYSTEM_PROMPT.finditer(code)
    )
    literal.extend(
        ExpressionReference(ReferenceKind.USERPROMPT, m.group("name")) for m in _USER_PROMPT.finditer(code)
    )
    return ExpressionFindings(literal=literal, dynamic_kinds=dynamic, has_lookup=has_lookup)


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def _without_string_literals(expression: str) -> str:
    """The expression with the content of "..." literals blanked, so `"Prompt.x"` inside a
    string is not taken for a prompt reference."""
    out: list[str] = []
    in_string = False
    index = 0
    while index < len(expression):
        char = expression[index]
        if in_string:
            if char == "\\":
                index += 2
                continue
            if char == '"':
                in_string = False
                out.append(char)
        else:
            if char == '"':
                in_string = True
            out.append(char)
        index += 1
    return "".join(out)
