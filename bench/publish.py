"""Publish speed: upload -> recorded release for Architect jobs of 5, 15, 45 and 120 s, flowops'
poll schedule against an ideal poller and Terraform's fixed 15 s poll, in the same run.

    python -m bench.publish          # jobs of 5, 15, 45, 120 s; 2 publishes per job and poller
    python -m bench.publish --jobs 5,15 --publishes 3 --runs   # and one line per publish

Each publish is a real execution of the SYNTHESIZED publish state machine (moto + the real
handlers, `bench.harness.open_world`) against the Genesys simulator, deploying a new version of
a flow through the Architect jobs API; the simulator's job runs for the asked duration
(`SimulatorSettings.architect_job_seconds`). Two pollers run the same publishes: flowops' default
`PublishTiming` and Terraform's fixed 15 s poll (the same state machine with a 15 s timing).

Simulated time. The local runtime records Step Functions Wait/Retry delays instead of sleeping
them, so the execution history's real timestamps lack the waits. Here the simulator runs on a
`WaitAdvancedClock`: real time (x1) plus every delay recorded so far. That puts the simulator's
Architect job and the state machine on ONE timeline — the one the same execution would follow in
the cloud if every handler took as long as it does on this machine — and each history event's
simulated instant is its timestamp plus the delays recorded before it.

For each publish: the job's Success instant (upload + the job's duration), the polls
(CheckPublishJob invocations), how late the poll that saw Success started, that poll's time
(it health-checks the new version in the same invocation), RecordRelease, and upload ->
RecordRelease done. The ideal poller notices the job's end the
instant it happens and then closes the release exactly as this run did (HealthCheck, RecordRelease):
ideal = job duration + this run's time from noticing Success to RecordRelease done. So
`total / ideal` is what polling costs; `total / job` (also printed) adds what the closing steps
cost on top of Genesys' own job.

The schedule table needs no execution: the average and worst lateness of each poll schedule over
jobs of 1-120 s (every 0.1 s), polls taking no time.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bench import harness
from flowops.publish.models import PublishTiming
from flowops.stepfunctions import PollTiming, next_wait_seconds

CHECK_STATE = "CheckPublishJob"
WAIT_STATE = "WaitForPublishJob"
RELEASE_STATE = "RecordRelease"
EXECUTION_TIMEOUT_SECONDS = 180.0
JOB_SECONDS = (5, 15, 45, 120)
TARGET_RATIO = 1.25
"""issue 18: upload -> recorded release within 1.25x an ideal poller, for every job length."""
FLOWOPS = "flowops"
TERRAFORM = "terraform 15 s"
TERRAFORM_TIMING: dict[str, Any] = {
    "first_poll_seconds": 15,
    "fast_poll_seconds": 15,
    "fast_window_seconds": 960,
    "max_poll_seconds": 15,
}
"""Terraform's Architect-job polling (a fixed 15 s poll, issue 18) as a PublishTiming."""
POLLERS: dict[str, dict[str, Any] | None] = {FLOWOPS: None, TERRAFORM: TERRAFORM_TIMING}


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
    """Simulated seconds from the job's Success to the start of the poll that saw it."""
    health_check_seconds: float
    """The poll that saw Success: reading the job, then the health check it runs."""
    record_release_seconds: float
    released_after_success: float
    """Simulated seconds from the job's Success to RecordRelease finishing (the overhead)."""
    poller: str = FLOWOPS

    @property
    def total_seconds(self) -> float:
        """Upload to RecordRelease finished."""
        return self.job_seconds + self.released_after_success

    @property
    def closing_seconds(self) -> float:
        """From noticing Success (the start of the poll that saw it) to RecordRelease finished."""
        return self.released_after_success - self.detected_after_success

    @property
    def ideal_seconds(self) -> float:
        """An ideal poller: notices Success the instant it happens, then closes as this run did."""
        return self.job_seconds + self.closing_seconds

    @property
    def ratio_to_ideal(self) -> float:
        return self.total_seconds / self.ideal_seconds

    @property
    def ratio_to_job(self) -> float:
        """Upload -> release against the job's own duration (polling AND the closing steps)."""
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


def measure_publish(
    world: harness.World,
    clock: WaitAdvancedClock,
    name: str,
    flow_id: str,
    *,
    poller: str = FLOWOPS,
    timing: dict[str, Any] | None = None,
) -> PublishSample:
    jobs_before = set(world.sim.state.architect_jobs)
    execution_input = world.publish_input(name, flow_id, timing=timing)
    arn = world.start(harness.PUBLISH_STATE_MACHINE, execution_input, name)
    result = world.wait(arn, EXECUTION_TIMEOUT_SECONDS)
    job_seconds = float(world.sim.state.settings.architect_job_seconds)
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
    # The last poll saw Success and health-checked the new version before RecordRelease.
    seen_at = polls[-1]
    health = seen_at, _instants(timeline, "Exited", CHECK_STATE)[-1]
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
        poller=poller,
    )


