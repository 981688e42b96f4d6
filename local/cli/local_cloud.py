"""`flowops local up`, and how the other commands find the cloud they talk to.

`local up` runs the simulator and the AWS emulation (moto server on 127.0.0.1, holding the
stack's resources) until Ctrl-C and records their endpoints in `.flowops/local/endpoints.json`.
Other commands read that file and talk to the emulation with plain boto3 and an endpoint URL —
the same code path as against a deployed stack, where the names come from the environment
(ARTIFACTS_BUCKET, STATE_TABLE, AUDIT_TABLE, FLOWOPS_ORG, FLOWOPS_SCAN_STATE_MACHINE_ARN).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlparse

import typer
from pydantic import BaseModel, ValidationError

from local.cli import exit_codes

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ENDPOINTS_FILE = PROJECT_ROOT / ".flowops" / "local" / "endpoints.json"
ENDPOINTS_FILE_VARIABLE = "FLOWOPS_LOCAL_ENDPOINTS"  # another location (tests, several clouds)
LOCAL_REGION = "us-east-1"
SCAN_STATE_MACHINE = "ScanWorkflow/StateMachine"  # construct path tail of the scan state machine

local_app = typer.Typer(help="The local cloud: Genesys simulator + AWS emulation.", no_args_is_help=True)


class CloudUnavailableError(Exception):
    """No cloud to talk to: nothing running locally and no deployed stack configured."""


class NoLockError(Exception):
    """The org has no current lock yet (run a scan first)."""


class CloudConnection(BaseModel):
    """Where the stack's resources are. `aws_endpoint_url` is None for a deployed stack."""

    aws_endpoint_url: str | None = None
    region: str = LOCAL_REGION
    org: str
    artifacts_bucket: str
    state_table: str
    audit_table: str
    scan_state_machine_arn: str | None = None
    genesys_base_url: str | None = None
    # `POST /publish` of the local webhook endpoint (local/webhook_server.py) while `local up` runs.
    webhook_url: str | None = None

    def client(self, service: str) -> Any:
        import boto3

        options: dict[str, Any] = {"region_name": self.region}
        if self.aws_endpoint_url:
            # The local emulation accepts any credentials; never pick up real ones for it.
            options |= {
                "endpoint_url": self.aws_endpoint_url,
                "aws_access_key_id": "local",
                "aws_secret_access_key": "local",
            }
        return boto3.session.Session().client(service, **options)


def endpoints_file() -> Path:
    override = os.environ.get(ENDPOINTS_FILE_VARIABLE)
    return Path(override) if override else ENDPOINTS_FILE


def write_endpoints(connection: CloudConnection, path: Path | None = None) -> None:
    path = path or endpoints_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(connection.model_dump_json(indent=2), encoding="utf-8")


def remove_endpoints(path: Path | None = None) -> None:
    (path or endpoints_file()).unlink(missing_ok=True)


def running_local_cloud(path: Path | None = None) -> CloudConnection | None:
    """The running `local up`, if its endpoints file exists and its endpoint answers."""
    path = path or endpoints_file()
    if not path.is_file():
        return None
    try:
        connection = CloudConnection.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, ValidationError):
        return None
    return connection if connection.aws_endpoint_url and _answers(connection.aws_endpoint_url) else None


def deployed_stack_from_environment() -> CloudConnection | None:
    names = ("ARTIFACTS_BUCKET", "STATE_TABLE", "AUDIT_TABLE")
    if not all(os.environ.get(name) for name in names):
        return None
    return CloudConnection(
        region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or LOCAL_REGION,
        org=os.environ.get("FLOWOPS_ORG", "dev"),
        artifacts_bucket=os.environ["ARTIFACTS_BUCKET"],
        state_table=os.environ["STATE_TABLE"],
        audit_table=os.environ["AUDIT_TABLE"],
        scan_state_machine_arn=os.environ.get("FLOWOPS_SCAN_STATE_MACHINE_ARN"),
    )


def connect() -> CloudConnection:
    """The cloud the commands talk to: a running `local up` first, else a deployed stack."""
    connection = running_local_cloud() or deployed_stack_from_environment()
    if connection is None:
        raise CloudUnavailableError(
            "no cloud to talk to: start one with `flowops local up` (or set ARTIFACTS_BUCKET, STATE_TABLE, "
            "AUDIT_TABLE for a deployed stack)"
        )
    return connection


def read_current_lock(connection: CloudConnection) -> Any:
    """The org's current lock, read and verified through `flowops.store`."""
    from flowops.lock import parse_lock
    from flowops.store import ArtifactStore, LockPointerStore, StoreError

    try:
        pointer = LockPointerStore(connection.state_table, connection.client("dynamodb")).get_current(
            connection.org
        )
        if pointer is None:
            raise NoLockError(f"org {connection.org!r} has no current lock yet: run `flowops scan` first")
        body = ArtifactStore(connection.artifacts_bucket, connection.client("s3")).get_bytes(pointer.key)
    except StoreError as error:
        raise CloudUnavailableError(f"cannot read the current lock: {error}") from error
    return parse_lock(body)


