"""The one table of flow types and dependency object types, checked against the official SDK's enums.

The enum lists are copied as data from PureCloudPlatformClientV2 269.0.0 into
tests/unit/fixtures/sdk_269_type_enums.json; when the SDK is installed (a dev dependency), its
own models are read instead, so a newer SDK that adds a type fails this test until the table
says what to do with it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from flowops.flowtypes import (
    DEPENDENCY_OBJECT_TYPES,
    FLOW_OBJECT_TYPES,
    FLOW_TYPE_TO_OBJECT_TYPE,
    PLATFORM_VOCABULARY_TYPES,
    SCANNED_RESOURCE_TYPES,
    dependency_object_type,
    flow_type_for_object_type,
    is_flow_object_type,
)

FIXTURE = Path(__file__).parent / "fixtures" / "sdk_269_type_enums.json"


def _sdk_allowed_values(module_file: Path, setter: str) -> list[str]:
    text = module_file.read_text(encoding="utf-8")
    match = re.search(rf"def {setter}\(self, [^)]*\)[^:]*:.*?allowed_values = (\[.*?\])", text, re.S)
    assert match, f"no allowed_values for {setter} in {module_file}"
    values: list[str] = json.loads(match.group(1))
    return values


def _enums() -> tuple[list[str], list[str]]:
    try:
        import importlib.util

        spec = importlib.util.find_spec("PureCloudPlatformClientV2")
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        # Read the model files without importing the package (~2.5 s and 215 MB to import).
        models = Path(next(iter(spec.submodule_search_locations))) / "models"
        return (
            _sdk_allowed_values(models / "flow.py", "type"),
            _sdk_allowed_values(models / "dependency.py", "type"),
        )
    document = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return document["flow_types"], document["dependency_types"]


SDK_FLOW_TYPES, SDK_DEPENDENCY_TYPES = _enums()


def test_every_sdk_flow_type_is_in_the_table_and_nothing_else() -> None:
    # Given the SDK's Flow.type enum / When compared with the table / Then they are the same set
    assert set(FLOW_TYPE_TO_OBJECT_TYPE) == set(SDK_FLOW_TYPES)


def test_every_object_type_the_table_names_exists_in_the_sdk() -> None:
    # Given the table's object types / Then each is a real Dependency.type value
    assert set(FLOW_OBJECT_TYPES) <= set(SDK_DEPENDENCY_TYPES)
    assert set(DEPENDENCY_OBJECT_TYPES) == set(SDK_DEPENDENCY_TYPES)


def test_every_flow_object_type_of_the_sdk_maps_back_to_a_flow_type() -> None:
    # Given the SDK's flow object types (those ending in FLOW, and WORKFLOW)
    sdk_flow_objects = {value for value in SDK_DEPENDENCY_TYPES if value.endswith("FLOW")}
    # Then the table knows every one of them as a flow
    assert sdk_flow_objects == FLOW_OBJECT_TYPES


@pytest.mark.parametrize("flow_type", sorted(FLOW_TYPE_TO_OBJECT_TYPE))
def test_a_flow_type_has_an_object_type_only_where_the_sdk_has_one(flow_type: str) -> None:
    object_type = dependency_object_type(flow_type)
    candidates = {f"{flow_type}FLOW", flow_type} & set(SDK_DEPENDENCY_TYPES)
    if object_type is None:
        # Then no SDK object type exists for it (SPEECH: there is no SPEECHFLOW)
        assert not candidates
    else:
        assert object_type in candidates
        assert flow_type_for_object_type(object_type) == flow_type
        assert is_flow_object_type(object_type)


def test_the_known_special_cases() -> None:
    assert dependency_object_type("SPEECH") is None
    assert "SPEECHFLOW" not in SDK_DEPENDENCY_TYPES
    assert dependency_object_type("EMAILSEND") == "EMAILSENDFLOW"
    assert dependency_object_type("BUSINESSPROCESS") == "BUSINESSPROCESSFLOW"
    assert dependency_object_type("WORKFLOW") == "WORKFLOW"
    assert dependency_object_type("inboundcall") == "INBOUNDCALLFLOW"
    # A flow type newer than the table is not guessed into an object type the platform refuses
    assert dependency_object_type("HOLOGRAMCALL") is None
    assert flow_type_for_object_type("QUEUE") is None


def test_the_scan_asks_for_every_real_type_but_the_platform_vocabulary() -> None:
    assert set(SDK_DEPENDENCY_TYPES) >= PLATFORM_VOCABULARY_TYPES
    assert set(SCANNED_RESOURCE_TYPES) == set(SDK_DEPENDENCY_TYPES) - PLATFORM_VOCABULARY_TYPES
    assert {"SYSTEMPROMPT", "DATAACTION", "QUEUE", "COMMONMODULEFLOW"} <= set(SCANNED_RESOURCE_TYPES)
    assert list(SCANNED_RESOURCE_TYPES) == sorted(SCANNED_RESOURCE_TYPES)
