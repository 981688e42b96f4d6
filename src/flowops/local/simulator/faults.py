"""Injected faults: what can go wrong with a real Genesys Cloud org, on demand.

Spec string (comma separated, documented in docs/simulator.md):

    5xx=0.2,latency=0.5,reset=0.05,token-expiry=120,publish-fail=<flowId or name>,
    publish-fail-once=<flowId or name>,locked=<flowId>,index=stuck,job=stuck,download-fail=0.3,
    storm=20,seed=7,vanish=<flowId>,index-failed=<flowId>,forbidden=<flowId>,churn=2,job-errors=3000,
    lost-answer=0.5,export-fail=2,export-empty=1

`lost-answer` applies a successful write (POST/PUT/DELETE to the API or a presigned URL) and
then drops the connection without answering, as when a response is lost on the way back:
`lost-answer=P` for any write with probability P, or `lost-answer=upload` / `lost-answer=publish`
/ `lost-answer=register` for the NEXT architect-job upload / publish action / job registration
only (once each; repeatable).

`publish-fail`, `publish-fail-once`, `locked`, `vanish`, `index-failed` and `forbidden` may repeat.
`publish-fail-once` fails the next publish of that flow only (Architect failing to generate a
flow is usually transient). `job-errors=N` makes each failed publish job report N error
messages (a large broken flow fails with one per broken action). Randomness is seeded (`seed`,
default 0) so that a fault run is reproducible for the same sequence of requests.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

# Route templates of the writes `lost-answer=<target>` picks, by target.
LOST_ANSWER_TARGETS = {
    "upload": "/__sim/uploads/{jobId}",
    "publish": "/api/v2/flows/actions/publish",
    "register": "/api/v2/flows/jobs",
}


class FaultSpecError(ValueError):
    """A malformed fault spec; the message names the offending item."""


def _probability(key: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise FaultSpecError(f"fault {key}={raw!r}: expected a probability between 0 and 1") from None
    if not 0.0 <= value <= 1.0:
        raise FaultSpecError(f"fault {key}={raw!r}: expected a probability between 0 and 1")
    return value


def _seconds(key: str, raw: str, *, positive: bool) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise FaultSpecError(f"fault {key}={raw!r}: expected a number of seconds") from None
    if value < 0 or (positive and value == 0):
        raise FaultSpecError(
            f"fault {key}={raw!r}: expected a {'positive' if positive else 'non-negative'} number"
        )
    return value


@dataclass
class Faults:
    server_error_rate: float = 0.0  # 5xx
    latency_seconds: float = 0.0  # simulated seconds added to every API call
    reset_rate: float = 0.0  # close the connection without an answer
    token_lifetime_seconds: float | None = None  # tokens expire after N simulated seconds
    publish_fail: set[str] = field(default_factory=set)  # flow ids or names (lower case)
    publish_fail_once: set[str] = field(default_factory=set)  # consumed by the first match
    locked_flow_ids: set[str] = field(default_factory=set)
    index_stuck: bool = False
    jobs_stuck: bool = False  # Architect jobs stay Started until the fault is cleared
    download_fail_rate: float = 0.0
    rate_limit_override: int | None = None  # "429 storm": requests per minute
    export_fail: int = 0  # the next N export jobs end Failure ("Could not find the flow")
    export_empty: int = 0  # the next N export downloads are empty
    job_errors: int = 1  # error messages of a failed publish job
    lost_answer_rate: float = 0.0  # applied writes whose answer never arrives
    lost_answer_once: set[str] = field(default_factory=set)  # upload | publish | register, next one only
    seed: int = 0
    # Deleted as its consumed resources are first read (between a scan's listing and its read).
    vanish: set[str] = field(default_factory=set)
    index_failed: set[str] = field(default_factory=set)  # listed in failedObjects, 404 on read
    churn: int = 0  # flows deleted and created after every page of GET /api/v2/flows
    # Dependency reads of these flows answer 403 as for a flow in a division the client cannot see.
    forbidden: set[str] = field(default_factory=set)

    @classmethod
    def parse(cls, spec: str | None) -> Faults:
        faults = cls()
        for item in (spec or "").split(","):
            item = item.strip()
            if not item:
                continue
            key, sep, raw = item.partition("=")
            key, raw = key.strip().lower(), raw.strip()
            if not sep or not raw:
                raise FaultSpecError(f"fault {item!r}: expected key=value")
            if key == "5xx":
                faults.server_error_rate = _probability(key, raw)
            elif key == "latency":
                faults.latency_seconds = _seconds(key, raw, positive=False)
            elif key == "reset":
                faults.reset_rate = _probability(key, raw)
            elif key == "token-expiry":
                faults.token_lifetime_seconds = _seconds(key, raw, positive=True)
            elif key == "publish-fail":
                faults.publish_fail.add(raw.lower())
            elif key == "publish-fail-once":
                faults.publish_fail_once.add(raw.lower())
            elif key == "locked":
                faults.locked_flow_ids.add(raw)
            elif key == "index":
                if raw.lower() != "stuck":
                    raise FaultSpecError(f"fault index={raw!r}: the only index fault is index=stuck")
                faults.index_stuck = True
            elif key == "job":
                if raw.lower() != "stuck":
                    raise FaultSpecError(f"fault job={raw!r}: the only job fault is job=stuck")
                faults.jobs_stuck = True
            elif key == "download-fail":
                faults.download_fail_rate = _probability(key, raw)
            elif key == "job-errors":
                if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= 100_000:
                    raise FaultSpecError(f"fault job-errors={raw!r}: expected 1 to 100000 messages")
                faults.job_errors = int(raw)
            elif key in {"storm", "429-storm"}:
                if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
                    raise FaultSpecError(
                        f"fault {key}={raw!r}: expected a positive requests-per-minute limit"
                    )
                faults.rate_limit_override = int(raw)
            elif key in {"export-fail", "export-empty"}:
                if not raw.isdigit():
                    raise FaultSpecError(f"fault {key}={raw!r}: expected a count of export jobs (0 or more)")
                setattr(faults, key.replace("-", "_"), int(raw))
            elif key == "vanish":
                faults.vanish.add(raw)
            elif key == "index-failed":
                faults.index_failed.add(raw)
            elif key == "forbidden":
                faults.forbidden.add(raw)
            elif key == "churn":
                if not (raw.isascii() and raw.isdigit()):
                    raise FaultSpecError(f"fault churn={raw!r}: expected a number of flows per page")
                faults.churn = int(raw)
            elif key == "lost-answer":
                if raw.lower() in LOST_ANSWER_TARGETS:
                    faults.lost_answer_once.add(raw.lower())
                else:
                    faults.lost_answer_rate = _probability(key, raw)
            elif key == "seed":
                if not (raw.isascii() and raw.lstrip("-").isdigit()):
                    raise FaultSpecError(f"fault seed={raw!r}: expected an integer")
                faults.seed = int(raw)
            else:
                raise FaultSpecError(
                    f"unknown fault {key!r} (known: 5xx, latency, reset, token-expiry, publish-fail, "
                    "publish-fail-once, locked, index, job, download-fail, storm, seed, vanish, "
                    "index-failed, forbidden, churn, job-errors, lost-answer, export-fail, export-empty)"
                )
        return faults

    def describe(self) -> dict[str, object]:
        return {
            "5xx": self.server_error_rate,
            "latency": self.latency_seconds,
            "reset": self.reset_rate,
            "token-expiry": self.token_lifetime_seconds,
            "publish-fail": sorted(self.publish_fail),
            "publish-fail-once": sorted(self.publish_fail_once),
            "locked": sorted(self.locked_flow_ids),
            "index": "stuck" if self.index_stuck else None,
            "job": "stuck" if self.jobs_stuck else None,
            "download-fail": self.download_fail_rate,
            "storm": self.rate_limit_override,
            "export-fail": self.export_fail,
            "export-empty": self.export_empty,
            "job-errors": self.job_errors,
            "lost-answer": self.lost_answer_rate,
            "lost-answer-once": sorted(self.lost_answer_once),
            "seed": self.seed,
            "vanish": sorted(self.vanish),
            "index-failed": sorted(self.index_failed),
            "churn": self.churn,
            "forbidden": sorted(self.forbidden),
        }

    def take(self, counter: str) -> bool:
        """Use up one of a counted fault (`export_fail`, `export_empty`): True while any is left."""
        left = int(getattr(self, counter))
        if left <= 0:
            return False
        setattr(self, counter, left - 1)
        return True

    def fails_publish(self, flow_id: str, flow_name: str) -> bool:
        keys = {flow_id.lower(), flow_name.lower()}
        once = keys & self.publish_fail_once
        if once:
            self.publish_fail_once -= once
            return True
        return bool(keys & self.publish_fail)

    def new_random(self) -> random.Random:
        return random.Random(self.seed)
