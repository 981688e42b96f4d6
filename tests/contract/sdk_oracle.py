"""The official Genesys Cloud SDK (PureCloudPlatformClientV2, a dev dependency) as a test oracle.

`deviations(document, "FlowEntityListing")` walks an API answer against the SDK model's
`swagger_types` / `attribute_map` and reports every field the model lacks (an invented field),
every value of the wrong JSON type (an epoch number where the model has a date-time, a number
where it has a string), and every enum value outside the model's allowed values (the SDK's
setters turn those into "outdated_sdk_version"). It also runs the SDK's own deserializer on the
document, so an answer the SDK would crash on is reported too.

The SDK takes ~2.5 s and ~200 MB to import: it is imported once, lazily, per test process.
"""

from __future__ import annotations

import functools
import inspect
import re
from typing import Any

from dateutil.parser import isoparse

_OUTDATED = "outdated_sdk_version"
_LIST = re.compile(r"^list\[(.*)\]$")
_DICT = re.compile(r"^dict\(([^,]*), (.*)\)$")


@functools.cache
def sdk() -> Any:
    import PureCloudPlatformClientV2

    return PureCloudPlatformClientV2


@functools.cache
def response_type(sdk_method: str) -> str:
    """The model name the SDK's API method returns (`:return:` of its docstring)."""
    module = sdk()
    for api_name in ("ArchitectApi", "IntegrationsApi", "DownloadsApi"):
        method = getattr(getattr(module, api_name), sdk_method, None)
        if method is not None:
            found = re.search(r":return: (\S+)", inspect.getdoc(method) or "")
            if found:
                return found.group(1)
    raise LookupError(f"no SDK API method {sdk_method}")


def _model(name: str) -> Any:
    return getattr(sdk().models, name)


def deviations(document: Any, type_name: str, path: str = "$") -> list[str]:
    """Every way `document` departs from the SDK model `type_name` (empty when it conforms)."""
    found = _walk(document, type_name, path)
    if not found:
        try:
            sdk().ApiClient()._ApiClient__deserialize(document, type_name)
        except Exception as error:  # the SDK's own deserializer is part of the oracle
            found.append(f"{path}: the SDK cannot deserialize it as {type_name}: {error!r}")
    return found


def _walk(value: Any, type_name: str, path: str) -> list[str]:
    if value is None:
        return []
    listed = _LIST.match(type_name)
    if listed:
        if not isinstance(value, list):
            return [f"{path}: expected a list ({type_name}), got {type(value).__name__}"]
        return [
            problem
            for i, item in enumerate(value)
            for problem in _walk(item, listed.group(1), f"{path}[{i}]")
        ]
    mapped = _DICT.match(type_name)
    if mapped:
        if not isinstance(value, dict):
            return [f"{path}: expected an object ({type_name}), got {type(value).__name__}"]
        return [p for key, item in value.items() for p in _walk(item, mapped.group(2), f"{path}.{key}")]
    primitive = _primitive(value, type_name, path)
    if primitive is not None:
        return primitive
    if not isinstance(value, dict):
        return [f"{path}: expected a {type_name} object, got {type(value).__name__}"]
    instance = _model(type_name)()
    by_json_name = {json_name: attr for attr, json_name in instance.attribute_map.items()}
    problems: list[str] = []
    for key, item in value.items():
        attr = by_json_name.get(key)
        if attr is None:
            problems.append(f"{path}.{key}: {type_name} has no such field (invented)")
            continue
        attr_type = instance.swagger_types[attr]
        problems.extend(_walk(item, attr_type, f"{path}.{key}"))
        if attr_type == "str" and isinstance(item, str):
            setattr(instance, attr, item)  # enum setters map unknown values to "outdated_sdk_version"
            if getattr(instance, attr) == _OUTDATED:
                problems.append(f"{path}.{key}: {item!r} is not an allowed {type_name}.{attr} value")
    return problems


def _primitive(value: Any, type_name: str, path: str) -> list[str] | None:
    """Problems of a primitive-typed value, or None when `type_name` is a model."""
    if type_name == "object":
        return []
    if type_name == "str":
        return [] if isinstance(value, str) else [f"{path}: expected a string, got {value!r}"]
    if type_name == "bool":
        return [] if isinstance(value, bool) else [f"{path}: expected a boolean, got {value!r}"]
    if type_name == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
        return [] if ok else [f"{path}: expected an integer, got {value!r}"]
    if type_name == "float":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return [] if ok else [f"{path}: expected a number, got {value!r}"]
    if type_name in ("datetime", "date"):
        if not isinstance(value, str):
            return [f"{path}: expected an ISO-8601 {type_name} string, got {value!r}"]
        try:
            isoparse(value)
        except ValueError:
            return [f"{path}: {value!r} is not an ISO-8601 {type_name}"]
        return []
    return None
