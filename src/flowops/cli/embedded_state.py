"""The embedded local cloud's state, kept between commands in `.flowops/embedded/`.

Without `flowops local up`, `scan`, `publish` and `trace` start an embedded cloud (moto in this
process) for the duration of the command. Its S3 objects and DynamoDB items would vanish with
it — the lock of the scan just run included, so the next `graph` had nothing to answer from.
So a command that ran an embedded cloud saves the stack's data here when it ends, and the next
embedded cloud of the same org (same `--flows/--seed/--org-file`) starts from it:

    .flowops/embedded/state.json      what was saved: org parameters, the current lock's key
    .flowops/embedded/objects/NNNNNN  S3 object bodies (keys, content types and metadata in state.json)
    .flowops/embedded/tables.json     DynamoDB items of the state and audit tables
    .flowops/embedded/runs.json       the Step Functions executions the embedded clouds ran (each
                                      one's description, history and state machine definition)

`graph` and `lock show` read the current lock straight from here when no cloud runs, without
starting one, and `flowops runs list|show|watch` read the kept executions (KeptStepFunctions
answers the Step Functions calls they make): an execution vanishes with its cloud, so each save
adds this cloud's executions to the ones kept before (the newest KEPT_RUNS). The simulator's
org is regenerated from its seed at every start: publishes made in an embedded cloud are not
kept on the Genesys side (use `flowops local up` for a session).
The folder lives under FLOWOPS_ARTIFACTS_DIR like the other local artifacts.
"""

from __future__ import annotations

import base64
import json
import shutil
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

STATE_VERSION = 1
MAX_SAVED_BYTES = 512 * 1024 * 1024  # an embedded org beyond this is not worth keeping on disk
KEPT_RUNS = 50  # newest executions kept across embedded clouds (a scan's history is ~100 KB)
RUNS_FILE = "runs.json"


class OrgParameters(BaseModel):
    flows: int
    seed: int
    org_file: str | None = None
    environment: str | None = None


class SavedObject(BaseModel):
    key: str
    file: str
    content_type: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)


class EmbeddedState(BaseModel):
    version: int = STATE_VERSION
    org: str
    parameters: OrgParameters
    saved_at: str
    current_lock_key: str | None = None
    current_lock_sha: str | None = None
    objects: list[SavedObject] = Field(default_factory=list)


def state_dir() -> Path:
    from flowops.cli.files import artifacts_dir

    return artifacts_dir("embedded")


def parameters_of(
    flows: int, seed: int, org_file: Path | None, environment: str | None = None
) -> OrgParameters:
    return OrgParameters(
        flows=flows,
        seed=seed,
        org_file=str(org_file.resolve()) if org_file else None,
        environment=environment,
    )


def load_state(directory: Path | None = None) -> EmbeddedState | None:
    path = (directory or state_dir()) / "state.json"
    if not path.is_file():
        return None
    try:
        state = EmbeddedState.model_validate_json(path.read_bytes())
    except ValueError:
        return None  # unreadable or from another version: start afresh
    return state if state.version == STATE_VERSION else None


def _encode_item(item: dict[str, Any]) -> dict[str, Any]:
    def encode(value: Any) -> Any:
        if isinstance(value, bytes | bytearray):
            return {"__bytes__": base64.b64encode(bytes(value)).decode()}
        if isinstance(value, dict):
            return {key: encode(child) for key, child in value.items()}
        if isinstance(value, list):
            return [encode(child) for child in value]
        return value

    return dict(encode(item))


def _decode_item(item: dict[str, Any]) -> dict[str, Any]:
    def decode(value: Any) -> Any:
        if isinstance(value, dict):
            if set(value) == {"__bytes__"}:
                return base64.b64decode(value["__bytes__"])
            return {key: decode(child) for key, child in value.items()}
        if isinstance(value, list):
            return [decode(child) for child in value]
        return value

    return dict(decode(item))


