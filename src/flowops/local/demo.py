"""`make demo`: the main job on the embedded default, start to finish.

Starts the Genesys Cloud simulator with a generated org and the stack's resources in moto,
shows what the Genesys client sees, runs a scheduled-style scan (the same input the
EventBridge rule sends) as a real execution of the synthesized state machine, republishes one
flow outside the pipeline through the Architect jobs API, and runs the scan again to show the
incremental read and the drift it finds, then releases through a `git push` to the local Git server
(the commit gets its final status, and `live/<env>` the released flow's YAML).
"""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowops.cli.local_cloud import EmbeddedCloud, embedded_cloud
from flowops.cli.publish import run_demo_publishes
from flowops.cli.release import environment_cloud_process, run_demo_releases
from flowops.cli.scan import run_scan_execution, save_html_report, summary_lines
from flowops.cli.trace import run_demo_trace
from flowops.cli.trace import summary_lines as trace_summary_lines
from flowops.genesys import ClientCredentials, GenesysClient
from flowops.local.gitserver.hosting import demo_push

Echo = Callable[[str], None]


class DemoStepError(RuntimeError):
    """A demo step could not complete (the message says which and why)."""


@dataclass
class DemoResult:
    """What the demo did, for the caller and for tests."""

    org_summary: dict[str, Any]
    scans: list[dict[str, Any]] = field(default_factory=list)
    republished_flow_id: str = ""
    steps: dict[str, Any] = field(default_factory=dict)


def summarize_org(client: GenesysClient) -> dict[str, Any]:
    """Flows per type, how many are published, and the dependency index status."""
    by_type: Counter[str] = Counter()
    published = 0
    locked = 0
    for flow in client.iter_flows():
        by_type[flow.type or "UNKNOWN"] += 1
        if flow.published_version is not None:
            published += 1
        if flow.locked_user is not None or flow.locked_client is not None:
            locked += 1
    status = client.get_dependency_tracking_status()
    return {
        "flows": sum(by_type.values()),
        "by_type": dict(sorted(by_type.items())),
        "published": published,
        "locked": locked,
        "dependency_index": status.status,
        "failed_objects": len(status.failed_objects or []),
        "api_calls": client.total_api_calls,
    }


def republish_outside_pipeline(client: GenesysClient, flow_id: str) -> str:
    """Export the published YAML of `flow_id` and deploy it again: a new published version.

    This is what a person does in Archy or the Architect UI; the next scan must see it as drift.
    """
    flow = client.get_flow(flow_id)
    if flow.published_version is None:
        raise DemoStepError(f"flow {flow_id} has no published version to republish")
    export = client.start_export_job(flow_id, flow.published_version.id)
    finished_export = client.wait_until(
        lambda: client.get_export_job(export.id),
        lambda job: job.status in {"Success", "Failure"},
        what=f"export of flow {flow_id}",
    )
    if finished_export.status != "Success" or not finished_export.download_url:
        raise DemoStepError(f"export of flow {flow_id} ended {finished_export.status}")
    flow_yaml = client.download_export(finished_export.download_url)
    registration = client.deploy_flow_yaml(flow_yaml)
    job = client.wait_until(
        lambda: client.get_architect_job(registration.id),
        lambda job: job.status in {"Success", "Failure"},
        what=f"publish job {registration.id}",
    )
    if job.status != "Success":
        messages = "; ".join(message.text or "" for message in job.messages or [])
        raise DemoStepError(f"publish job for flow {flow_id} failed: {messages}")
    republished = client.get_flow(flow_id).published_version
    return republished.id if republished else "?"


def _pick_flow_to_republish(scan: dict[str, Any], client: GenesysClient) -> str:
    """A published, unlocked inbound call flow with no problem — a typical change made by hand.

    Flows the scan flagged (e.g. consuming a deleted data table) would fail to republish, as
    they would in a real org, so they are skipped.
    """
    flagged = {
        flow_id for problem in scan["problems"] for flow_id in problem["object_ids"] + problem["consumer_ids"]
    }
    for flow in client.iter_flows(flow_types=["INBOUNDCALL"]):
        unlocked = flow.locked_user is None and flow.locked_client is None
        if flow.published_version is not None and unlocked and flow.id not in flagged:
            return flow.id
    raise DemoStepError(f"no published inbound call flow in org {scan['org']}")


@contextlib.contextmanager
def _client_for(embedded: EmbeddedCloud) -> Iterator[GenesysClient]:
    from flowops.local.runtime.cloud import LOCAL_GENESYS_CREDENTIALS

    client_id, client_secret = LOCAL_GENESYS_CREDENTIALS
    client = GenesysClient(
        ClientCredentials(client_id=client_id, client_secret=client_secret),
        base_url=embedded.simulator.url,
        clock=embedded.simulator.state.clock,
    )
    with client:
        yield client


def _first_line(text: str, limit: int = 160) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


DEMO_DIR = Path(".flowops") / "demo"
HANDLER_LOG = DEMO_DIR / "handlers.log"


