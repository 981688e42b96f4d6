"""Publish pipeline overhead: from the simulator's Architect job reaching Success to RecordRelease.

    python -m bench.publish                 # 10 publishes, default timing (2 s first poll, x2, 30 s cap)
    python -m bench.publish --publishes 20

Each publish is a real execution of the SYNTHESIZED publish state machine (moto + the real
handlers, `bench.harness.open_world`) against the Genesys simulator, deploying a new version of
a flow through the Architect jobs API with the default `PublishTiming`.

Simulated time. The local runtime records Step Functions Wait/Retry delays instead of sleeping
them, so the execution history's real timestamps lack the waits. Here the simulator runs on a
`WaitAdvancedClock`: real time (x1) plus every delay recorded so far. That puts the simulator's
Architect job and the state machine on ONE timeline — the one the same execution would follow in
the cloud if every handler took as long as it does on this machine — and each history event's
simulated instant is its timestamp plus the delays recorded before it.

For each publish: the job's Success instant (upload + the simulator's job duration), the polls
(CheckPublishJob invocations, and how many of them came after Success), when the pipeline saw
Success, and when RecordRelease finished. The baseline is an ideal poller that sees Success the
instant it happens: its time from upload to "released" is the job's own duration, so
`total / ideal` is what the pipeline's polling and closing steps cost on top of Genesys.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bench import harness

CHECK_STATE = "CheckPublishJob"
WAIT_STATE = "WaitForPublishJob"
RELEASE_STATE = "RecordRelease"
HEALTH_STATE = "HealthCheck"
EXECUTION_TIMEOUT_SECONDS = 180.0


class WaitAdvancedClock:
    """Real time plus every Step Functions delay the local runtime recorded instead of sleeping.

    `simulated_events` maps an execution's history onto the same timeline, so the simulator's
    job times and the execution's events can be compared.
    """

    def __init__(self, start_at: float) -> None:
        self._lock = threading.Lock()
        self._initial_offset = start_at - time.time()
        self._offset = self._initial_offset
        self._advances: list[tuple[float, float, str]] = []  # (real wall time, seconds, wait|retry)

    def advance(self, seconds: float, kind: str) -> None:
        with self._lock:
            self._advances.append((time.time(), seconds, kind))
            self._offset += seconds

    def now(self) -> float:
        with self._lock:
            return time.time() + self._offset

    def monotonic(self) -> float:
        return self.now()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    def advanced_before(self, wall: float, kind: str | None = None) -> float:
        """Seconds recorded (of `kind`, or all) before the real instant `wall`."""
        with self._lock:
            return sum(seconds for at, seconds, what in self._advances if at < wall and kind in (None, what))

    def initial_offset(self) -> float:
        return self._initial_offset


@contextmanager
def wait_advanced_time(world: harness.World) -> Iterator[WaitAdvancedClock]:
    """Put the simulator on a `WaitAdvancedClock` fed by the local cloud's delay recorder."""
    state = world.sim.state
    recorder = world.cloud.delays
    with state.lock:
        previous_clock = state.clock
        clock = WaitAdvancedClock(previous_clock.now())
        state.clock = clock
    record = recorder.record

    def record_and_advance(env: Any, seconds: float, kind: Any) -> None:
        clock.advance(seconds, str(kind))
        record(env, seconds, kind)

    # The recorder's moto patches call `recorder.record(...)`: an instance attribute wins.
    recorder.record = record_and_advance
    try:
        yield clock
    finally:
        del recorder.record
        with state.lock:
            state.clock = previous_clock


