"""`flowops doctor`: check a configuration end to end, one row per check with a fix hint.

Genesys side: the location (region or base URL) resolves, the OAuth client gets a token there
(a client exists in ONE region, so a wrong region fails here too), every permission of the
flowops OAuth role (`flowops.genesys.permissions`) is present, one row each (probed with a call
that changes nothing; a `ForbiddenError` names the missing permission; a missing OPTIONAL one
only WARNs, naming what flowops then skips), the dependency index is OPERATIONAL and flow
execution data is stored. AWS side: the artifacts bucket, the state table and the scan state
machine answer. Permissions only a real write could prove are listed as not probed.

Exit codes: 0 every check passed, 1 some check failed, 3 Genesys or the stack is unreachable.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import typer
from pydantic import BaseModel

from flowops.cli import exit_codes
from flowops.cli.terminal import echo, table

Status = Literal["pass", "fail", "warn", "skip"]
# No such job/flow: an answer other than 403 (404, 400) proves the permission without changing
# anything in the org. (Assumes Genesys checks the permission before it looks the object up.)
PROBE_JOB_ID = "00000000-0000-4000-8000-000000000000"
PROBE_FLOW_ID = "00000000-0000-4000-8000-000000000001"


class Check(BaseModel):
    name: str
    status: Status
    detail: str
    hint: str = ""
    unreachable: bool = False


class PermissionProbe(BaseModel):
    permission: str
    used_by: str
    endpoint: str
    optional: bool = False
    effect_when_missing: str = ""


def _probe(permission: str, endpoint: str, effect_when_missing: str = "") -> PermissionProbe:
    """A probe row described from the permission table (who needs it, whether it is optional)."""
    from flowops.genesys.permissions import operations_needing

    needing = [entry for entry in operations_needing(permission) if entry.used_by]
    used_by = sorted({pipeline for entry in needing for pipeline in entry.used_by if pipeline != "doctor"})
    return PermissionProbe(
        permission=permission,
        used_by=", ".join(used_by) or "doctor",
        endpoint=endpoint,
        optional=bool(needing) and all(entry.optional for entry in needing),
        effect_when_missing=effect_when_missing,
    )


# One probe per permission of the flowops role (flowops.genesys.permissions.role_permissions()),
# each a call that changes nothing in the org: a read, or a write aimed at an object that does
# not exist (refused with 404/400 when the permission is there, 403 when it is not).
PERMISSION_PROBES: tuple[tuple[PermissionProbe, Callable[[Any], Any]], ...] = (
    (
        _probe("architect:flow:view", "GET /api/v2/flows"),
        lambda client: client.list_flows_page(page_size=1),
    ),
    (
        _probe("architect:dependencyTracking:view", "GET /api/v2/architect/dependencytracking/build"),
        lambda client: client.get_dependency_tracking_status(),
    ),
    (
        _probe("architect:flow:publish", "POST /api/v2/flows/actions/publish (no such flow)"),
        lambda client: client.publish_flow(PROBE_FLOW_ID),
    ),
    (
        _probe(
            "architect:flow:unlock",
            "POST /api/v2/flows/actions/unlock (no such flow)",
            "publish with force_unlock fails naming it",
        ),
        lambda client: client.unlock_flow(PROBE_FLOW_ID),
    ),
    (
        _probe("architect:job:view", "GET /api/v2/flows/jobs/{jobId}"),
        lambda client: client.get_architect_job(PROBE_JOB_ID),
    ),
    (
        _probe("architect:jobExport:create", "POST /api/v2/flows/export/jobs (no such flow)"),
        lambda client: client.start_export_job(PROBE_FLOW_ID, "1.0"),
    ),
    (
        _probe("architect:jobExport:view", "GET /api/v2/flows/export/jobs/{jobId}"),
        lambda client: client.get_export_job(PROBE_JOB_ID),
    ),
    (
        _probe(
            "architect:jobValidate:create",
            "POST /api/v2/flows/validate/jobs (no such flow)",
            "publish skips Genesys' validate job (a warning)",
        ),
        lambda client: client.start_validate_job([(PROBE_FLOW_ID, "1.0")]),
    ),
    (
        _probe(
            "architect:jobValidate:view",
            "GET /api/v2/flows/validate/jobs/{jobId}",
            "publish skips Genesys' validate job (a warning)",
        ),
        lambda client: client.get_validate_job(PROBE_JOB_ID),
    ),
    (
        _probe("integrations:action:view", "GET /api/v2/integrations/actions"),
        lambda client: client.list_actions_page(page_size=1),
    ),
    (
        _probe(
            "integrations:action:edit",
            "GET /api/v2/integrations/actions/{actionId}/draft/validation (no such action)",
            "publish does not validate data action drafts (a warning names it)",
        ),
        lambda client: client.get_action_draft_validation(PROBE_JOB_ID),
    ),
    (
        _probe(
            "architect:flowinstanceexecutiondata:view",
            "GET /api/v2/flows/instances/settings/executiondata",
        ),
        lambda client: client.get_execution_data_settings(),
    ),
    (
        _probe(
            "architect:flowInstance:search",
            "POST /api/v2/flows/instances/query",
            "the publish health check skips the error-rate comparison",
        ),
        lambda client: client.query_flow_instances(_last_minute_query(), page_size=1),
    ),
    (
        _probe("architect:flowInstance:view", "GET /api/v2/flows/instances/jobs/{jobId}"),
        lambda client: client.get_execution_data_job(PROBE_JOB_ID),
    ),
)
# In the role too, but only a real write would prove them (a job registration, an org-wide
# index rebuild): listed so the operator grants them.
WRITE_PERMISSIONS = (
    ("architect:job:create", "publish, rollback (POST /api/v2/flows/jobs)"),
    ("architect:dependencyTracking:rebuild", "scan (POST /api/v2/architect/dependencytracking/build)"),
)

ENABLE_EXECUTION_DATA_HINT = (
    'PATCH /api/v2/flows/instances/settings/executiondata {"enabled": true}, then republish the flows'
)
INDEX_HINTS = {
    "NOTBUILT": "start a build: POST /api/v2/architect/dependencytracking/build (a scan requests it too)",
    "OPERATIONALNEEDSREBUILD": "results may be stale: POST /api/v2/architect/dependencytracking/build",
    "BUILDINPROGRESS": "a build is running: wait for it (scans wait for it up to their deadline)",
    "BUILDQUEUED": "a build is queued: wait for it",
    "BUILDINITIALIZING": "a build is starting: wait for it",
    "BUILDINCOMPLETE": "the last build did not finish: POST /api/v2/architect/dependencytracking/build",
}


def _last_minute_query() -> Any:
    from flowops.genesys.models import FlowInstanceCriteria, FlowInstanceQuery, genesys_timestamp

    now = datetime.now(UTC)
    return FlowInstanceQuery.all_of(
        FlowInstanceCriteria(
            key="FlowStartDateTime", operator="gte", value=genesys_timestamp(now - timedelta(minutes=1))
        ),
        FlowInstanceCriteria(key="FlowStartDateTime", operator="lt", value=genesys_timestamp(now)),
    )


class GenesysTarget(BaseModel):
    """Where and as whom doctor talks to Genesys. The secret never leaves `credentials`."""

    description: str
    region: str | None = None
    base_url: str | None = None
    secret_id: str | None = None
    local_credentials: tuple[str, str] | None = None
    credentials_problem: str | None = None

    def __repr__(self) -> str:
        return f"GenesysTarget({self.description!r})"


def genesys_target(connection: Any | None) -> GenesysTarget:
    """From GENESYS_* settings; else the running local cloud's simulator with its local client."""
    from flowops.config import GenesysSettings

    settings = GenesysSettings()
    if settings.genesys_region or settings.genesys_base_url:
        where = settings.genesys_base_url or f"region {settings.genesys_region}"
        return GenesysTarget(
            description=f"{where} (secret {settings.genesys_secret_id or 'not set'})",
            region=settings.genesys_region,
            base_url=settings.genesys_base_url,
            secret_id=settings.genesys_secret_id,
        )
    if connection is not None and connection.genesys_base_url:
        # The credentials the stack's functions use: the secret their GENESYS_SECRET_ID names,
        # read from the local cloud's Secrets Manager — not a built-in pair, so a wrong secret
        # fails here exactly as it fails every scan and publish.
        secret_id, credentials, problem = _local_stack_credentials(connection)
        return GenesysTarget(
            description=f"local simulator {connection.genesys_base_url} (secret {secret_id or 'not found'})",
            base_url=connection.genesys_base_url,
            secret_id=secret_id,
            local_credentials=credentials,
            credentials_problem=problem,
        )
    return GenesysTarget(description="not configured")


