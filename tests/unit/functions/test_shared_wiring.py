"""The wiring every step handler shares (flowops.functions._shared): clients, lazy Genesys, error names."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from flowops.config import GenesysSettings
from flowops.functions import _shared
from flowops.store.errors import StoreThrottledError
from flowops.trace.request import UnknownFlowError


class _FakeClient:
    def __init__(self, settings: GenesysSettings) -> None:
        self.settings = settings

    def get_flow(self, flow_id: str) -> str:
        return f"flow {flow_id}"


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[GenesysSettings]:
    """Records every Genesys client build (each one would read the Genesys secret)."""
    builds: list[GenesysSettings] = []

    def build(settings: GenesysSettings, *, rate_schedule: Any = None) -> Any:
        # The default rate scope is per token: no shared schedule is asked for.
        assert rate_schedule is None
        builds.append(settings)
        return _FakeClient(settings)

    monkeypatch.setattr(_shared, "build_client_from_settings", build)
    monkeypatch.setattr(_shared, "_per_thread", threading.local())
    return builds


def test_lazy_client_reads_no_secret_until_a_step_calls_genesys(built: list[GenesysSettings]) -> None:
    # Given a lazy client for some settings
    settings = GenesysSettings(genesys_base_url="http://127.0.0.1:1", genesys_secret_id="flowops/dev/genesys")
    lazy = _shared.LazyGenesysClient(settings)
    # Then nothing is built (no secret read) while no Genesys call is made
    assert built == []
    assert "flowops/dev/genesys" not in repr(lazy)
    # When the step calls Genesys twice
    assert lazy.get_flow("f-1") == "flow f-1"
    assert lazy.get_flow("f-2") == "flow f-2"
    # Then exactly one client was built, for those settings
    assert built == [settings]


def test_genesys_clients_are_kept_per_thread_and_per_settings(built: list[GenesysSettings]) -> None:
    # Given two locations
    first = GenesysSettings(genesys_base_url="http://127.0.0.1:1")
    second = GenesysSettings(genesys_base_url="http://127.0.0.1:2")
    # When this thread asks twice for each, and another thread asks for the first
    same = _shared.genesys_client(first) is _shared.genesys_client(first)
    _shared.genesys_client(second)
    other_thread: list[Any] = []
    worker = threading.Thread(target=lambda: other_thread.append(_shared.genesys_client(first)))
    worker.start()
    worker.join(timeout=5)
    # Then a thread reuses its client per settings, and another thread gets its own
    assert same
    assert built == [first, second, first]
    assert other_thread[0] is not _shared.genesys_client(first)


@pytest.mark.parametrize(
    ("error", "name"),
    [
        (StoreThrottledError("slow down"), "Store.Throttled"),
        (UnknownFlowError("no such flow"), "Trace.UnknownFlow"),
    ],
)
def test_step_errors_name_the_raised_class_after_its_asl_error(error: Exception, name: str) -> None:
    # Given a handler that fails with a domain error
    @_shared.step_errors
    def handler() -> None:
        raise error

    # When it runs, Then Lambda would report the ASL error name, and the error keeps its type
    with pytest.raises(type(error)) as raised:
        handler()
    assert type(raised.value).__name__ == name
    assert raised.value.args == error.args


def test_step_errors_leave_errors_without_an_asl_name_alone() -> None:
    @_shared.step_errors
    def handler() -> None:
        raise KeyError("missing")

    with pytest.raises(KeyError) as raised:
        handler()
    assert type(raised.value) is KeyError


def test_step_errors_bound_texts_for_the_state_and_keep_id_lists_whole() -> None:
    from flowops.statepayload import MAX_ERROR_CHARS, MAX_TEXT_CHARS

    # Given a step returning a huge message next to a long list of ids, and one failing hugely
    ids = [f"flow-{index}" for index in range(500)]

    @_shared.step_errors
    def answers() -> dict[str, Any]:
        return {"message": "x" * 300_000, "changed_flow_ids": ids}

    @_shared.step_errors
    def fails() -> None:
        raise StoreThrottledError("slow down: " + "y" * 300_000)

    # When they run / Then the text fits the state, the ids are untouched, the error keeps its name
    output = answers()
    assert len(output["message"]) <= MAX_TEXT_CHARS and output["changed_flow_ids"] == ids
    with pytest.raises(StoreThrottledError) as raised:
        fails()
    assert type(raised.value).__name__ == "Store.Throttled"
    assert len(str(raised.value)) <= MAX_ERROR_CHARS and str(raised.value).startswith("slow down: yyy")
