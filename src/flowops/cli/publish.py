"""`flowops publish`, `flowops rollback`, `flowops validate`.

`publish` and `rollback` go through the same door as a CI system: a SIGNED webhook
(`flowops.webhook.signature.signed_headers`). Against a deployed stack it is an HTTPS POST to
`FLOWOPS_WEBHOOK_URL`; against a local cloud (a running `flowops local up`, or an embedded one
started for the command) the webhook Lambda is invoked with the API Gateway event the request
would have produced. The command then follows the execution, printing each state as it is
entered. `validate` runs the pipeline's validation alone, changing nothing.

Exit codes (src/flowops/cli/exit_codes.py): 0 published / valid; 1 the run failed, rolled back or
validation found errors; 2 bad input or the webhook refused the request; 3 no cloud reachable.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel

from flowops.cli import exit_codes
from flowops.cli.executions import readable_cause
from flowops.cli.interrupted import (
    RECORD_GRACE_SECONDS,
    UNFINISHED_STATUSES,
    Interruption,
    read_interruption,
    run_records,
)
from flowops.cli.local_cloud import (
    CloudConnection,
    CloudUnavailableError,
    EmbeddedCloudError,
    connect,
    embedded_cloud,
)
from flowops.cli.names import Named, NameResolutionError, lock_flows, normalise_flow_type, resolve
from flowops.cli.progress import (
    PUBLISH_PHASES,
    ExecutionStillRunningError,
    ProgressLine,
    ProgressSnapshot,
)
from flowops.cli.progress import follow_execution as progress_follow
from flowops.cli.terminal import echo, fail
from flowops.local.webhook_server import LOCAL_WEBHOOK_SECRET

WEBHOOK_HANDLER = "flowops.functions.webhook.api.handler"
# Only ever used for the local emulation, whose webhook secret does not exist until we create it.
WEBHOOK_URL_VARIABLE = "FLOWOPS_WEBHOOK_URL"
WEBHOOK_SECRET_VARIABLE = "FLOWOPS_WEBHOOK_SECRET_ID"
TERMINAL_STATUSES = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})
DEMO_ENVIRONMENT = "demo"
DEFAULT_ENVIRONMENT = "dev"
DEMO_MISSING_QUEUE = "Queue That Does Not Exist"

StateCallback = Callable[[str], None]


class PublishCommandError(Exception):
    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class WebhookAnswer(BaseModel):
    status_code: int
    body: dict[str, Any]


# ---- the webhook door ----------------------------------------------------------------------------


def _webhook_function(connection: CloudConnection) -> dict[str, Any]:
    lambda_client = connection.client("lambda")
    for page in lambda_client.get_paginator("list_functions").paginate():
        for function in page["Functions"]:
            if function.get("Handler") == WEBHOOK_HANDLER:
                return dict(function)
    raise PublishCommandError("the stack has no webhook function (flowops.functions.webhook.api.handler)", 3)


def _local_webhook_secret(connection: CloudConnection, secret_id: str) -> str:
    """The local emulation's webhook secret, created on first use (it has no real one)."""
    secrets = connection.client("secretsmanager")
    try:
        return str(secrets.get_secret_value(SecretId=secret_id)["SecretString"])
    except secrets.exceptions.ResourceNotFoundException:
        secrets.create_secret(Name=secret_id, SecretString=LOCAL_WEBHOOK_SECRET)
        return LOCAL_WEBHOOK_SECRET


def _webhook_secret(connection: CloudConnection) -> str:
    """The shared HMAC secret: named by FLOWOPS_WEBHOOK_SECRET_ID, else the local stack's own."""
    secret_id = os.environ.get(WEBHOOK_SECRET_VARIABLE, "")
    if secret_id:
        secrets = connection.client("secretsmanager")
        return str(secrets.get_secret_value(SecretId=secret_id)["SecretString"])
    if not connection.is_local:  # a deployed stack: never guess its secret
        raise PublishCommandError(f"set {WEBHOOK_SECRET_VARIABLE} to the webhook secret's name", 2)
    function = _webhook_function(connection)
    return _local_webhook_secret(
        connection, function.get("Environment", {}).get("Variables", {}).get("WEBHOOK_SECRET_ID", "")
    )


def _rest_event(body: str, headers: dict[str, str]) -> dict[str, Any]:
    """The API Gateway REST proxy event `POST /publish` with this body produces."""
    now = time.time()
    return {
        "resource": "/publish",
        "path": "/publish",
        "httpMethod": "POST",
        "headers": {"Content-Type": "application/json", **headers},
        "multiValueHeaders": {
            name: [value] for name, value in {"Content-Type": "application/json", **headers}.items()
        },
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "resourceId": "publish",
            "resourcePath": "/publish",
            "httpMethod": "POST",
            "path": "/v1/publish",
            "protocol": "HTTP/1.1",
            "stage": "v1",
            "requestId": str(uuid.uuid4()),
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "requestTimeEpoch": int(now * 1000),
            "identity": {"sourceIp": "127.0.0.1", "userAgent": "flowops-cli"},
            "domainName": "localhost",
        },
        "body": body,
        "isBase64Encoded": False,
    }