def _local_stack_credentials(connection: Any) -> tuple[str | None, tuple[str, str] | None, str | None]:
    """(secret id, (client id, client secret), problem) of the local stack's Genesys secret."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        secret_id = None
        for page in connection.client("lambda").get_paginator("list_functions").paginate():
            for function in page["Functions"]:
                variables = function.get("Environment", {}).get("Variables", {})
                if variables.get("GENESYS_SECRET_ID"):
                    secret_id = str(variables["GENESYS_SECRET_ID"])
                    break
            if secret_id:
                break
        if secret_id is None:
            return None, None, "no function of the local stack names a GENESYS_SECRET_ID"
        value = connection.client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"]
    except (BotoCoreError, ClientError) as error:
        return None, None, f"cannot read the local stack's Genesys secret: {type(error).__name__}"
    try:
        document = json.loads(value)
        return secret_id, (str(document["client_id"]), str(document["client_secret"])), None
    except (ValueError, KeyError, TypeError):
        return secret_id, None, f"secret {secret_id} is not JSON with client_id and client_secret"


def build_client(target: GenesysTarget) -> Any:
    """A Genesys client for `target`; raises ConfigurationError / AuthenticationError-like errors."""
    from flowops.genesys import ClientCredentials, GenesysClient
    from flowops.genesys.credentials import load_credentials_from_secrets_manager
    from flowops.genesys.regions import resolve_endpoints

    resolve_endpoints(region=target.region, base_url=target.base_url)
    if target.local_credentials is not None:
        client_id, client_secret = target.local_credentials
        credentials = ClientCredentials(client_id=client_id, client_secret=client_secret)
    else:
        credentials = load_credentials_from_secrets_manager(target.secret_id or "")
    return GenesysClient(credentials, region=target.region, base_url=target.base_url)


def genesys_checks(
    target: GenesysTarget, client_factory: Callable[[GenesysTarget], Any] = build_client
) -> list[Check]:
    from botocore.exceptions import BotoCoreError, ClientError

    from flowops.genesys.errors import (
        AuthenticationError,
        BadRequestError,
        ConfigurationError,
        ForbiddenError,
        GenesysError,
        GenesysUnavailableError,
        NotFoundError,
    )

    checks: list[Check] = []
    if target.credentials_problem:
        return [
            Check(
                name="Genesys credentials secret",
                status="fail",
                detail=target.credentials_problem,
                hint='store {"client_id": ..., "client_secret": ...} in the secret the functions name',
            )
        ]
    try:
        client = client_factory(target)
    except (BotoCoreError, ClientError) as error:
        return [
            Check(
                name="Genesys credentials secret",
                status="fail",
                detail=f"cannot read secret {target.secret_id!r}: {error}",
                hint="check GENESYS_SECRET_ID, your AWS credentials and secretsmanager:GetSecretValue",
            )
        ]
    except ConfigurationError as error:
        return [
            Check(
                name="Genesys location and credentials",
                status="fail",
                detail=str(error),
                hint="set GENESYS_REGION (e.g. eu_west_1) or GENESYS_BASE_URL, and GENESYS_SECRET_ID",
            )
        ]
    checks.append(Check(name="Genesys location", status="pass", detail=target.description))
    try:
        client.tokens.access_token()
    except AuthenticationError as error:
        checks.append(
            Check(
                name="Credentials",
                status="fail",
                detail=str(error),
                hint="check the OAuth client id/secret in the secret, and that the region is the org's "
                "region (a client-credentials client exists in one region only)",
            )
        )
        return checks
    except GenesysUnavailableError as error:
        checks.append(
            Check(
                name="Credentials",
                status="fail",
                detail=f"cannot reach the login host: {error}",
                hint="check network access and GENESYS_REGION / GENESYS_BASE_URL",
                unreachable=True,
            )
        )
        return checks
    checks.append(Check(name="Credentials", status="pass", detail="token issued (region is right)"))

    results: dict[str, Any] = {}
    for probe, call in PERMISSION_PROBES:
        name = f"Permission {probe.permission}"
        allowed = Check(name=name, status="pass", detail=f"{probe.endpoint} allowed ({probe.used_by})")
        try:
            results[probe.permission] = call(client)
        except (NotFoundError, BadRequestError):
            checks.append(allowed)  # the permission passed; the probe's object does not exist
            continue
        except ForbiddenError as error:
            missing = " or ".join(error.missing_permissions) or probe.permission
            if probe.optional:
                checks.append(
                    Check(
                        name=name,
                        status="warn",
                        detail=f"{probe.endpoint} refused: missing {missing} (optional: "
                        f"{probe.effect_when_missing or 'a check is skipped'})",
                        hint=f"add {missing} to the OAuth client's role for the full check",
                    )
                )
                continue
            checks.append(
                Check(
                    name=name,
                    status="fail",
                    detail=f"{probe.endpoint} refused: missing {missing} (needed by {probe.used_by})",
                    hint=f"add {missing} to the OAuth client's role",
                )
            )
            continue
        except GenesysUnavailableError as error:
            checks.append(
                Check(
                    name=name,
                    status="fail",
                    detail=str(error),
                    hint="Genesys did not answer",
                    unreachable=True,
                )
            )
            continue
        except GenesysError as error:
            checks.append(Check(name=name, status="fail", detail=f"{probe.endpoint}: {error}", hint=""))
            continue
        checks.append(allowed)
    checks.append(
        Check(
            name="Write permissions",
            status="skip",
            detail="not probed (only a write would prove them): "
            + ", ".join(f"{permission} [{used}]" for permission, used in WRITE_PERMISSIONS),
            hint="grant them to the OAuth client's role (docs/deploy.md lists the whole role)",
        )
    )

    status = results.get("architect:dependencyTracking:view")
    if status is not None:
        value = str(status.status)
        failed = len(status.failed_objects or [])
        checks.append(
            Check(
                name="Dependency index",
                status="pass" if value == "OPERATIONAL" else "fail",
                detail=value + (f", {failed} objects failed to index" if failed else ""),
                hint=INDEX_HINTS.get(value, ""),
            )
        )
    settings = results.get("architect:flowinstanceexecutiondata:view")
    if settings is not None:
        checks.append(
            Check(
                name="Execution data storage",
                status="pass" if settings.enabled else "fail",
                detail="enabled" if settings.enabled else "disabled: `flowops trace` finds no execution data",
                hint="" if settings.enabled else ENABLE_EXECUTION_DATA_HINT,
            )
        )
    return checks


def stack_checks(connection: Any | None, connect_error: str | None) -> list[Check]:
    if connection is None:
        return [
            Check(
                name="Stack",
                status="fail",
                detail=connect_error or "no stack configured",
                hint="start `flowops local up`, or set ARTIFACTS_BUCKET, STATE_TABLE, AUDIT_TABLE "
                "for a deployed stack",
                unreachable=True,
            )
        ]
    from botocore.exceptions import BotoCoreError, ClientError

    probes: list[tuple[str, Callable[[], Any], str]] = [
        (
            f"Artifacts bucket {connection.artifacts_bucket}",
            lambda: connection.client("s3").head_bucket(Bucket=connection.artifacts_bucket),
            "s3:ListBucket",
        ),
        (
            f"State table {connection.state_table}",
            lambda: connection.client("dynamodb").describe_table(TableName=connection.state_table),
            "dynamodb:DescribeTable",
        ),
    ]
    if connection.scan_state_machine_arn:
        probes.append(
            (
                "Scan state machine",
                lambda: connection.client("stepfunctions").describe_state_machine(
                    stateMachineArn=connection.scan_state_machine_arn
                ),
                "states:DescribeStateMachine",
            )
        )
    checks: list[Check] = []
    where = connection.aws_endpoint_url or f"AWS {connection.region}"
    for name, call, action in probes:
        try:
            call()
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            denied = code in {"AccessDenied", "AccessDeniedException", "403"}
            checks.append(
                Check(
                    name=name,
                    status="fail",
                    detail=f"{code or 'error'} at {where}",
                    hint=f"allow {action} for your AWS identity"
                    if denied
                    else "deploy the stack (or check its name/region)",
                )
            )
        except BotoCoreError as error:
            checks.append(
                Check(
                    name=name,
                    status="fail",
                    detail=f"{where}: {error}",
                    hint="check the endpoint/region",
                    unreachable=True,
                )
            )
        else:
            checks.append(Check(name=name, status="pass", detail=f"reachable at {where}"))
    return checks


def _mark(status: Status) -> str:
    return {"pass": "PASS", "fail": "FAIL", "warn": "WARN", "skip": "SKIP"}[status]


def doctor_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document (for scripts).")] = False,
) -> None:
    """Check the configuration end to end, one row per check with a fix hint.

    Checks the Genesys location, the credentials (which also proves the region), every
    permission flowops needs, the dependency index, execution-data storage, and the stack.
    Exit code 0 all pass, 1 a check failed, 3 Genesys or the stack is unreachable.
    """
    from flowops.cli.local_cloud import CloudUnavailableError, connect

    connection, connect_error = None, None
    try:
        connection = connect()
    except CloudUnavailableError as error:
        connect_error = str(error)
    checks = [*genesys_checks(genesys_target(connection)), *stack_checks(connection, connect_error)]
    failed = [check for check in checks if check.status == "fail"]
    if as_json:
        document = {"ok": not failed, "checks": [check.model_dump(mode="json") for check in checks]}
        typer.echo(json.dumps(document, indent=2))
    else:
        rows: list[list[str]] = []
        for check in checks:
            rows.append([_mark(check.status), check.name, check.detail])
            if check.status in ("fail", "warn") and check.hint:
                rows.append(["", "", f"fix: {check.hint}"])
        table(["", "check", "result"], rows)
        echo(
            f"\n{len(checks) - len(failed)}/{len(checks)} checks passed" if failed else "\nall checks passed"
        )
    if failed:
        first = next((check for check in failed if check.unreachable), failed[0])
        fix = f" — fix: {first.hint}" if first.hint else ""
        echo(f"error: {len(failed)} of {len(checks)} checks failed; first: {first.name}{fix}", err=True)
    if any(check.unreachable for check in failed):
        raise typer.Exit(exit_codes.UNREACHABLE)
    if failed:
        raise typer.Exit(exit_codes.FAILURE_FOUND)


def register(app: typer.Typer) -> None:
    app.command("doctor")(doctor_command)