@dataclass(frozen=True)
class PublishSample:
    name: str
    flow_id: str
    job_seconds: float
    """The simulator's Architect job duration: what an ideal poller waits from upload to Success."""
    polls: int
    polls_after_success: int
    waits: list[float]
    detected_after_success: float
    """Simulated seconds from the job's Success to the end of the poll that saw it."""
    health_check_seconds: float
    record_release_seconds: float
    released_after_success: float
    """Simulated seconds from the job's Success to RecordRelease finishing (the overhead)."""

    @property
    def total_seconds(self) -> float:
        """Upload to RecordRelease finished."""
        return self.job_seconds + self.released_after_success

    @property
    def ratio_to_ideal(self) -> float:
        return self.total_seconds / self.job_seconds


def _wall(timestamp: Any) -> float:
    if isinstance(timestamp, datetime):
        return timestamp.timestamp()
    return datetime.fromisoformat(str(timestamp)).timestamp()


def simulated_events(result: Any, clock: WaitAdvancedClock) -> list[tuple[dict[str, Any], float]]:
    """Each history event with its instant on the clock's timeline.

    History timestamps are real (millisecond precision) and the waits were not slept, so an event's
    simulated instant is its timestamp plus every delay recorded before it. This execution's Wait
    delays are placed by ORDER (the k-th WaitStateExited ends the k-th recorded wait): a recorded
    wait and the events around it share a millisecond. Retry delays (none in a fault-free publish)
    and the delays of earlier executions are placed by time.
    """
    events = result.events
    if not events:
        return []
    execution_start = _wall(events[0]["timestamp"])
    base = clock.initial_offset() + clock.advanced_before(execution_start)
    waits = iter(delay.seconds for delay in result.delays if delay.kind == "wait")
    waited = 0.0
    timeline = []
    for event in events:
        wall = _wall(event["timestamp"])
        if event.get("type") == "WaitStateExited":
            waited += next(waits, 0.0)
        retried = clock.advanced_before(wall, "retry") - clock.advanced_before(execution_start, "retry")
        timeline.append((event, wall + base + waited + retried))
    return timeline


def _instants(timeline: list[tuple[dict[str, Any], float]], detail: str, state: str) -> list[float]:
    return [at for event, at in timeline if event.get(f"state{detail}EventDetails", {}).get("name") == state]


def measure_publish(world: harness.World, clock: WaitAdvancedClock, name: str, flow_id: str) -> PublishSample:
    import flowops.local.simulator.state as simulator_state

    jobs_before = set(world.sim.state.architect_jobs)
    arn = world.start(harness.PUBLISH_STATE_MACHINE, world.publish_input(name, flow_id), name)
    result = world.wait(arn, EXECUTION_TIMEOUT_SECONDS)
    job_seconds = float(simulator_state.ARCHITECT_JOB_SECONDS)
    with world.sim.state.lock:
        jobs = world.sim.state.architect_jobs
        new_jobs = [job for job_id, job in jobs.items() if job_id not in jobs_before]
    uploaded = [job.uploaded_at for job in new_jobs if job.uploaded_at is not None]
    timeline = simulated_events(result, clock)
    released = _instants(timeline, "Exited", RELEASE_STATE)
    if result.status != "SUCCEEDED" or len(uploaded) != 1 or not released:
        raise RuntimeError(
            f"publish {name} did not release through one Architect job: {result.status} "
            f"{result.error}: {result.cause} ({len(uploaded)} jobs uploaded)"
        )
    success_at = uploaded[0] + job_seconds
    polls = _instants(timeline, "Entered", CHECK_STATE)
    seen_at = _instants(timeline, "Exited", CHECK_STATE)[-1]
    health = _instants(timeline, "Entered", HEALTH_STATE)[-1], _instants(timeline, "Exited", HEALTH_STATE)[-1]
    record = _instants(timeline, "Entered", RELEASE_STATE)[-1]
    return PublishSample(
        name=name,
        flow_id=flow_id,
        job_seconds=job_seconds,
        polls=len(polls),
        polls_after_success=sum(1 for at in polls if at >= success_at),
        waits=result.delays_of(WAIT_STATE, "wait"),
        detected_after_success=seen_at - success_at,
        health_check_seconds=health[1] - health[0],
        record_release_seconds=released[-1] - record,
        released_after_success=released[-1] - success_at,
    )