def send_publish_webhook(connection: CloudConnection, request: dict[str, Any]) -> WebhookAnswer:
    """POST the request, signed, to the stack's webhook; the answer as status + JSON body.

    Over HTTP when a webhook URL is known (`flowops local up`'s local endpoint, a deployed
    stack's API, or FLOWOPS_WEBHOOK_URL); an embedded cloud has no HTTP endpoint, so there the
    webhook function receives the API Gateway event the API would have sent.
    """
    from flowops.webhook.signature import signed_headers

    body = json.dumps(request, separators=(",", ":"))
    delivery_id = str(uuid.uuid4())
    url = os.environ.get(WEBHOOK_URL_VARIABLE) or connection.webhook_url
    if url:
        import requests

        secret = _webhook_secret(connection)
        headers = signed_headers(body.encode(), secret, delivery_id=delivery_id, timestamp=int(time.time()))
        try:
            response = requests.post(
                url, data=body.encode(), headers={"Content-Type": "application/json", **headers}, timeout=30
            )
        except requests.RequestException as error:
            raise PublishCommandError(
                f"cannot reach the webhook at {url}: {error}", exit_codes.UNREACHABLE
            ) from None
        return WebhookAnswer(status_code=response.status_code, body=_json_or_text(response.text))
    function = _webhook_function(connection)
    secret = _webhook_secret(connection)
    headers = signed_headers(body.encode(), secret, delivery_id=delivery_id, timestamp=int(time.time()))
    invoked = connection.client("lambda").invoke(
        FunctionName=function["FunctionName"], Payload=json.dumps(_rest_event(body, headers)).encode()
    )
    payload = json.loads(invoked["Payload"].read() or b"{}")
    if invoked.get("FunctionError"):
        raise PublishCommandError(f"the webhook function failed: {payload.get('errorMessage', payload)}", 3)
    raw_body = payload.get("body") or ""
    if payload.get("isBase64Encoded"):
        raw_body = base64.b64decode(raw_body).decode()
    return WebhookAnswer(status_code=int(payload.get("statusCode", 500)), body=_json_or_text(raw_body))


def _json_or_text(text: str) -> dict[str, Any]:
    try:
        parsed = json.loads(text)
    except ValueError:
        return {"message": text}
    return parsed if isinstance(parsed, dict) else {"message": parsed}


# ---- following an execution ----------------------------------------------------------------------


def follow_execution(
    connection: CloudConnection,
    execution_arn: str,
    *,
    on_state: StateCallback | None = None,
    on_progress: Callable[[ProgressSnapshot], None] | None = None,
    timeout: float = 3600.0,
    record_grace: float = RECORD_GRACE_SECONDS,
) -> dict[str, Any]:
    """Wait for the execution (a publish, rollback or release; see src/flowops/cli/progress.py);
    a summary of how it ended.

    `on_state` is called once for each state as it is entered, `on_progress` on every poll. A run
    its machine could not finish (timed out, stopped, unrecorded failure) carries the backstop's
    record as `interruption` (src/flowops/cli/interrupted.py), waited for up to `record_grace`."""
    reported = 0

    def progress(snapshot: ProgressSnapshot) -> None:
        nonlocal reported
        if on_state is not None:
            for state in snapshot.states[reported:]:
                on_state(state)
        reported = len(snapshot.states)
        if on_progress is not None:
            on_progress(snapshot)

    sfn = connection.client("stepfunctions")
    try:
        description, snapshot = progress_follow(
            sfn, execution_arn, phases=PUBLISH_PHASES, on_progress=progress, timeout=timeout
        )
    except ExecutionStillRunningError as error:
        raise PublishCommandError(
            f"{error} — it keeps running: follow it with `flowops runs watch {execution_arn}`",
            exit_codes.FAILED,
        ) from None
    output = json.loads(description["output"]) if description.get("output") else None
    from botocore.exceptions import BotoCoreError, ClientError

    run_id = str(description.get("name") or execution_arn.rsplit(":", 1)[-1])
    try:
        interruption = read_interruption(
            run_records(connection),
            run_id,
            description["status"],
            is_run_workflow=True,
            grace_seconds=record_grace,
        )
    except (BotoCoreError, ClientError):
        # The run records cannot be read (credentials without the state table): an uncaught end
        # is then as unknown as one not recorded yet; a FAILED run keeps its own error.
        interruption = (
            Interruption(run_id=run_id, execution_status=description["status"], recorded=False)
            if description["status"] in UNFINISHED_STATUSES
            else None
        )
    return {
        "interruption": interruption.document() if interruption is not None else None,
        "execution_arn": execution_arn,
        "status": description["status"],
        "error": description.get("error"),
        "cause": description.get("cause"),
        "states": snapshot.states,
        "polls": snapshot.polls,
        "retries": snapshot.retries,
        "elapsed_seconds": round(snapshot.elapsed_seconds, 3),
        "output": output,
    }


def publish_via_webhook(
    connection: CloudConnection,
    request: dict[str, Any],
    *,
    on_state: StateCallback | None = None,
    on_progress: Callable[[ProgressSnapshot], None] | None = None,
    timeout: float = 3600.0,
) -> dict[str, Any]:
    answer = send_publish_webhook(connection, request)
    if answer.status_code != 202:
        message = answer.body.get("message", answer.body)
        raise PublishCommandError(
            f"the webhook refused the request (HTTP {answer.status_code}): {cli_vocabulary(str(message))}",
            _webhook_refusal_code(answer.status_code),
        )
    summary = follow_execution(
        connection,
        str(answer.body["executionArn"]),
        on_state=on_state,
        on_progress=on_progress,
        timeout=timeout,
    )
    summary["delivery_id"] = answer.body.get("deliveryId")
    return summary