def save(connection: Any, parameters: OrgParameters, directory: Path | None = None) -> Path:
    """Save the embedded stack's S3 objects and table items; replaces the previous state whole."""
    from flowops.store import LockPointerStore

    target = directory or state_dir()
    staging = target.with_name(f".{target.name}.{int(time.time() * 1000)}")
    (staging / "objects").mkdir(parents=True)
    s3 = connection.client("s3")
    saved: list[SavedObject] = []
    total = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=connection.artifacts_bucket):
        for entry in page.get("Contents", []):
            got = s3.get_object(Bucket=connection.artifacts_bucket, Key=entry["Key"])
            body = got["Body"].read()
            total += len(body)
            if total > MAX_SAVED_BYTES:
                shutil.rmtree(staging, ignore_errors=True)
                raise OSError(f"the embedded org's artifacts exceed {MAX_SAVED_BYTES} bytes; not kept")
            name = f"{len(saved):06d}"
            (staging / "objects" / name).write_bytes(body)
            saved.append(
                SavedObject(
                    key=entry["Key"],
                    file=name,
                    content_type=got.get("ContentType"),
                    metadata=dict(got.get("Metadata") or {}),
                )
            )
    dynamodb = connection.client("dynamodb")
    tables: dict[str, list[dict[str, Any]]] = {}
    # By role, not by name: a changed stack template may name the tables differently.
    for role, table in (("state", connection.state_table), ("audit", connection.audit_table)):
        items: list[dict[str, Any]] = []
        for page in dynamodb.get_paginator("scan").paginate(TableName=table):
            items += [_encode_item(item) for item in page.get("Items", [])]
        tables[role] = items
    (staging / "tables.json").write_text(json.dumps(tables), encoding="utf-8")
    kept_before = load_state(target)
    earlier_runs = (
        load_runs(target)
        if kept_before is not None
        and kept_before.parameters == parameters
        and kept_before.org == connection.org
        else []
    )
    runs = merge_runs(earlier_runs, collect_runs(connection.client("stepfunctions")))
    (staging / RUNS_FILE).write_text(json.dumps(runs, default=_encode_datetime), encoding="utf-8")
    pointer = LockPointerStore(connection.state_table, dynamodb).get_current(connection.org)
    state = EmbeddedState(
        org=connection.org,
        parameters=parameters,
        saved_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        current_lock_key=pointer.key if pointer else None,
        current_lock_sha=pointer.sha if pointer else None,
        objects=saved,
    )
    (staging / "state.json").write_text(state.model_dump_json(), encoding="utf-8")
    previous = target.with_name(f".{target.name}.old")
    shutil.rmtree(previous, ignore_errors=True)
    if target.exists():
        target.rename(previous)
    staging.rename(target)
    shutil.rmtree(previous, ignore_errors=True)
    return target


def restore(connection: Any, state: EmbeddedState, directory: Path | None = None) -> None:
    """Put the saved objects and items back into a freshly started embedded stack."""
    source = directory or state_dir()
    s3 = connection.client("s3")
    for saved in state.objects:
        options: dict[str, Any] = {"Metadata": saved.metadata, "ChecksumAlgorithm": "SHA256"}
        if saved.content_type:
            options["ContentType"] = saved.content_type
        s3.put_object(
            Bucket=connection.artifacts_bucket,
            Key=saved.key,
            Body=(source / "objects" / saved.file).read_bytes(),
            **options,
        )
    tables = json.loads((source / "tables.json").read_text(encoding="utf-8"))
    dynamodb = connection.client("dynamodb")
    for role, table in (("state", connection.state_table), ("audit", connection.audit_table)):
        for item in tables.get(role, []):
            dynamodb.put_item(TableName=table, Item=_decode_item(item))


def current_lock_bytes(directory: Path | None = None) -> tuple[bytes, str, EmbeddedState] | None:
    """The current lock of the saved embedded state (body, sha, state), or None."""
    source = directory or state_dir()
    state = load_state(source)
    if state is None or not state.current_lock_key:
        return None
    for saved in state.objects:
        if saved.key == state.current_lock_key:
            return (source / "objects" / saved.file).read_bytes(), str(state.current_lock_sha), state
    return None


# --- run history ------------------------------------------------------------------------------


def _encode_datetime(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"__datetime__": value.isoformat()}
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _decode_datetime(value: dict[str, Any]) -> Any:
    return datetime.fromisoformat(value["__datetime__"]) if set(value) == {"__datetime__"} else value


def collect_runs(sfn: Any) -> list[dict[str, Any]]:
    """Every execution of the flowops state machines in this cloud, as the Step Functions API
    describes it: {"machine": {name, stateMachineArn, definition}, "description", "events"}.
    An embedded cloud starts with no execution (they are not restored), so these are its own."""
    from flowops.cli.runs import execution_history, flowops_state_machines

    runs: list[dict[str, Any]] = []
    for machine in flowops_state_machines(sfn):
        arn = machine["stateMachineArn"]
        definition = sfn.describe_state_machine(stateMachineArn=arn).get("definition", "{}")
        listed: list[dict[str, Any]] = []
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=arn):
            listed += page.get("executions", [])
        for execution in listed:
            description = sfn.describe_execution(executionArn=execution["executionArn"])
            description.pop("ResponseMetadata", None)
            runs.append(
                {
                    "machine": {"name": machine["name"], "stateMachineArn": arn, "definition": definition},
                    "description": description,
                    "events": execution_history(sfn, execution["executionArn"]),
                }
            )
    return runs


