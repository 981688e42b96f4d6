"""Peak memory of the whole-org scan steps (BuildLock, ReportScan), each against its Lambda memory.

    python -m bench.step_memory [--sizes 20000,50000,100000] [--seed 7]

For each size a lock-shaped org of that many graph nodes is generated (``bench.graph``'s
generator), split into the page results ReadFlowPage writes (pages of 200 flows), and stored
in a scratch directory that stands in for the artifacts bucket. Each step then runs alone in
a fresh interpreter that imports the step's core, reads its inputs from that directory and
does its real work; its peak resident set (``ru_maxrss``) is what a Lambda of that memory size
would have to hold (interpreter and imports included). A bare interpreter importing the same
modules is measured in the same run as the baseline.

ReportScan runs against a baseline lock that differs from the new one in 1 % of its flows
(the usual 6-hourly drift), so the diff is real work. The configured memory of each step comes
from the scan workflow's own constants (``infra.constructs.scan_workflow.STEP_MEMORY_MB``).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from gzip import decompress as gunzip
from pathlib import Path
from typing import Any

STEPS = ("BuildLock", "ReportScan")
PAGE_SIZE = 200
ORG = "bench"
TARGET_SHARE = 0.5
ARTIFACT_TARGET_MB = 15  # issue 18: what one scan of a 20,000-flow org stores by default
ARTIFACT_TARGET_FLOWS = 20_000


class DirectoryArtifacts:
    """The ArtifactWriter port over a local directory (the bucket's keys become paths)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def put_immutable(self, key: str, body: bytes, content_type: str) -> None:
        self._path(key).write_bytes(body)

    def put_bytes(
        self, key: str, body: bytes, content_type: str, *, content_encoding: str | None = None
    ) -> None:
        self._path(key).write_bytes(body)

    def put_json(self, key: str, document: Any) -> None:
        self._path(key).write_bytes(json.dumps(document, separators=(",", ":")).encode("utf-8"))

    def get_bytes(self, key: str, expected_sha256: str | None = None) -> bytes:
        return (self.root / key).read_bytes()

    def stored_bytes(self, prefix: str) -> int:
        base = self.root / prefix
        return sum(path.stat().st_size for path in base.rglob("*") if path.is_file())


def _scan_context(scan_id: str) -> dict[str, Any]:
    return {"scan_id": scan_id, "started_at": datetime(2026, 1, 1, tzinfo=UTC).isoformat(), "request": {}}


def prepare(nodes: int, seed: int, root: Path) -> dict[str, Any]:
    """Store the page results of a generated org and its baseline lock; return step requests."""
    from bench.graph import generate_lock
    from flowops.lock.canonical import canonical_bytes, lock_sha256
    from flowops.scan.assemble import assemble_lock
    from flowops.scan.keys import page_key
    from flowops.scan.models import PageFlows
    from flowops.store.artifacts import lock_key
    from flowops.store.compression import GZIP_CONTENT_TYPE, gzip_bytes

    artifacts = DirectoryArtifacts(root)
    lock = generate_lock(nodes, seed=seed, transfers_per_flow=0.6)
    flows = [flow.model_dump(mode="json") for flow in lock.flows]
    objects = [{"id": item.id, "name": item.name, "type": item.type} for item in lock.objects]
    scan_id = f"scan-{nodes}"
    pages = []
    page_count = (len(flows) + PAGE_SIZE - 1) // PAGE_SIZE
    for index in range(page_count):
        chunk = flows[index * PAGE_SIZE : (index + 1) * PAGE_SIZE]
        used = {dep["id"] for flow in chunk for dep in flow["consumes"]}
        key = page_key(ORG, scan_id, index + 1)
        document = {
            "page_number": index + 1,
            "flows": chunk,
            "objects": [item for item in objects if item["id"] in used],
            "read": len(chunk),
            "api_calls": len(chunk),
        }
        # Stored as ReadFlowPage stores it (gzip-compressed JSON).
        artifacts.put_bytes(key, gzip_bytes(json.dumps(document).encode("utf-8")), GZIP_CONTENT_TYPE)
        pages.append(
            {
                "page_number": index + 1,
                "key": key,
                "flows": len(chunk),
                "reused": 0,
                "read": len(chunk),
                "api_calls": len(chunk),
            }
        )
    # The baseline: the lock the previous scan of the same org assembled (through BuildLock's
    # own merge, so objects are derived the same way), before 1 % of its flows were republished.
    # A baseline built any other way differs in most of its objects and measures a diff no
    # 6-hourly scan ever computes.
    assembled = assemble_lock(
        ORG, [PageFlows.model_validate_json(gunzip(artifacts.get_bytes(page["key"]))) for page in pages]
    )
    republished = {flow.id for position, flow in enumerate(assembled.flows) if position % 100 == 0}
    baseline = assembled.model_copy(
        update={
            "flows": [
                flow.model_copy(update={"published_version": "0.9"}) if flow.id in republished else flow
                for flow in assembled.flows
            ],
            "objects": [
                item.model_copy(update={"version": "0.9"}) if item.id in republished else item
                for item in assembled.objects
            ],
        }
    )
    del assembled
    baseline_sha = lock_sha256(baseline)
    artifacts.put_immutable(lock_key(ORG, baseline_sha), canonical_bytes(baseline), "application/json")
    plan = {
        "page_size": PAGE_SIZE,
        "page_count": page_count,
        "total_flows": len(flows),
        "pages": [{"page_number": number} for number in range(1, page_count + 1)],
        "previous_lock_sha": baseline_sha,
        "api_calls": page_count,
    }
    return {
        "build": {"scan": _scan_context(scan_id), "plan": plan, "pages": pages},
        "baseline_sha": baseline_sha,
        "scan_id": scan_id,
    }


def _peak_rss_bytes() -> int:
    # VmHWM belongs to this process image; ru_maxrss would carry over the (big) parent's peak
    # from fork across exec on Linux.
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def child(step: str, root: Path) -> None:
    """One step in this fresh interpreter; prints its peak RSS (bytes) as JSON."""
    from flowops.scan.assemble import build_lock
    from flowops.scan.models import BuildLockRequest, LockSummary, PointerOutcome, ReportRequest
    from flowops.scan.report import report_scan

    requests = json.loads((root / "requests.json").read_text())
    artifacts = DirectoryArtifacts(root / "store")
    now = datetime(2026, 1, 1, 0, 10, tzinfo=UTC)
    before = _peak_rss_bytes()
    if step == "imports":
        pass
    elif step == "BuildLock":
        summary = build_lock(artifacts, BuildLockRequest.model_validate(requests["build"]), org=ORG, now=now)
        (root / "summary.json").write_text(summary.model_dump_json())
    elif step == "ReportScan":
        build = BuildLockRequest.model_validate(requests["build"])
        summary = LockSummary.model_validate_json((root / "summary.json").read_text())
        pointer = PointerOutcome(
            advanced=True,
            unchanged=False,
            race=False,
            current_sha=summary.lock_sha256,
            compared_with_sha=requests["baseline_sha"],
            message="advanced",
        )
        report_scan(
            artifacts,
            None,
            ReportRequest(scan=build.scan, plan=build.plan, lock=summary, pointer=pointer),
            org=ORG,
            now=now,
        )
    else:
        raise SystemExit(f"error: unknown step {step!r}")
    print(json.dumps({"peak": _peak_rss_bytes(), "before": before}))


def _run_child(step: str, root: Path) -> dict[str, int]:
    completed = subprocess.run(
        [sys.executable, "-m", "bench.step_memory", "--child", step, str(root)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, int] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def configured_memory_mb() -> dict[str, int]:
    from infra.constructs.scan_workflow import STEP_MEMORY_MB

    return dict(STEP_MEMORY_MB)


def measure(nodes: int, seed: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="flowops-step-memory-") as scratch:
        root = Path(scratch)
        requests = prepare(nodes, seed, root / "store")
        (root / "requests.json").write_text(json.dumps(requests))
        rows: dict[str, Any] = {"imports": _run_child("imports", root)["peak"]}
        for step in STEPS:
            rows[step] = _run_child(step, root)["peak"]
        store = DirectoryArtifacts(root / "store")
        summary = json.loads((root / "summary.json").read_text())
        # What one scan stores by default: its own prefix plus the new lock it wrote.
        rows["scan_artifacts"] = store.stored_bytes(f"scans/{ORG}/{requests['scan_id']}")
        rows["lock"] = (root / "store" / summary["lock_key"]).stat().st_size
        rows["flows"] = summary["flows"]
        return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.step_memory", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="20000,50000,100000", help="graph nodes per org, comma-separated")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--child", nargs=2, metavar=("STEP", "DIR"), help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    if arguments.child:
        child(arguments.child[0], Path(arguments.child[1]))
        return 0
    memory = configured_memory_mb()
    mib = 1024 * 1024
    print(
        f"{'nodes':>7} {'step':<11} {'peak RSS':>10} {'imports':>9} {'Lambda':>8} {'share':>6}"
        f"  ≤ {TARGET_SHARE:.0%}"
    )
    status = 0
    for nodes in (int(size) for size in arguments.sizes.split(",")):
        rows = measure(nodes, arguments.seed)
        for step in STEPS:
            share = rows[step] / (memory[step] * mib)
            ok = share <= TARGET_SHARE
            status |= 0 if ok else 1
            print(
                f"{nodes:>7} {step:<11} {rows[step] / mib:>7.0f} MiB {rows['imports'] / mib:>5.0f} MiB"
                f" {memory[step]:>5} MB {share:>6.0%}  {'ok' if ok else 'OVER'}"
            )
        stored = rows["scan_artifacts"] + rows["lock"]
        judged = rows["flows"] >= ARTIFACT_TARGET_FLOWS
        verdict = "ok" if stored <= ARTIFACT_TARGET_MB * 1e6 else "OVER"
        print(
            f"{nodes:>7} stored per scan of {rows['flows']:,} flows: {stored / mib:.1f} MiB"
            f" (scans/ prefix {rows['scan_artifacts'] / mib:.1f} MiB + lock {rows['lock'] / mib:.1f} MiB)"
            + (f"  ≤ {ARTIFACT_TARGET_MB} MB: {verdict}" if judged else "")
        )
        if judged and verdict == "OVER":
            status = 1
    return status


if __name__ == "__main__":
    raise SystemExit(main())
