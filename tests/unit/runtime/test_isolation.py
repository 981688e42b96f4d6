"""Handlers' per-process powertools state, kept per environment (worker thread) locally."""

from __future__ import annotations

import json
import threading
import types
import uuid
from collections.abc import Iterator

import pytest
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from flowops.local.runtime import isolation
from flowops.observability import CurrentStdoutHandler


@pytest.fixture
def handler_module() -> Iterator[types.ModuleType]:
    """A handler module holding its own Logger and Metrics, isolated as the runner isolates it."""
    module = types.ModuleType("fake_handler")
    service = f"isolation-{uuid.uuid4().hex[:8]}"  # a Logger per service name: one per test
    module.logger = Logger(service=service, logger_handler=CurrentStdoutHandler())  # type: ignore[attr-defined]
    module.metrics = Metrics(namespace="IsolationTest", service=service)  # type: ignore[attr-defined]
    isolation.isolate_module(module)
    yield module
    isolation.uninstall()


def _in_thread(action: object) -> None:
    thread = threading.Thread(target=action)  # type: ignore[arg-type]
    thread.start()
    thread.join(10)


def test_metrics_of_one_environment_are_not_seen_or_flushed_by_another(
    handler_module: types.ModuleType,
) -> None:
    metrics = handler_module.metrics
    # Given an invocation in this environment that added a metric and a dimension
    metrics.add_metric(name="Read", unit=MetricUnit.Count, value=1)
    metrics.add_dimension(name="org", value="dev")
    seen: dict[str, object] = {}

    def other_environment() -> None:
        seen["metrics"] = dict(metrics.provider.metric_set)
        seen["dimensions"] = dict(metrics.provider.dimension_set)
        metrics.add_metric(name="Other", unit=MetricUnit.Count, value=2)
        metrics.clear_metrics()

    # When another environment runs (and flushes) meanwhile
    _in_thread(other_environment)
    # Then it started clean, and this environment's metric set is intact
    assert seen == {"metrics": {}, "dimensions": {}}
    assert set(metrics.provider.metric_set) == {"Read"}
    assert metrics.provider.dimension_set["org"] == "dev"
    # and the instance and its provider still share one set per environment, as powertools expects
    assert metrics.metric_set is metrics.provider.metric_set


def test_logger_keys_are_per_environment(
    handler_module: types.ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    logger = handler_module.logger
    logger.append_keys(request_id="mine")

    def other_environment() -> None:
        logger.append_keys(request_id="theirs")
        logger.info("other")

    _in_thread(other_environment)
    logger.info("this")
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert [(line["message"], line["request_id"]) for line in lines] == [
        ("other", "theirs"),
        ("this", "mine"),
    ]


def test_uninstall_gives_the_objects_their_own_class_back(handler_module: types.ModuleType) -> None:
    isolation.uninstall()
    assert type(handler_module.metrics) is Metrics
    assert type(handler_module.logger.registered_formatter).__module__.startswith("aws_lambda_powertools")
    assert "metric_set" not in type(handler_module.metrics).__dict__


def test_a_module_with_an_event_handler_resolver_is_run_one_at_a_time() -> None:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver

    module = types.ModuleType("fake_api")
    assert not isolation.holds_class_state(module)
    module.app = APIGatewayRestResolver()  # type: ignore[attr-defined]
    assert isolation.holds_class_state(module)