def run_publishes(
    world: harness.World,
    publishes: int,
    *,
    prefix: str = "bench-publish",
    poller: str = FLOWOPS,
    timing: dict[str, Any] | None = None,
) -> list[PublishSample]:
    """`publishes` releases, alternating between the org's two publishable flows."""
    samples = []
    with wait_advanced_time(world) as clock:
        for index in range(publishes):
            flow_id = harness.PUBLISHABLE_FLOWS[index % len(harness.PUBLISHABLE_FLOWS)]
            name = f"{prefix}-{index + 1:03d}"
            samples.append(measure_publish(world, clock, name, flow_id, poller=poller, timing=timing))
    return samples


def run_job_lengths(world: harness.World, job_lengths: list[int], publishes: int) -> list[PublishSample]:
    """For each job length, `publishes` releases per poller (flowops, Terraform), same world."""
    settings = world.sim.state.settings
    default_job_seconds = settings.architect_job_seconds
    samples: list[PublishSample] = []
    try:
        for job_seconds in job_lengths:
            settings.architect_job_seconds = float(job_seconds)
            for poller, timing in POLLERS.items():
                prefix = f"bench-{job_seconds}s-{poller.split()[0]}"
                samples.extend(run_publishes(world, publishes, prefix=prefix, poller=poller, timing=timing))
    finally:
        settings.architect_job_seconds = default_job_seconds
    return samples


def _median(samples: list[PublishSample], value: Callable[[PublishSample], float]) -> float:
    return statistics.median(value(sample) for sample in samples)


def groups(samples: list[PublishSample]) -> list[tuple[float, str, list[PublishSample]]]:
    """(job seconds, poller, its samples), in the order they ran."""
    keyed: dict[tuple[float, str], list[PublishSample]] = {}
    for sample in samples:
        keyed.setdefault((sample.job_seconds, sample.poller), []).append(sample)
    return [(job, poller, group) for (job, poller), group in keyed.items()]


def format_table(samples: list[PublishSample]) -> str:
    """One line per publish."""
    header = (
        f"{'run':<26} {'polls':>5} {'waits s':<22} {'job s':>5} | {'late':>5} {'check':>6} "
        f"{'record':>6} | {'total s':>7} {'ideal s':>7} {'x ideal':>7} {'x job':>5}"
    )
    lines = [header, "-" * len(header)]
    for sample in samples:
        waits = ",".join(f"{wait:g}" for wait in sample.waits)
        if len(waits) > 22:
            waits = waits[:19] + "..."
        lines.append(
            f"{sample.name:<26} {sample.polls:>5} {waits:<22} {sample.job_seconds:>5.0f} | "
            f"{sample.detected_after_success:>5.2f} {sample.health_check_seconds:>6.2f} "
            f"{sample.record_release_seconds:>6.2f} | {sample.total_seconds:>7.2f} "
            f"{sample.ideal_seconds:>7.2f} {sample.ratio_to_ideal:>7.2f} {sample.ratio_to_job:>5.2f}"
        )
    return "\n".join(lines)


def format_summary(samples: list[PublishSample]) -> str:
    """Medians per job length and poller, then whether flowops met the target for every job."""
    header = (
        f"{'job s':>5}  {'poller':<15} {'n':>2} {'polls':>5} {'late s':>6} {'check+health s':>14} "
        f"{'record s':>8} | {'upload->release s':>17} {'ideal s':>7} {'x ideal':>7} {'x job':>6}"
    )
    lines = [header, "-" * len(header)]
    for job_seconds, poller, group in groups(samples):

        def median(value: Callable[[PublishSample], float], group: list[PublishSample] = group) -> float:
            return _median(group, value)

        lines.append(
            f"{job_seconds:>5.0f}  {poller:<15} {len(group):>2} {median(lambda s: s.polls):>5.0f} "
            f"{median(lambda s: s.detected_after_success):>6.2f} "
            f"{median(lambda s: s.health_check_seconds):>14.2f} "
            f"{median(lambda s: s.record_release_seconds):>8.2f} | "
            f"{median(lambda s: s.total_seconds):>17.2f} {median(lambda s: s.ideal_seconds):>7.2f} "
            f"{median(lambda s: s.ratio_to_ideal):>7.2f} {median(lambda s: s.ratio_to_job):>6.2f}"
        )
    ours = [sample for sample in samples if sample.poller == FLOWOPS]
    if ours:
        worst = max(ours, key=lambda sample: sample.ratio_to_ideal)
        verdict = "met" if worst.ratio_to_ideal <= TARGET_RATIO else "NOT met"
        lines.append(
            f"\nflowops: worst publish {worst.ratio_to_ideal:.2f}x the ideal poller ({worst.name}, "
            f"{worst.job_seconds:.0f} s job): target <= {TARGET_RATIO}x for every job {verdict}"
        )
    return "\n".join(lines)