def _webhook_refusal_code(status_code: int) -> int:
    """503: a dependency of the webhook failed and nothing started — retry later. 5xx else:
    the API is not answering properly. 4xx: the request itself must change."""
    if status_code in {429, 503}:
        return exit_codes.REFUSED
    if status_code >= 500:
        return exit_codes.UNREACHABLE
    return exit_codes.USAGE_ERROR


# ---- how a run ended, for people and scripts -----------------------------------------------------

# Validation findings that say "not now" rather than "this flow is wrong": nothing changed and
# the same request can succeed later (or with the flag the hint names).
RETRY_LATER_FINDINGS = frozenset({"FLOW_LOCKED", "DRIFT_FROM_LOCK"})
_FINDING_CODE = re.compile(r"\[([A-Z][A-Z_]+)\]")
_WEBHOOK_WORDS = (
    (re.compile(r"send force_unlock: ?true"), "pass --force-unlock"),
    (re.compile(r"send allow_drift: ?true"), "pass --allow-drift"),
    (re.compile(r"\bforce_unlock\b"), "--force-unlock"),
    (re.compile(r"\ballow_drift\b"), "--allow-drift"),
)


def cli_vocabulary(text: str) -> str:
    """Hints from the pipeline speak the webhook's fields (`send force_unlock: true`); on the
    command line the same thing is a flag (`--force-unlock`)."""
    for pattern, replacement in _WEBHOOK_WORDS:
        text = pattern.sub(replacement, text)
    return text


def outcome_exit_code(summary: dict[str, Any]) -> int:
    """The documented exit code of a finished publish/rollback run (src/flowops/cli/exit_codes.py)."""
    if summary["status"] == "SUCCEEDED":
        return exit_codes.OK
    if summary.get("interruption"):
        return int(summary["interruption"]["exit_code"])
    error = str(summary.get("error") or "")
    if error == "Publish.FlowBusy":
        return exit_codes.REFUSED
    if error == "Publish.ValidationFailed":
        codes = set(_FINDING_CODE.findall(str(summary.get("cause") or "")))
        return exit_codes.REFUSED if codes and codes <= RETRY_LATER_FINDINGS else exit_codes.PROBLEMS_FOUND
    if error == "Publish.RollbackFailed":
        return exit_codes.ROLLBACK_FAILED
    return exit_codes.FAILED


def outcome_line(summary: dict[str, Any]) -> str:
    """One sentence: what happened and, when it did not work, what to do."""
    output = summary.get("output") or {}
    if summary["status"] == "SUCCEEDED":
        return (
            f"published {output.get('flow_name')} version {output.get('published_version')} "
            f"(was {output.get('previous_version')}); lock {str(output.get('lock_sha256'))[:12]}"
        )
    if summary.get("interruption"):
        return "\n".join(summary["interruption"]["lines"])
    cause = cli_vocabulary(readable_cause(summary.get("cause")))
    code = outcome_exit_code(summary)
    what = {
        exit_codes.REFUSED: "refused, nothing changed (retry later)",
        exit_codes.PROBLEMS_FOUND: "not published, nothing changed",
        exit_codes.ROLLBACK_FAILED: "FAILED and the rollback failed too: fix the flow by hand",
        exit_codes.FAILED: _failed_what(summary),
    }[code]
    return f"{what}: {summary.get('error')}: {cause}"


def _failed_what(summary: dict[str, Any]) -> str:
    states = summary.get("states") or []
    if summary.get("error") == "Publish.RolledBack":
        return "failed; what it changed was rolled back to the last known-good release"
    if summary.get("error") == "Publish.ReleaseUnrecorded":
        return "released and verified, but NOT recorded (parked): run `flowops scan` to record it"
    if states and states[-1] == "PublishFailed":
        return "failed, nothing changed in the org (nothing to roll back)"
    return "failed"


# ---- shared helpers ------------------------------------------------------------------------------


def genesys_client_for(connection: CloudConnection) -> Any:
    """A Genesys client: the simulator of a local cloud, else the configured org (GENESYS_*)."""
    from flowops.config import GenesysSettings, build_client_from_settings
    from flowops.genesys import ClientCredentials, GenesysClient
    from flowops.local.runtime.cloud import LOCAL_GENESYS_CREDENTIALS

    if connection.genesys_base_url:
        client_id, client_secret = LOCAL_GENESYS_CREDENTIALS
        return GenesysClient(
            ClientCredentials(client_id=client_id, client_secret=client_secret),
            base_url=connection.genesys_base_url,
        )
    return build_client_from_settings(GenesysSettings())


def ensure_environment(connection: CloudConnection, environment: str) -> None:
    """Local clouds only: an empty substitutions file for `environment` if none exists."""
    from flowops.store import ArtifactStore
    from flowops.webhook.lookup import substitutions_key

    artifacts = ArtifactStore(connection.artifacts_bucket, connection.client("s3"))
    key = substitutions_key(connection.org, environment)
    if not artifacts.exists(key):
        artifacts.put_json(key, {})