def merge_runs(earlier: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The newest KEPT_RUNS of both, newest first; a new record replaces an earlier one of the
    same execution ARN."""
    by_arn = {run["description"]["executionArn"]: run for run in earlier}
    by_arn |= {run["description"]["executionArn"]: run for run in new}

    def started(run: dict[str, Any]) -> str:
        value = run["description"].get("startDate")
        return value.isoformat() if isinstance(value, datetime) else str(value or "")

    return sorted(by_arn.values(), key=started, reverse=True)[:KEPT_RUNS]


def load_runs(directory: Path | None = None) -> list[dict[str, Any]]:
    """The executions kept with the embedded state (newest first); [] when there are none."""
    path = (directory or state_dir()) / RUNS_FILE
    if not path.is_file():
        return []
    try:
        runs = json.loads(path.read_text(encoding="utf-8"), object_hook=_decode_datetime)
    except ValueError:
        return []  # unreadable: as if nothing was kept
    return runs if isinstance(runs, list) else []


class KeptStepFunctions:
    """The Step Functions calls `flowops runs` makes, answered from the kept executions of the
    embedded clouds (read-only: nothing runs any more)."""

    def __init__(self, runs: list[dict[str, Any]]) -> None:
        self._runs = {run["description"]["executionArn"]: run for run in runs}
        self._machines: dict[str, dict[str, Any]] = {}
        for run in runs:
            self._machines.setdefault(run["machine"]["stateMachineArn"], run["machine"])

    def get_paginator(self, operation: str) -> Any:
        """One page per call, for each pageable operation this read-only client answers; any
        other raises what boto3 raises for an operation that cannot be paginated here."""
        answer = {
            "list_state_machines": self.list_state_machines,
            "list_executions": self.list_executions,
            "get_execution_history": self.get_execution_history,
        }.get(operation)
        if answer is None:
            from botocore.exceptions import OperationNotPageableError

            raise OperationNotPageableError(operation_name=operation)
        return _OnePage(answer)

    def list_state_machines(self, **_: Any) -> dict[str, Any]:
        machines = [{"name": m["name"], "stateMachineArn": arn} for arn, m in self._machines.items()]
        return {"stateMachines": machines}

    def list_executions(
        self, *, stateMachineArn: str, statusFilter: str | None = None, maxResults: int = 100, **_: Any
    ) -> dict[str, Any]:
        executions = [
            {
                key: run["description"].get(key)
                for key in ("executionArn", "stateMachineArn", "name", "status", "startDate", "stopDate")
            }
            for run in self._runs.values()
            if run["machine"]["stateMachineArn"] == stateMachineArn
            and (statusFilter is None or run["description"].get("status") == statusFilter)
        ]
        return {"executions": executions[:maxResults]}

    def describe_execution(self, *, executionArn: str) -> dict[str, Any]:
        return dict(self._run(executionArn)["description"])

    def get_execution_history(self, *, executionArn: str, **_: Any) -> dict[str, Any]:
        return {"events": list(self._run(executionArn)["events"])}

    def describe_state_machine(self, *, stateMachineArn: str) -> dict[str, Any]:
        machine = self._machines.get(stateMachineArn)
        if machine is None:
            raise _client_error(
                "StateMachineDoesNotExist", f"State Machine Does Not Exist: '{stateMachineArn}'"
            )
        return {
            "stateMachineArn": stateMachineArn,
            "name": machine["name"],
            "definition": machine["definition"],
        }

    def _run(self, execution_arn: str) -> dict[str, Any]:
        run = self._runs.get(execution_arn)
        if run is None:
            raise _client_error("ExecutionDoesNotExist", f"Execution Does Not Exist: '{execution_arn}'")
        return run


class _OnePage:
    """A paginator over kept records: everything fits one page."""

    def __init__(self, answer: Callable[..., dict[str, Any]]) -> None:
        self._answer = answer

    def paginate(self, **parameters: Any) -> list[dict[str, Any]]:
        return [self._answer(**parameters)]


def _client_error(code: str, message: str) -> Exception:
    """The error boto3 raises for `code`, so `flowops runs` handles it as it does AWS's."""
    from botocore.exceptions import ClientError

    return ClientError({"Error": {"Code": code, "Message": message}}, "KeptStepFunctions")


def kept_runs_client() -> tuple[KeptStepFunctions, EmbeddedState] | None:
    """The kept executions behind a Step Functions face, with the state they were kept with;
    None when no embedded cloud kept anything."""
    state = load_state()
    if state is None:
        return None
    return KeptStepFunctions(load_runs()), state