def run_publishes(
    world: harness.World, publishes: int, *, prefix: str = "bench-publish"
) -> list[PublishSample]:
    """`publishes` releases, alternating between the org's two publishable flows."""
    samples = []
    with wait_advanced_time(world) as clock:
        for index in range(publishes):
            flow_id = harness.PUBLISHABLE_FLOWS[index % len(harness.PUBLISHABLE_FLOWS)]
            samples.append(measure_publish(world, clock, f"{prefix}-{index + 1:03d}", flow_id))
    return samples


def format_table(samples: list[PublishSample]) -> str:
    header = (
        f"{'run':<18} {'flow':<8} {'polls':>5} {'after':>5} {'waits s':<9} {'job s':>5} | "
        f"{'seen':>6} {'health':>6} {'record':>6} {'released':>8} | {'total s':>7} {'x ideal':>7}"
    )
    lines = [header, "-" * len(header)]
    for sample in samples:
        waits = ",".join(f"{wait:g}" for wait in sample.waits)
        lines.append(
            f"{sample.name:<18} {sample.flow_id:<8} {sample.polls:>5} {sample.polls_after_success:>5} "
            f"{waits:<9} {sample.job_seconds:>5.1f} | {sample.detected_after_success:>6.2f} "
            f"{sample.health_check_seconds:>6.2f} {sample.record_release_seconds:>6.2f} "
            f"{sample.released_after_success:>8.2f} | {sample.total_seconds:>7.2f} "
            f"{sample.ratio_to_ideal:>7.2f}"
        )
    return "\n".join(lines)


def format_summary(samples: list[PublishSample]) -> str:
    def spread(values: list[float], unit: str = "s") -> str:
        median = statistics.median(values)
        return f"median {median:6.2f} {unit}  (min {min(values):.2f}, max {max(values):.2f})"

    overhead = [sample.released_after_success for sample in samples]
    return "\n".join(
        [
            f"publishes                          {len(samples)}, all released",
            f"polls (CheckPublishJob)            {spread([float(s.polls) for s in samples], 'polls')}",
            f"polls started after job Success    {sum(s.polls_after_success for s in samples)} of "
            f"{sum(s.polls for s in samples)}",
            f"ideal poller: upload -> Success    {samples[0].job_seconds:6.2f} s (the job's own duration)",
            f"Success -> poll that saw it        {spread([s.detected_after_success for s in samples])}",
            f"HealthCheck (incl. validate job)   {spread([s.health_check_seconds for s in samples])}",
            f"RecordRelease                      {spread([s.record_release_seconds for s in samples])}",
            f"Success -> RecordRelease done      {spread(overhead)}  = pipeline overhead",
            f"upload -> RecordRelease done       {spread([s.total_seconds for s in samples])}",
            f"ratio to the ideal poller          {spread([s.ratio_to_ideal for s in samples], 'x')}",
        ]
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.publish", description=__doc__.split("\n\n")[0])
    parser.add_argument("--publishes", type=int, default=10, help="releases measured (default 10)")
    arguments = parser.parse_args(argv)
    started = time.perf_counter()
    # x1: handler time counts as itself on the simulated timeline; only the waits are compressed.
    with harness.open_world(time_scale=1.0) as world:
        samples = run_publishes(world, arguments.publishes)
    print(f"## publish pipeline overhead ({len(samples)} publishes, default PublishTiming)")
    print(format_table(samples))
    print()
    print(format_summary(samples))
    print(
        "\nSimulated seconds = real handler time on this machine + recorded Wait delays. 'after' = polls"
        "\nthat started after the job's Success; seen / released = seconds from the job's Success to the end"
        "\nof the poll that saw it / of RecordRelease; total = upload -> RecordRelease done."
        f"\nwall time {time.perf_counter() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