def checked_flow_type(flow_type: str) -> str:
    """`--type` as the flows API spells it (INBOUNDCALL), or a usage error listing the types."""
    try:
        return str(normalise_flow_type(flow_type))
    except NameResolutionError as error:
        raise PublishCommandError(str(error), error.exit_code) from None


def flow_reference(flow: str, flow_type: str | None) -> dict[str, Any]:
    """What the command line said, checked before any cloud starts: the reference text and
    its `--type` (a usage error if the type does not exist). Resolved to a flow id against
    the org's lock by `resolve_flow` once the cloud is known."""
    try:
        checked_type = normalise_flow_type(flow_type)
    except NameResolutionError as error:
        raise PublishCommandError(str(error), error.exit_code) from None
    if not flow.strip():
        raise PublishCommandError("--flow is empty: give a flow id or name", exit_codes.USAGE_ERROR)
    return {"reference": flow, "type": checked_type}


def resolve_flow(connection: CloudConnection, reference: dict[str, Any]) -> Named:
    """The flow `reference` names in the org's current lock (src/flowops/cli/names.py rules)."""
    from flowops.cli.local_cloud import NoLockError, read_current_lock

    try:
        lock = read_current_lock(connection)
    except NoLockError as error:
        raise PublishCommandError(str(error), exit_codes.USAGE_ERROR) from None
    try:
        return resolve(reference["reference"], lock_flows(lock), type_filter=reference.get("type"))
    except NameResolutionError as error:
        raise PublishCommandError(str(error), error.exit_code) from None


def known_environments(connection: CloudConnection) -> list[str]:
    """Environments with kept substitutions (`config/<org>/substitutions/<env>.json`)."""
    from flowops.store import ArtifactStore
    from flowops.webhook.lookup import substitutions_key

    prefix = substitutions_key(connection.org, "").removesuffix(".json")
    keys = ArtifactStore(connection.artifacts_bucket, connection.client("s3")).list_keys(prefix)
    return sorted(key.removeprefix(prefix).removesuffix(".json") for key in keys if key.endswith(".json"))


def substitutions_of(connection: CloudConnection, environment: str) -> dict[str, str]:
    """The environment's substitutions, or a usage error: the pipeline refuses unknown ones too."""
    from flowops.store import ArtifactStore
    from flowops.webhook.lookup import ArtifactSubstitutions

    source = ArtifactSubstitutions(
        connection.org, artifacts=ArtifactStore(connection.artifacts_bucket, connection.client("s3"))
    )
    try:
        found = source.substitutions_for(environment)
    except ValueError as error:
        raise PublishCommandError(str(error), exit_codes.USAGE_ERROR) from None
    if found is None:
        known = ", ".join(known_environments(connection)) or "none"
        raise PublishCommandError(
            f"no environment {environment!r} in org {connection.org!r} (known: {known}); "
            f"store its substitutions at config/{connection.org}/substitutions/{environment}.json",
            exit_codes.USAGE_ERROR,
        )
    return dict(found)


@contextlib.contextmanager
def cloud_for_command(environment: str) -> Iterator[CloudConnection]:
    """A running/deployed cloud, else an embedded one (scanned, with the environment present)."""
    try:
        running: CloudConnection | None = connect()
    except CloudUnavailableError:
        running = None
    if running is not None:
        yield running
        return
    from flowops.cli.files import logs_to_file
    from flowops.cli.scan import ScanExecutionError, run_scan_execution

    with logs_to_file("publish"), embedded_cloud(persist=True) as embedded:
        try:
            run_scan_execution(embedded.connection, {"trigger": "cli"}, timeout=600)
        except ScanExecutionError as error:
            raise PublishCommandError(f"the embedded cloud's first scan failed: {error}", 3) from None
        # A throwaway org gets the default environment only: any other must exist, as it must in
        # a deployed stack (the webhook refuses unknown environments).
        ensure_environment(embedded.connection, DEFAULT_ENVIRONMENT)
        yield embedded.connection


def _print_summary(summary: dict[str, Any], as_json: bool) -> int:
    code = outcome_exit_code(summary)
    summary = {**summary, "exit_code": code}
    if as_json:
        typer.echo(json.dumps(summary, indent=2, sort_keys=True, default=str))
    elif code == exit_codes.OK:
        echo(outcome_line(summary))
    else:
        echo(f"error: {outcome_line(summary)}", err=True)
    return code


def _exit_on(error: Exception) -> typer.Exit:
    if isinstance(error, OSError) and not hasattr(error, "exit_code"):
        return fail(f"{error.strerror or error}", exit_codes.UNREACHABLE)
    return fail(error, getattr(error, "exit_code", exit_codes.UNREACHABLE))


def _progress_line(label: str, *, verbose: bool, as_json: bool) -> ProgressLine:
    # With --json the progress stays on stderr too; a script reading stdout is unaffected.
    return ProgressLine(label, verbose=verbose)


# ---- commands ------------------------------------------------------------------------------------