@contextlib.contextmanager
def _handler_logs() -> Iterator[None]:
    """Keep what runs behind the scenes out of the summary: the in-process handlers' JSON logs
    and metrics (powertools, on stdout), the emulator's own log records and Python warnings all
    go to `HANDLER_LOG`."""
    HANDLER_LOG.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    with HANDLER_LOG.open("a", encoding="utf-8") as log, contextlib.redirect_stdout(log):
        file_handler = logging.StreamHandler(log)
        file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(file_handler)
        logging.captureWarnings(True)
        try:
            yield
        finally:
            logging.captureWarnings(False)
            root.removeHandler(file_handler)


def run_demo(*, flows: int = 300, seed: int = 7, echo: Echo = print, releases: bool = True) -> DemoResult:
    """Run the demo against a fresh embedded cloud and print a summary with `echo`."""
    from flowops.stacknames import SCHEDULED_SCAN_INPUT

    echo(f"== flowops demo: a generated org of {flows} flows (seed {seed}), simulator + moto ==")
    # The embedded stack serves "test" of the release chain dev → test → prod (cdk.json), so the
    # demo's release can be promoted to a prod stack.
    with (
        # With Git (`local up`'s stack): the push at the end gets its final commit status and
        # `live/<env>`, as on AWS.
        embedded_cloud(flows=flows, seed=seed, environment="test", git=True) as embedded,
        _client_for(embedded) as client,
    ):
        echo(f"genesys simulator {embedded.simulator.url}   aws emulation (moto) in-process")
        org_summary = summarize_org(client)
        result = DemoResult(org_summary=org_summary)
        echo("")
        echo("-- what the Genesys client sees")
        for flow_type, count in org_summary["by_type"].items():
            echo(f"   {flow_type:<22} {count:>5}")
        echo(
            f"   {org_summary['published']} of {org_summary['flows']} flows published, "
            f"{org_summary['locked']} locked; dependency index {org_summary['dependency_index']}"
        )

        echo("")
        echo("-- scheduled scan (the EventBridge rule's input), synthesized state machine in moto")
        with _handler_logs():
            first = run_scan_execution(embedded.connection, dict(SCHEDULED_SCAN_INPUT), name="demo-scan-1")
        result.scans.append(first)
        for line in summary_lines(first):
            echo(f"   {line}")

        flow_id = _pick_flow_to_republish(first, client)
        version = republish_outside_pipeline(client, flow_id)
        result.republished_flow_id = flow_id
        echo("")
        echo(f"-- someone republishes flow {flow_id} by hand (Architect jobs API) -> version {version}")
        with _handler_logs():
            second = run_scan_execution(embedded.connection, dict(SCHEDULED_SCAN_INPUT), name="demo-scan-2")
        result.scans.append(second)
        for line in summary_lines(second):
            echo(f"   {line}")
        second["report_html"] = str(save_html_report(embedded.connection, second))
        ratio = second["api_calls"] / max(first["api_calls"], 1)
        echo(
            f"   incremental scan: {second['api_calls']} API calls vs {first['api_calls']} for the "
            f"full one ({ratio:.1%}); drift names {second['drift']['changed_flow_ids']}"
        )

        echo("")
        echo("-- publishes through the signed webhook (validate, snapshot, publish, poll, health check)")
        with _handler_logs():
            publishes = run_demo_publishes(embedded.connection)
        result.steps["publishes"] = publishes
        for publish in publishes:
            echo(f"   {publish['flow_name']}: a release that {publish['expected']} -> {publish['status']}")
            echo(f"      states: {' -> '.join(publish['states'])}")
            if publish.get("error"):
                echo(f"      {publish['error']}: {_first_line(publish.get('cause') or '')}")

        if releases:
            echo("")
            echo("-- releases: many flows at once, in dependency waves, all or nothing")
            release_lines: list[str] = []
            try:
                with (
                    _handler_logs(),
                    environment_cloud_process(
                        "prod", flows=flows, seed=seed, workdir=DEMO_DIR / "prod"
                    ) as prod,
                ):
                    result.steps["releases"] = run_demo_releases(
                        embedded.connection,
                        workdir=DEMO_DIR / "release-repo",
                        set_faults=embedded.simulator.set_faults,
                        prod=prod,
                        echo=release_lines.append,
                    )
            finally:
                for line in release_lines:  # printed once the handler logs no longer hold stdout
                    echo(line)

        echo("")
        echo("-- trace: execution data of the busiest flow -> bottlenecks, failing paths, waterfall")
        with _handler_logs():
            trace = run_demo_trace(embedded.connection)
        result.steps["trace"] = trace
        for line in "\n".join(trace_summary_lines(trace)).splitlines():
            echo(f"   {line}")

        echo("")
        echo("-- git push: the local Git server's push webhook releases the pushed flow; status, live/<env>")
        with _handler_logs():
            pushed = demo_push(
                embedded.cloud,
                org=embedded.connection.org,
                environment="test",
                workdir=DEMO_DIR / "git-work",
            )
        result.steps["git_push"] = pushed
        for line in pushed:
            echo(f"   {line}")

        echo("")
        echo(
            f"HTML report of the last scan (graph, cycles, waves, problems, drift): file://{second['report_html']}"
        )
        echo(f"handler logs of this run: {HANDLER_LOG}")
        return result