# ---- schedules on paper ----------------------------------------------------------------------------

NextWait = Callable[[int, int, float], int]
"""(polls so far, the previous wait, seconds since the job started) -> the next wait."""


def _flowops_schedule(timing: PublishTiming) -> tuple[int, NextWait]:
    return timing.first_poll_seconds, lambda polls, previous, elapsed: timing.wait_after(previous, elapsed)


def _backoff_schedule(timing: PollTiming) -> tuple[int, NextWait]:
    return next_wait_seconds(timing, 0), lambda polls, previous, elapsed: next_wait_seconds(timing, polls)


def _fixed_schedule(seconds: int) -> tuple[int, NextWait]:
    return seconds, lambda polls, previous, elapsed: seconds


SCHEDULES: dict[str, tuple[int, NextWait]] = {
    "flowops (2 s, 3 s to 2 min, x2 to 30 s)": _flowops_schedule(PublishTiming()),
    "flowops before (2, 4, 8, 16, 30 s)": _backoff_schedule(PollTiming()),
    "Terraform (fixed 15 s)": _fixed_schedule(15),
    "fixed 5 s": _fixed_schedule(5),
}


def lateness(schedule: tuple[int, NextWait], job_seconds: float) -> float:
    """Seconds from the job's end to the first poll at or after it (polls taking no time)."""
    wait, next_wait = schedule
    polls, at = 0, 0.0
    while True:
        at += wait
        polls += 1
        if at >= job_seconds:
            return at - job_seconds
        wait = next_wait(polls, wait, at)


def polls_until(schedule: tuple[int, NextWait], seconds: float) -> int:
    wait, next_wait = schedule
    polls, at = 0, 0.0
    while at + wait <= seconds:
        at += wait
        polls += 1
        wait = next_wait(polls, wait, at)
    return polls


def format_schedules(job_lengths: list[int]) -> str:
    jobs = [tenths / 10 for tenths in range(10, 1201)]  # 1.0 .. 120.0 s, every 0.1 s
    header = (
        f"{'schedule':<42} {'mean late s (1-120 s)':>21} {'max':>5} | "
        + " ".join(f"{f'{job} s':>6}" for job in job_lengths)
        + f" | {'polls in 16 min':>15}"
    )
    lines = [header, "-" * len(header)]
    for name, schedule in SCHEDULES.items():
        late = [lateness(schedule, job) for job in jobs]
        lines.append(
            f"{name:<42} {statistics.mean(late):>21.1f} {max(late):>5.0f} | "
            + " ".join(f"{lateness(schedule, job):>6.0f}" for job in job_lengths)
            + f" | {polls_until(schedule, 960):>15}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.publish", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--jobs",
        default=",".join(str(job) for job in JOB_SECONDS),
        help="Architect job durations in seconds (default 5,15,45,120)",
    )
    parser.add_argument(
        "--publishes", type=int, default=2, help="releases per job length and poller (default 2)"
    )
    parser.add_argument("--runs", action="store_true", help="also print one line per publish")
    arguments = parser.parse_args(argv)
    try:
        job_lengths = [int(job) for job in arguments.jobs.split(",") if job.strip()]
    except ValueError:
        parser.error(f"--jobs takes whole seconds separated by commas, not {arguments.jobs!r}")
    if not job_lengths or min(job_lengths) < 1 or arguments.publishes < 1:
        parser.error("--jobs needs durations of at least 1 s and --publishes at least 1")
    started = time.perf_counter()
    # x1: handler time counts as itself on the simulated timeline; only the waits are compressed.
    with harness.open_world(time_scale=1.0) as world:
        samples = run_job_lengths(world, job_lengths, arguments.publishes)
    jobs_text = ", ".join(str(job) for job in job_lengths)
    print(f"## publish: upload -> recorded release, jobs of {jobs_text} s ({arguments.publishes} per poller)")
    print(format_summary(samples))
    if arguments.runs:
        print()
        print(format_table(samples))
    print("\n## poll schedules on paper (no execution): how late each one sees a job's end")
    print(format_schedules(job_lengths))
    print(
        "\nSimulated seconds = real handler time on this machine + recorded Wait delays. late = from the"
        "\njob's Success to the start of the poll that saw it; check+health = that poll, which health-checks"
        "\nthe new version (export and Genesys' validate job together); ideal = job + this run's time from"
        "\nthat poll's start to RecordRelease done."
        f"\nwall time {time.perf_counter() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