FlowOption = Annotated[
    str, typer.Option("--flow", help="Flow id or name (--type picks among flows of the same name).")
]
TypeOption = Annotated[str | None, typer.Option("--type", help="Flow type, e.g. INBOUNDCALL.")]
VerboseOption = Annotated[
    bool, typer.Option("--verbose", "-v", help="List every state of the run as it is entered.")
]
EnvOption = Annotated[str, typer.Option("--env", help="Environment whose substitutions apply.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
ForceUnlockOption = Annotated[
    bool,
    typer.Option(
        "--force-unlock",
        help="Unlock the flow first if another user or client holds its lock (audited; like Archy's "
        "--forceUnlock). Without it a locked flow stops the run before anything changes.",
    ),
]
AllowDriftOption = Annotated[
    bool,
    typer.Option(
        "--allow-drift",
        help="Proceed although the flow's published version differs from the current lock "
        "(someone published outside the pipeline). Without it such drift is a validation error.",
    ),
]


def _read_yaml_file(path: Path) -> str:
    """The YAML text, or a usage error (exit 2) naming the file and why it cannot be read."""
    from flowops.bounded import FLOW_YAML_LIMITS, InputTooLargeError
    from flowops.cli._files import read_bounded_bytes

    try:
        return read_bounded_bytes(path, FLOW_YAML_LIMITS.max_bytes, "--yaml").decode("utf-8")
    except InputTooLargeError as error:
        raise PublishCommandError(f"{error.problem}: split the flow", exit_codes.USAGE_ERROR) from None
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise PublishCommandError(f"cannot read --yaml {path}: {reason}", exit_codes.USAGE_ERROR) from None


def publish_command(
    flow: FlowOption,
    flow_type: TypeOption = None,
    yaml_file: Annotated[Path | None, typer.Option("--yaml", help="Flow YAML to publish.")] = None,
    version: Annotated[str | None, typer.Option("--version", help="Existing version to publish.")] = None,
    environment: EnvOption = "dev",
    force_unlock: ForceUnlockOption = False,
    allow_drift: AllowDriftOption = False,
    reason: Annotated[str, typer.Option(help="Why (audit trail).")] = "published with flowops CLI",
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
    timeout: Annotated[float, typer.Option(help="Seconds to follow the execution.")] = 3600.0,
) -> None:
    """Send a signed publish webhook and follow the run on one live progress line."""
    if (yaml_file is None) == (version is None):
        raise _exit_on(PublishCommandError("give exactly one of --yaml FILE or --version V", 2))
    try:
        reference = flow_reference(flow, flow_type)  # a usage error before any cloud starts
        request: dict[str, Any] = {
            "environment": environment,
            "requester": os.environ.get("USER", "flowops-cli"),
            "reason": reason,
            "force_unlock": force_unlock,
            "allow_drift": allow_drift,
        }
        if yaml_file is not None:
            request["yaml"] = _read_yaml_file(yaml_file)
        else:
            request["version"] = version
        created: dict[str, Any] | None = None
        with contextlib.redirect_stdout(sys.stderr), cloud_for_command(environment) as connection:
            if yaml_file is not None and _is_new_flow(connection, reference):
                # A flow the org does not have yet: created by a one-flow release.
                from flowops.cli.release import publish_new_flow

                created = publish_new_flow(
                    connection,
                    request["yaml"],
                    environment,
                    substitutions_of(connection, environment),
                    reason=reason,
                    timeout=timeout,
                )
            else:
                target = resolve_flow(connection, reference)
                request["flow"] = {"id": target.id}
                with _progress_line(f"publish {target.name}", verbose=verbose, as_json=as_json) as line:
                    summary = publish_via_webhook(connection, request, on_progress=line.show, timeout=timeout)
        if created is not None:
            raise typer.Exit(_print_new_flow(created, as_json))
    except (PublishCommandError, EmbeddedCloudError, OSError) as error:
        raise _exit_on(error) from None
    raise typer.Exit(_print_summary(summary, as_json))


def _is_new_flow(connection: CloudConnection, reference: dict[str, Any]) -> bool:
    """True when `--flow NAME --type T` names no flow of the org (a flow id never is new)."""
    if not reference.get("type"):
        return False
    client = genesys_client_for(connection)
    page = client.list_flows_page(name=reference["reference"], flow_types=[reference["type"]])
    return not [flow for flow in page.entities if flow.name == reference["reference"] and not flow.deleted]


def _print_new_flow(summary: dict[str, Any], as_json: bool) -> int:
    if as_json:
        typer.echo(json.dumps(summary, indent=2, sort_keys=True, default=str))
    else:
        from flowops.cli.release import render_release

        typer.echo("a new flow: created through a one-flow release")
        for line in render_release(summary, summary.get("record") or {}):
            typer.echo(line)
    from flowops.cli.release import release_exit_code

    return release_exit_code(summary, summary.get("record"))


class RollbackPlan(BaseModel):
    """What `flowops rollback` will do: which release goes live, from which stored YAML."""

    flow_id: str
    flow_name: str
    live_version: str | None
    live_content_of: str | None
    """The release whose content the live version runs (None: not a release flowops recorded)."""
    target: str
    target_key: str
    target_fingerprint: str | None
    already_live: bool


def plan_rollback(connection: CloudConnection, live: Any, to_version: str | None) -> RollbackPlan:
    """Choose the rollback target from the flow's known-good history (flowops.publish.releases).

    Without `to_version`: the last KNOWN-GOOD release before the live one. A live version that is
    itself a restore (a rollback already happened) runs that known-good release already: nothing
    to do, so rolling back twice is rolling back once. With `to_version`: that stored release.
    """
    from flowops.lock.versions import version_key
    from flowops.publish.releases import load_history
    from flowops.store import ArtifactStore, flow_yaml_key

    artifacts = ArtifactStore(connection.artifacts_bucket, connection.client("s3"))
    history = load_history(artifacts, connection.org, live.id)
    live_version = live.published_version.id if live.published_version else None
    current = history.entry(live_version) if live_version else None
    live_content_of = current.content_of if current is not None else None
    if to_version is not None:
        wanted = history.entry(to_version)
        if wanted is None and not artifacts.exists(flow_yaml_key(connection.org, live.id, to_version)):
            known = ", ".join(entry.version for entry in history.entries) or "none"
            raise PublishCommandError(
                f"no stored release {to_version} of flow {live.name!r} (recorded releases: {known})",
                exit_codes.USAGE_ERROR,
            )
        target = wanted.content_of if wanted is not None else to_version
        source = history.entry(target) or wanted
    elif current is not None and current.restores is not None:
        target = current.restores
        source = history.entry(target) or current
    else:
        older = [
            entry
            for entry in history.entries
            if not entry.withdrawn
            and live_version is not None
            and version_key(entry.version) < version_key(live_version)
            and entry.content_of != live_content_of
        ]
        if not older:
            raise PublishCommandError(
                f"flow {live.name!r} has no known-good release before version {live_version} to roll "
                "back to; name one with --to-version",
                exit_codes.FAILURE_FOUND,
            )
        source = history.entry(older[-1].content_of) or older[-1]
        target = source.version
    key = source.yaml_key if source is not None else flow_yaml_key(connection.org, live.id, target)
    return RollbackPlan(
        flow_id=live.id,
        flow_name=live.name,
        live_version=live_version,
        live_content_of=live_content_of,
        target=target,
        target_key=key,
        target_fingerprint=source.fingerprint if source is not None else None,
        already_live=live_content_of == target,
    )


def rollback_command(
    flow: FlowOption,
    flow_type: TypeOption = None,
    to_version: Annotated[
        str | None,
        typer.Option("--to-version", help="Release to go back to (default: the last known-good one)."),
    ] = None,
    environment: EnvOption = "dev",
    force_unlock: ForceUnlockOption = False,
    reason: Annotated[str, typer.Option(help="Why (audit trail).")] = "rollback with flowops CLI",
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
    timeout: Annotated[float, typer.Option(help="Seconds to follow the execution.")] = 3600.0,
) -> None:
    """Put the flow's last known-good release live again (or --to-version V) through the pipeline.

    Idempotent: when the live version already runs that release, nothing is deployed.
    """
    try:
        reference = flow_reference(flow, flow_type)  # a usage error before any cloud starts
        with contextlib.redirect_stdout(sys.stderr), cloud_for_command(environment) as connection:
            target = resolve_flow(connection, reference)
            live = genesys_client_for(connection).get_flow(target.id)
            plan = plan_rollback(connection, live, to_version)
            if plan.already_live:
                summary: dict[str, Any] = {"status": "UNCHANGED"}
            else:
                echo(
                    f"rolling {plan.flow_name} back from version {plan.live_version} to release "
                    f"{plan.target} ({plan.target_key})",
                    err=True,
                )
                request = {
                    "flow": {"id": plan.flow_id},
                    "environment": environment,
                    "yaml_s3_key": plan.target_key,
                    "requester": os.environ.get("USER", "flowops-cli"),
                    "reason": reason,
                    "force_unlock": force_unlock,
                    "allow_drift": False,
                }
                with _progress_line(f"rollback {live.name}", verbose=verbose, as_json=as_json) as line:
                    summary = publish_via_webhook(connection, request, on_progress=line.show, timeout=timeout)
            summary["plan"] = plan.model_dump(mode="json")
    except (PublishCommandError, EmbeddedCloudError, OSError) as error:
        raise _exit_on(error) from None
    raise typer.Exit(print_rollback_summary(summary, plan, as_json))


def print_rollback_summary(summary: dict[str, Any], plan: RollbackPlan, as_json: bool) -> int:
    """Say which version went live and which release's content it runs; the exit code."""
    fingerprint = (plan.target_fingerprint or "unknown")[:12]
    if summary["status"] == "UNCHANGED":
        summary["message"] = (
            f"{plan.flow_name} version {plan.live_version} already runs known-good release {plan.target} "
            f"(content {fingerprint}); nothing deployed"
        )
        code = exit_codes.OK
    elif summary["status"] == "SUCCEEDED":
        output = summary.get("output") or {}
        summary["message"] = (
            f"rolled back {plan.flow_name}: version {output.get('published_version')} is live and runs "
            f"the content of release {plan.target} (content {fingerprint}, from {plan.target_key}); "
            f"was version {plan.live_version}"
        )
        code = exit_codes.OK
    else:
        summary["message"] = outcome_line(summary)
        code = outcome_exit_code(summary)
    summary["exit_code"] = code
    if as_json:
        typer.echo(json.dumps(summary, indent=2, sort_keys=True, default=str))
    elif code == exit_codes.OK:
        echo(summary["message"])
    else:
        echo(f"error: {summary['message']}", err=True)
    return code


def validate_request(
    connection: CloudConnection,
    reference: dict[str, Any],
    yaml_text: str,
    environment: str,
    *,
    allow_drift: bool = False,
    substitutions: dict[str, str] | None = None,
) -> Any:
    """Run the pipeline's validation alone (nothing changes; force_unlock is never applied)."""
    from flowops.cli.local_cloud import NoLockError, read_current_lock
    from flowops.publish.models import PublishRunRequest
    from flowops.publish.validate import validate_publish

    try:
        lock = read_current_lock(connection)
    except NoLockError:
        lock = None
    request = PublishRunRequest.model_validate(
        {
            "delivery_id": "cli-validate",
            "execution_name": "cli-validate",
            "org": connection.org,
            "environment": environment,
            "flow": {"id": reference.get("id"), "name": reference.get("name"), "type": reference.get("type")},
            "source": {"kind": "inline", "yaml": yaml_text},
            "requester": "flowops-cli",
            "reason": "validate",
            "force_unlock": False,
            "allow_drift": allow_drift,
            "received_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
    )
    if substitutions is None:
        substitutions = substitutions_of(connection, environment)
    return validate_publish(
        request,
        genesys=genesys_client_for(connection),
        lock=lock,
        yaml_text=yaml_text,
        substitutions=substitutions,
    ).report


def _yaml_flow_type(yaml_text: str, *, target_needed: bool) -> str | None:
    """The flow type the YAML's top-level key says, read before substitution (the key is never a
    placeholder); None when the file cannot be read until its placeholders are filled. A file
    that no substitution can make readable is a usage error here, before any cloud starts, when
    the target has to come from it."""
    from flowops.flowyaml import FlowYamlError, parse_flow_yaml
    from flowops.flowyaml.substitutions import PLACEHOLDER_PATTERN

    try:
        return parse_flow_yaml(yaml_text).flow_type.upper()
    except FlowYamlError as error:
        if target_needed and not PLACEHOLDER_PATTERN.search(yaml_text):
            raise PublishCommandError(
                f"cannot read the target from the YAML ({error}); pass --flow", exit_codes.USAGE_ERROR
            ) from None
        return None


def _check_type_agrees(option: str | None, yaml_type: str | None) -> None:
    if option is not None and yaml_type is not None and option != yaml_type:
        raise PublishCommandError(
            f"--type {option} contradicts the YAML, which is a {yaml_type} flow; "
            "drop --type (the YAML's type is authoritative) or validate the right file",
            exit_codes.USAGE_ERROR,
        )


def validation_target(
    yaml_text: str,
    substitutions: dict[str, str],
    flow: str | None,
    flow_type: str | None,
    connection: CloudConnection | None = None,
) -> dict[str, Any]:
    """The flow to validate against: `--flow`, else the YAML's own name and type, read AFTER the
    environment's substitutions are applied (`name: "{{flow_name}}"` is the common case)."""
    from flowops.flowyaml import FlowYamlError, parse_flow_yaml

    try:
        document = parse_flow_yaml(yaml_text, substitutions, strict_placeholders=True)
    except FlowYamlError as error:
        if flow is None:
            raise PublishCommandError(
                f"cannot read the target from the YAML ({error}); pass --flow", exit_codes.USAGE_ERROR
            ) from None
        return _pipeline_reference(connection, flow, flow_type)  # validation reports the YAML problem
    _check_type_agrees(flow_type, document.flow_type.upper())
    if flow is None:
        return {"name": document.name, "type": document.flow_type.upper()}
    return _pipeline_reference(connection, flow, flow_type)


def _pipeline_reference(
    connection: CloudConnection | None, flow: str, flow_type: str | None
) -> dict[str, Any]:
    given = flow_reference(flow, flow_type)
    if connection is None:
        return {"name": given["reference"], "type": given["type"]} if given["type"] else {"id": flow}
    return _validation_target(connection, given)


def validate_command(
    yaml_file: Annotated[Path, typer.Option("--yaml", help="Flow YAML to validate.")],
    flow: Annotated[
        str | None, typer.Option("--flow", help="Target flow id or name (default: the YAML's).")
    ] = None,
    flow_type: Annotated[
        str | None,
        typer.Option("--type", help="Flow type, e.g. INBOUNDCALL; must agree with the YAML's own type."),
    ] = None,
    environment: EnvOption = "dev",
    allow_drift: AllowDriftOption = False,
    as_json: JsonOption = False,
) -> None:
    """Validate flow YAML against the lock and the live org, as the pipeline would."""
    try:
        # Usage errors first, before any cloud starts.
        yaml_text = _read_yaml_file(yaml_file)
        wanted_type = checked_flow_type(flow_type) if flow_type is not None else None
        _check_type_agrees(wanted_type, _yaml_flow_type(yaml_text, target_needed=flow is None))
        if flow is not None:
            flow_reference(flow, wanted_type)
        with contextlib.redirect_stdout(sys.stderr), cloud_for_command(environment) as connection:
            substitutions = substitutions_of(connection, environment)
            reference = validation_target(yaml_text, substitutions, flow, wanted_type, connection)
            report = validate_request(
                connection,
                reference,
                yaml_text,
                environment,
                allow_drift=allow_drift,
                substitutions=substitutions,
            )
            if flow is None and [f.code for f in report.errors] == ["FLOW_NOT_FOUND"]:
                # A flow the org does not have yet: validated as a release would create it.
                from flowops.cli.release import validate_new_flow

                report = validate_new_flow(connection, yaml_text, environment, substitutions)
    except (PublishCommandError, EmbeddedCloudError, OSError) as error:
        raise _exit_on(error) from None
    if as_json:
        typer.echo(json.dumps({"ok": report.ok, **report.model_dump(mode="json")}, indent=2, sort_keys=True))
    else:
        echo(cli_vocabulary(report.summary()))
        for finding in [*report.errors, *report.warnings]:
            echo(f"  {finding.severity:<7} {cli_vocabulary(finding.line())}")
    raise typer.Exit(exit_codes.OK if report.ok else exit_codes.PROBLEMS_FOUND)


def _validation_target(connection: CloudConnection, given: dict[str, Any]) -> dict[str, Any]:
    """The `--flow` of validate as the pipeline's reference: the flow's id when the lock knows
    it; without a lock yet, the text as given (validation then reports NO_LOCK)."""
    from flowops.cli.local_cloud import NoLockError, read_current_lock

    try:
        read_current_lock(connection)
    except NoLockError:
        if given.get("type"):
            return {"name": given["reference"], "type": given["type"]}
        return {"id": given["reference"]}
    return {"id": resolve_flow(connection, given).id}


# ---- the demo ------------------------------------------------------------------------------------


def run_demo_publishes(cloud_connection: CloudConnection, *, timeout: float = 600.0) -> list[dict[str, Any]]:
    """Three releases of one flow: one that succeeds, one with a typo in a queue name that
    validation refuses before anything in the org changes, and one that Architect itself fails
    (the simulator's `publish-fail-once` fault: the flow could not be generated): its published
    version never moved, so the run ends PublishFailed with nothing to roll back.

    Needs a scanned org (the demo scans first). Picks an inbound call flow whose current
    version validates cleanly and re-renders its YAML (same references) for each release.
    """
    from flowops.flowyaml import FlowReference, ReferenceKind, parse_flow_yaml, render_minimal_flow_yaml

    ensure_environment(cloud_connection, DEMO_ENVIRONMENT)
    flow_id, document = _demo_flow(cloud_connection)
    good = render_minimal_flow_yaml(
        "INBOUNDCALL",
        document.name,
        document.references,
        description="flowops demo: a release that goes well",
    )
    typo = render_minimal_flow_yaml(
        "INBOUNDCALL",
        document.name,
        [*document.references, FlowReference(kind=ReferenceKind.QUEUE, name=DEMO_MISSING_QUEUE)],
        description="flowops demo: a release with a typo in a queue name",
    )
    unlucky = render_minimal_flow_yaml(
        "INBOUNDCALL",
        document.name,
        document.references,
        description="flowops demo: a release Architect fails to generate",
    )
    if parse_flow_yaml(good).name != document.name:
        raise PublishCommandError(
            f"the re-rendered YAML of flow {flow_id} no longer names it {document.name!r}", 1
        )
    summaries = []
    releases = (
        ("succeeds", good, None),
        ("is refused by validation", typo, None),
        ("fails in Architect (nothing changes)", unlucky, f"publish-fail-once={flow_id}"),
    )
    for label, yaml_text, fault in releases:
        if fault is not None:
            _set_simulator_faults(cloud_connection, fault)
        request = {
            "flow": {"id": flow_id},
            "environment": DEMO_ENVIRONMENT,
            "yaml": yaml_text,
            "requester": "flowops demo",
            "reason": f"demo publish that {label}",
        }
        summary = publish_via_webhook(cloud_connection, request, timeout=timeout)
        summaries.append({"flow_id": flow_id, "flow_name": document.name, "expected": label, **summary})
    return summaries


def _set_simulator_faults(connection: CloudConnection, spec: str) -> None:
    """The simulator's admin API (local clouds only: a real org has no fault injection)."""
    import requests

    if not connection.genesys_base_url:
        raise PublishCommandError("the demo's Architect failure needs the local simulator", 2)
    response = requests.post(f"{connection.genesys_base_url}/__sim/faults", json={"spec": spec}, timeout=10)
    if not response.ok:
        raise PublishCommandError(f"the simulator refused the fault {spec!r}: {response.text}", 1)


def _demo_flow(connection: CloudConnection) -> tuple[str, Any]:
    from flowops.cli.local_cloud import read_current_lock
    from flowops.flowyaml import FlowYamlError, parse_flow_yaml

    client = genesys_client_for(connection)
    lock = read_current_lock(connection)
    candidates = [f for f in lock.flows if f.type == "INBOUNDCALL" and f.published_version][:20]
    for candidate in candidates:
        live = client.get_flow(candidate.id)
        if live.locked_user is not None or live.published_version is None:
            continue
        started = client.start_export_job(candidate.id, live.published_version.id)
        job = client.wait_until(
            lambda started=started: client.get_export_job(started.id),
            lambda job: bool(job.download_url) or job.status == "Failure",
            what="demo export",
            poll_interval_seconds=0.2,
            timeout_seconds=120,
        )
        if not job.download_url:
            continue
        text = client.download_export(job.download_url)
        try:
            document = parse_flow_yaml(text)
        except FlowYamlError:
            continue
        report = validate_request(connection, {"id": candidate.id}, text, DEMO_ENVIRONMENT)
        if report.ok:
            return candidate.id, document
    raise PublishCommandError("no inbound call flow of the org validates cleanly for the demo", 1)


def register(app: typer.Typer) -> None:
    app.command("publish")(publish_command)
    app.command("rollback")(rollback_command)
    app.command("validate")(validate_command)
