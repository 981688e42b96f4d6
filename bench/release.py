"""A many-flow release and its rollback vs the same flows published one at a time.

    python -m bench.release               # 12 flows (1 module + 11 callers), 3 single publishes
    python -m bench.release --flows 50 --publishes 10

Each release is a real execution of the SYNTHESIZED release state machine (moto + the real
handlers) against the Genesys simulator, on the publish benchmark's timeline
(`bench.publish.WaitAdvancedClock`: real time plus every Step Functions wait the local runtime
recorded instead of sleeping), so "simulated seconds" are what the same executions would take in
the cloud with this machine's handler times.

1. release: a new common module and N-1 new flows calling it (2 waves; wave 2 deploys at most 4
   flows at once, the release's Map concurrency);
2. the same flows changed, one flow of wave 2 refused by Architect: the release fails in wave 2
   and rolls back every flow it changed;
3. the baseline, in the same run: single publishes through the publish state machine, measured
   per publish (API calls, simulated seconds) and multiplied by N: "N single publishes, one after
   another" — what a team looping over flows does today, without order or rollback.
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from bench import harness
from bench.publish import run_publishes, wait_advanced_time

RELEASE_STATE_MACHINE = "ReleaseWorkflow/StateMachine"
MODULE = "Bench Menu"


def api_calls(world: harness.World) -> int:
    """Genesys API requests the simulator answered (admin and presigned transfers excluded)."""
    return sum(count for route, count in world.sim.counters().items() if " /api/" in route)


def release_files(flows: int, version: str) -> dict[str, bytes]:
    from flowops.flowyaml import FlowReference, ReferenceKind, render_minimal_flow_yaml

    menu = FlowReference(kind=ReferenceKind.COMMONMODULE, name=MODULE)
    queue = FlowReference(kind=ReferenceKind.QUEUE, name="{{queue}}")
    files = {
        "flows/commonModule/bench-menu.yaml": render_minimal_flow_yaml(
            "COMMONMODULE", MODULE, [queue], description=f"menu {version}"
        )
    }
    for index in range(1, flows):
        name = f"Bench Line {index:03d}"
        files[f"flows/inboundCall/bench-line-{index:03d}.yaml"] = render_minimal_flow_yaml(
            "INBOUNDCALL", name, [menu], description=f"{name} {version}"
        )
    files["environments/dev.yaml"] = "substitutions:\n  queue: Support\n"
    return {path: text.encode() for path, text in files.items()}


@dataclass(frozen=True)
class ReleaseSample:
    label: str
    status: str
    flows_changed: int
    api_calls: int
    simulated_seconds: float
    real_seconds: float


def run_release(world: harness.World, clock: Any, label: str, files: dict[str, bytes]) -> ReleaseSample:
    from flowops.release.bundle import bundle_from_files, bundle_key

    bundle = bundle_from_files(files)
    key = bundle_key(world.org, bundle.sha256)
    world.cloud.s3.put_object(Bucket=world.bucket, Key=key, Body=bundle.canonical_bytes())
    request = {
        "bundle_key": key,
        "bundle_sha256": bundle.sha256,
        "environment": "dev",
        "requester": "bench",
        "reason": label,
    }
    calls, simulated, real = api_calls(world), clock.now(), time.monotonic()
    name = f"bench-{label}-{uuid.uuid4().hex[:6]}"
    result = world.wait(world.start(RELEASE_STATE_MACHINE, request, name), timeout=1800)
    record = world.run_item(name)
    changed = sum(
        1 for flow in (record.details.get("flows", []) if record else []) if flow["action"] != "unchanged"
    )
    return ReleaseSample(
        label=label,
        status=result.error or result.status,
        flows_changed=changed,
        api_calls=api_calls(world) - calls,
        simulated_seconds=clock.now() - simulated,
        real_seconds=time.monotonic() - real,
    )


def run(flows: int, publishes: int) -> dict[str, Any]:
    with harness.open_world(time_scale=1.0) as world:
        world.cloud.runner.env_overrides["FLOWOPS_ENVIRONMENT"] = "dev"
        with wait_advanced_time(world) as clock:
            released = run_release(world, clock, "release", release_files(flows, "v1"))
            world.sim.set_faults(f"publish-fail=Bench Line {flows - 1:03d}")
            rolled_back = run_release(world, clock, "rollback", release_files(flows, "v2"))
            world.sim.set_faults("")
        calls_before = api_calls(world)
        samples = run_publishes(world, publishes, prefix=f"bench-single-{uuid.uuid4().hex[:4]}")
        per_publish_calls = (api_calls(world) - calls_before) / publishes
        per_publish_seconds = sum(sample.total_seconds for sample in samples) / publishes
    return {
        "flows": flows,
        "release": released.__dict__,
        "release_with_rollback": rolled_back.__dict__,
        "single_publish": {
            "measured": publishes,
            "api_calls_each": round(per_publish_calls, 1),
            "simulated_seconds_each": round(per_publish_seconds, 1),
            "api_calls_for_all": round(per_publish_calls * flows),
            "simulated_seconds_for_all": round(per_publish_seconds * flows, 1),
        },
    }


def format_report(report: dict[str, Any]) -> str:
    flows = report["flows"]
    single = report["single_publish"]
    lines = [
        f"{'run':<34} {'status':<20} {'flows':>5} {'API calls':>9} {'sim min':>8} "
        f"{'x calls':>8} {'x time':>7}",
    ]
    for key, label in (
        ("release", f"release of {flows} flows"),
        ("release_with_rollback", "release failing in wave 2"),
    ):
        sample = report[key]
        lines.append(
            f"{label:<34} {sample['status']:<20} {sample['flows_changed']:>5} {sample['api_calls']:>9} "
            f"{sample['simulated_seconds'] / 60:>8.2f} "
            f"{sample['api_calls'] / single['api_calls_for_all']:>8.2f} "
            f"{sample['simulated_seconds'] / single['simulated_seconds_for_all']:>7.2f}"
        )
    lines.append(
        f"{f'{flows} single publishes (baseline)':<34} {'from ' + str(single['measured']) + ' measured':<20} "
        f"{flows:>5} {single['api_calls_for_all']:>9} {single['simulated_seconds_for_all'] / 60:>8.2f} "
        f"{1.0:>8.2f} {1.0:>7.2f}"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.release", description=__doc__.split("\n\n")[0])
    parser.add_argument("--flows", type=int, default=12, help="flows in the release (1 module + callers)")
    parser.add_argument("--publishes", type=int, default=3, help="single publishes measured for the baseline")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.flows < 3 or args.publishes < 1:
        parser.error("--flows needs at least 3 and --publishes at least 1")
    report = run(args.flows, args.publishes)
    print(json.dumps(report, indent=2) if args.json else format_report(report))


if __name__ == "__main__":
    main()
