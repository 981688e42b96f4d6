"""A local function's clock: compute at real time, accelerated sleeps at their scaled length."""

from __future__ import annotations

import pytest

from flowops.local.runtime import lambdas
from flowops.local.runtime.lambdas import FunctionClock, HandlerRunner, LocalLambdaContext


class FakeTime:
    """Stands in for the `time` module the clock reads: real seconds pass only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def fake_time(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    fake = FakeTime()
    monkeypatch.setattr(lambdas, "time", fake)
    return fake


def test_compute_counts_at_real_time(fake_time: FakeTime) -> None:
    # Given a 60 s function on a 60x clock
    context = LocalLambdaContext("f", "arn:f", 128, timeout_seconds=60, time_scale=60)
    context.clock.start()
    # When it computes for 5 real seconds
    fake_time.now += 5
    # Then 5 s of its budget are gone (not 5 x 60)
    assert context.clock.elapsed() == pytest.approx(5)
    assert context.get_remaining_time_in_millis() == 55_000


def test_a_sleep_on_the_accelerated_clock_counts_its_scaled_length(fake_time: FakeTime) -> None:
    clock = FunctionClock()
    fake_time.now += 2  # compute
    # When it sleeps 30 s of a 60x clock: half a real second
    before = fake_time.now
    clock.scaled_sleep(30, 60)
    # Then half a real second passed and 30 s were charged, plus the 2 s of compute
    assert fake_time.now - before == pytest.approx(0.5)
    assert clock.elapsed() == pytest.approx(32)


def test_a_sleep_in_progress_is_charged_as_it_goes(fake_time: FakeTime) -> None:
    clock = FunctionClock()
    with clock.span(60):
        fake_time.now += 0.25
        assert clock.elapsed() == pytest.approx(15)
    assert clock.elapsed() == pytest.approx(15)


def test_a_paused_span_is_not_charged_and_nested_spans_count_as_the_outer(fake_time: FakeTime) -> None:
    clock = FunctionClock()
    with clock.span(0.0):
        fake_time.now += 10
        with clock.span(60):
            fake_time.now += 1
    fake_time.now += 1
    assert clock.elapsed() == pytest.approx(1)


class _Function:
    def __init__(self, arn: str, reserved: int | None = None) -> None:
        self.function_arn = arn
        self.reserved_concurrency = reserved


def test_reserved_concurrency_and_the_account_limit_bound_the_running_environments() -> None:
    runner = HandlerRunner(account_concurrency_limit=3)
    one, other = _Function("arn:one", reserved=1), _Function("arn:other")
    # A function with reserved concurrency 1 gets one environment; a second invoke is throttled
    assert runner._take_slot(one, wait=False)
    assert not runner._take_slot(one, wait=False)
    # Others share what the account has left
    assert runner._take_slot(other, wait=False)
    assert runner._take_slot(other, wait=False)
    assert not runner._take_slot(other, wait=False)
    assert runner.running() == 3
    # A freed environment can be taken again
    runner._free_slot(one)
    assert runner._take_slot(one, wait=False)


def test_a_reserved_concurrency_of_zero_throttles_every_invoke() -> None:
    runner = HandlerRunner()
    assert not runner._take_slot(_Function("arn:off", reserved=0), wait=False)


def test_an_execution_clock_follows_its_running_lambda_tasks(
    fake_time: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flowops.local.runtime import execution_lifecycle
    from flowops.local.runtime.execution_lifecycle import ExecutionClocks

    monkeypatch.setattr(execution_lifecycle, "time", fake_time)
    clocks = ExecutionClocks(lambda arn: 7.0, lambda: 60.0)
    clocks.start("exec", timeout_seconds=3600)
    # Between tasks the execution's clock runs at the time scale (Step Functions' own time)
    fake_time.now += 1
    assert clocks.elapsed("exec") == pytest.approx(60 + 7)
    # While two tasks run side by side, it follows the faster of their function clocks
    computing, sleeping = FunctionClock(), FunctionClock()
    clocks.task_started("exec", computing)
    clocks.task_started("exec", sleeping)
    sleeping.scaled_sleep(30, 60)  # half a real second: 30 s on that function's clock
    assert clocks.elapsed("exec") == pytest.approx(60 + 30 + 7)
    clocks.task_ended("exec", sleeping)
    fake_time.now += 2  # the other computes for 2 real seconds: 2 s, not 120
    clocks.task_ended("exec", computing)
    assert clocks.elapsed("exec") == pytest.approx(60 + 30 + 2 + 7)
    assert not clocks.expired("exec")