class EmbeddedCloudError(Exception):
    """The embedded cloud could not start; `exit_code` says whether it is input or environment."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class EmbeddedCloud:
    """A simulator and a LocalCloud started together, and the connection to reach them."""

    def __init__(self, simulator: Any, cloud: Any, connection: CloudConnection) -> None:
        self.simulator = simulator
        self.cloud = cloud
        self.connection = connection


@contextmanager
def embedded_cloud(
    *,
    flows: int = 200,
    seed: int = 1,
    org_file: Path | None = None,
    faults: str | None = None,
    time_scale: float = 60.0,
    mode: Literal["in-process", "server"] = "in-process",
    aws_port: int = 0,
) -> Iterator[EmbeddedCloud]:
    """Start the Genesys simulator and the stack's resources in moto; stop both on exit."""
    from flowops.clock import ScaledClock

    from local.runtime.cloud import LOCAL_GENESYS_CREDENTIALS, LocalCloud
    from local.simulator import FaultSpecError, OrgFileError, SimulatorServer, generate_org, load_org_file
    from local.simulator.faults import Faults

    if time_scale <= 0:
        raise EmbeddedCloudError("--time-scale must be positive", exit_codes.USAGE_ERROR)
    try:
        parsed_faults = Faults.parse(faults)
    except FaultSpecError as error:
        raise EmbeddedCloudError(str(error), exit_codes.USAGE_ERROR) from None
    clock = ScaledClock(time_scale)
    try:
        org = (
            load_org_file(org_file, now=clock.now())
            if org_file
            else generate_org(flows, seed=seed, now=clock.now())
        )
    except OrgFileError as error:
        raise EmbeddedCloudError(str(error), exit_codes.USAGE_ERROR) from None
    except OSError as error:
        raise EmbeddedCloudError(
            f"cannot read {org_file}: {error.strerror or error}", exit_codes.USAGE_ERROR
        ) from None

    client_id, client_secret = LOCAL_GENESYS_CREDENTIALS
    try:
        simulator = SimulatorServer(
            org, clock=clock, faults=parsed_faults, client_id=client_id, client_secret=client_secret
        )
        simulator.start()
    except OSError as error:
        raise EmbeddedCloudError(f"cannot start the simulator: {error}", exit_codes.UNREACHABLE) from None
    try:
        cloud = LocalCloud(
            genesys_base_url=simulator.url,
            env_overrides={"FLOWOPS_TIME_SCALE": str(time_scale)},
            mode=mode,
            port=aws_port,
        )
        try:
            cloud.start()
        except OSError as error:
            raise EmbeddedCloudError(
                f"cannot start the AWS emulation: {error}", exit_codes.UNREACHABLE
            ) from None
        try:
            environment = cloud.function_environment("CheckDependencyIndex")
            connection = CloudConnection(
                aws_endpoint_url=cloud.endpoint_url,
                region=cloud.region,
                org=environment.get("FLOWOPS_ORG", "dev"),
                artifacts_bucket=environment["ARTIFACTS_BUCKET"],
                state_table=environment["STATE_TABLE"],
                audit_table=environment["AUDIT_TABLE"],
                scan_state_machine_arn=cloud.state_machine_arn(SCAN_STATE_MACHINE),
                genesys_base_url=simulator.url,
            )
            yield EmbeddedCloud(simulator, cloud, connection)
        finally:
            cloud.stop()
    finally:
        simulator.stop()


def _wait_for_interrupt() -> None:
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    finally:
        signal.signal(signal.SIGTERM, previous)


def _answers(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 80), timeout=1):
            return True
    except OSError:
        return False


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


@local_app.command("up")
def up(
    flows: Annotated[int, typer.Option(help="Flows in the generated org.", min=1)] = 200,
    seed: Annotated[int, typer.Option(help="Seed of the generated org.")] = 1,
    org_file: Annotated[
        Path | None, typer.Option("--org-file", help="Load the org from this JSON file.")
    ] = None,
    faults: Annotated[str | None, typer.Option(help="Simulator fault spec, e.g. '5xx=0.2'.")] = None,
    time_scale: Annotated[float, typer.Option(help="Simulated seconds per real second.")] = 60.0,
    aws_port: Annotated[int, typer.Option(help="Port of the AWS emulation (0 picks a free one).")] = 0,
    webhook_port: Annotated[
        int, typer.Option(help="Port of the local webhook API on 127.0.0.1 (0 picks a free one).")
    ] = 0,
) -> None:
    """Run the simulator, the AWS emulation and the webhook API until Ctrl-C."""
    from local.webhook_server import LocalWebhookServer, WebhookFunctionMissingError, WebhookServerError

    try:
        with (
            embedded_cloud(
                flows=flows,
                seed=seed,
                org_file=org_file,
                faults=faults,
                time_scale=time_scale,
                mode="server",
                aws_port=aws_port,
            ) as embedded,
            LocalWebhookServer(embedded.cloud, port=webhook_port) as webhook,
        ):
            connection = embedded.connection.model_copy(update={"webhook_url": webhook.publish_url})
            write_endpoints(connection)
            typer.echo(f"genesys simulator   {connection.genesys_base_url}")
            typer.echo(f"aws emulation       {connection.aws_endpoint_url}  (region {connection.region})")
            typer.echo(f"artifacts bucket    {connection.artifacts_bucket}")
            typer.echo(f"state table         {connection.state_table}")
            typer.echo(f"scan state machine  {connection.scan_state_machine_arn}")
            typer.echo(f"webhook api         {connection.webhook_url}")
            typer.echo("ready: `flowops scan` and `flowops graph` now talk to this cloud. Ctrl-C stops.")
            try:
                _wait_for_interrupt()
            except KeyboardInterrupt:
                typer.echo("stopping", err=True)
            finally:
                remove_endpoints()
    except EmbeddedCloudError as error:
        raise _fail(str(error), error.exit_code) from None
    except (WebhookFunctionMissingError, WebhookServerError) as error:
        raise _fail(f"cannot serve the webhook API: {error}", exit_codes.UNREACHABLE) from None


def register(app: typer.Typer) -> None:
    app.add_typer(local_app, name="local")
