"""`flowops local up`, and how the other commands find the cloud they talk to.

`local up` runs the simulator and the AWS emulation (moto server on 127.0.0.1, holding the
stack's resources) until Ctrl-C and records their endpoints in `.flowops/local/endpoints.json`.
Other commands read that file and talk to the emulation with plain boto3 and an endpoint URL —
the same code path as against a deployed stack.

Which cloud `connect()` returns is chosen once per invocation by the root options
(`flowops --target local|aws --stack NAME --profile P --region R`, see docs/cli.md):
- `aws`: a deployed stack, its resources read from the CloudFormation outputs of `--stack`;
- `local`: the running `flowops local up` (commands that can, start an embedded one otherwise);
- neither given: a running `local up`, else a stack named by the environment (ARTIFACTS_BUCKET,
  STATE_TABLE, AUDIT_TABLE, FLOWOPS_ORG, FLOWOPS_SCAN_STATE_MACHINE_ARN — what CI jobs set),
  else an embedded local cloud for the commands that can start one.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlparse

import typer
from pydantic import BaseModel, ValidationError

from flowops.cli import exit_codes
from flowops.cli.targets import (  # re-exported: the commands and tests import them from here
    DEFAULT_STACK,
    CloudUnavailableError,
    StackLookupError,
    Target,
    TargetSelection,
    selected_target,
)
from flowops.cli.targets import (
    select_target as select_target,
)
from flowops.cli.terminal import CliError, fail, safe
from flowops.local.packaged import cdk_context, state_root
from flowops.stacknames import (
    OUTPUT_ARTIFACTS_BUCKET,
    OUTPUT_AUDIT_TABLE,
    OUTPUT_STATE_TABLE,
    STACK_NAME_PREFIX,
)

# The checkout, or (installed as a tool) the current directory: where .flowops/ lives.
PROJECT_ROOT = state_root()
ENDPOINTS_FILE = PROJECT_ROOT / ".flowops" / "local" / "endpoints.json"
ENDPOINTS_FILE_VARIABLE = "FLOWOPS_LOCAL_ENDPOINTS"  # another location (tests, several clouds)
LOCAL_REGION = "us-east-1"
SCAN_STATE_MACHINE = "ScanWorkflow/StateMachine"  # construct path tail of the scan state machine

local_app = typer.Typer(help="The local cloud: Genesys simulator + AWS emulation.", no_args_is_help=True)


# Output keys of a deployed stack that live in infra/constructs/operations.py. That module imports
# aws_cdk (seconds to load, it starts node), so the CLI keeps copies; tests/cli/test_targets.py
# reads the originals from its source and fails when they drift apart.
OUTPUT_SCAN_STATE_MACHINE = "ScanStateMachineArn"
OUTPUT_PUBLISH_STATE_MACHINE = "PublishStateMachineArn"
OUTPUT_TRACE_STATE_MACHINE = "TraceStateMachineArn"
OUTPUT_API_URL = "PublishWebhookUrl"
OUTPUT_ALARM_TOPIC = "AlarmTopicArn"
# Not output by the stack yet (asked for in docs/architecture/cli-targets.md); read when present.
OUTPUT_ORG_KEY = "OrgKey"

# Without these the CLI cannot do its job against the stack; the others are read when present.
REQUIRED_STACK_OUTPUTS: tuple[str, ...] = (
    OUTPUT_ARTIFACTS_BUCKET,
    OUTPUT_STATE_TABLE,
    OUTPUT_AUDIT_TABLE,
    OUTPUT_SCAN_STATE_MACHINE,
    OUTPUT_PUBLISH_STATE_MACHINE,
    OUTPUT_TRACE_STATE_MACHINE,
)


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
    # `POST /publish` of the webhook API: the local endpoint (src/flowops/local/webhook_server.py) while
    # `local up` runs, the stack's `PublishWebhookUrl` output for a deployed stack.
    webhook_url: str | None = None
    # Known for a deployed stack found through `--target aws` (from its outputs).
    stack_name: str | None = None
    profile: str | None = None
    publish_state_machine_arn: str | None = None
    trace_state_machine_arn: str | None = None
    alarm_topic_arn: str | None = None

    @property
    def is_local(self) -> bool:
        """A local cloud (embedded or `local up`): it always comes with the Genesys simulator."""
        return self.genesys_base_url is not None

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
        # Typed as Any: boto3-stubs overloads `client` per literal service name, not for a variable.
        session: Any = boto3.session.Session(profile_name=None if self.aws_endpoint_url else self.profile)
        return session.client(service, **options)


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
        from flowops.bounded import JSON_LIMITS, load_bounded_json
        from flowops.cli._files import read_bounded_bytes

        # A small file flowops writes itself; bounded all the same (users edit dotfiles).
        text = read_bounded_bytes(path, 1024 * 1024, "endpoints file")
        connection = CloudConnection.model_validate(load_bounded_json(text, JSON_LIMITS, "endpoints file"))
    except (OSError, ValueError, ValidationError):
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


def _cloudformation_outputs(selection: TargetSelection) -> tuple[dict[str, str], str, str]:
    """(outputs by key, stack status, region) of the selected stack; StackLookupError otherwise."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        HTTPClientError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
        ProfileNotFound,
    )
    from botocore.exceptions import ConnectionError as BotocoreConnectionError

    stack = selection.stack
    try:
        session = boto3.session.Session(profile_name=selection.profile, region_name=selection.region)
    except ProfileNotFound:
        raise StackLookupError(
            f"AWS profile {selection.profile!r} is not in your AWS config (~/.aws/config)",
            exit_codes.USAGE_ERROR,
        ) from None
    region = session.region_name
    if not region:
        raise StackLookupError(
            "no AWS region: pass --region, set AWS_REGION, or give the profile a region",
            exit_codes.USAGE_ERROR,
        )
    # One retry: a CLI should answer "unreachable" in seconds, not after botocore's default backoff.
    config = Config(connect_timeout=5, read_timeout=20, retries={"mode": "standard", "max_attempts": 2})
    where = f"stack {stack!r} in {region}" + (f" (profile {selection.profile})" if selection.profile else "")
    try:
        described = session.client("cloudformation", config=config).describe_stacks(StackName=stack)
    except (NoCredentialsError, PartialCredentialsError):
        raise StackLookupError(
            f"no AWS credentials to look up {where}: pass --profile or configure credentials",
            exit_codes.USAGE_ERROR,
        ) from None
    except (BotocoreConnectionError, HTTPClientError) as error:
        raise StackLookupError(
            f"cannot reach CloudFormation for {where}: {error}", exit_codes.UNREACHABLE
        ) from None
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        message = str(error.response.get("Error", {}).get("Message", error))
        if code == "ValidationError" and "does not exist" in message:
            raise StackLookupError(
                f"{where} does not exist: deploy it (docs/deploy.md) or pass --stack", exit_codes.USAGE_ERROR
            ) from None
        if code in {"Throttling", "ThrottlingException", "RequestLimitExceeded", "ServiceUnavailable"}:
            raise StackLookupError(
                f"CloudFormation did not answer for {where}: {code}: {message}", exit_codes.UNREACHABLE
            ) from None
        # Access denied, expired or invalid tokens: the user's configuration must change.
        raise StackLookupError(
            f"cannot describe {where}: {code}: {message}", exit_codes.USAGE_ERROR
        ) from None
    except NoRegionError:
        raise StackLookupError(
            "no AWS region: pass --region or set AWS_REGION", exit_codes.USAGE_ERROR
        ) from None
    except BotoCoreError as error:
        # Credential providers (SSO, assume-role, process) fail here: a configuration problem.
        raise StackLookupError(f"cannot look up {where}: {error}", exit_codes.USAGE_ERROR) from None
    stacks = described.get("Stacks") or []
    if not stacks:
        raise StackLookupError(f"{where} does not exist: deploy it or pass --stack", exit_codes.USAGE_ERROR)
    outputs = {
        str(output["OutputKey"]): str(output["OutputValue"])
        for output in stacks[0].get("Outputs") or []
        if "OutputKey" in output and "OutputValue" in output
    }
    return outputs, str(stacks[0].get("StackStatus", "")), region


def _org_of_stack(stack: str, outputs: dict[str, str]) -> str:
    """The org key the stack's functions use: its `OrgKey` output, else FLOWOPS_ORG, else the
    environment in the stack name (`Flowops-prod` → `prod`, the default org key of an environment)."""
    if outputs.get(OUTPUT_ORG_KEY):
        return outputs[OUTPUT_ORG_KEY]
    if os.environ.get("FLOWOPS_ORG"):
        return os.environ["FLOWOPS_ORG"]
    prefix = f"{STACK_NAME_PREFIX}-"
    return stack.removeprefix(prefix) if stack.startswith(prefix) and len(stack) > len(prefix) else "dev"


def deployed_stack_from_outputs(selection: TargetSelection) -> CloudConnection:
    """The resources of a deployed stack, from its CloudFormation outputs (`--target aws`)."""
    outputs, status, region = _cloudformation_outputs(selection)
    missing = [key for key in REQUIRED_STACK_OUTPUTS if not outputs.get(key)]
    if missing:
        raise StackLookupError(
            f"stack {selection.stack!r} ({status or 'unknown status'}) has no output {', '.join(missing)}: "
            "is it a flowops stack, deployed and up to date?",
            exit_codes.USAGE_ERROR,
        )
    return CloudConnection(
        region=region,
        org=_org_of_stack(selection.stack, outputs),
        artifacts_bucket=outputs[OUTPUT_ARTIFACTS_BUCKET],
        state_table=outputs[OUTPUT_STATE_TABLE],
        audit_table=outputs[OUTPUT_AUDIT_TABLE],
        scan_state_machine_arn=outputs[OUTPUT_SCAN_STATE_MACHINE],
        publish_state_machine_arn=outputs[OUTPUT_PUBLISH_STATE_MACHINE],
        trace_state_machine_arn=outputs[OUTPUT_TRACE_STATE_MACHINE],
        webhook_url=outputs.get(OUTPUT_API_URL),
        alarm_topic_arn=outputs.get(OUTPUT_ALARM_TOPIC),
        stack_name=selection.stack,
        profile=selection.profile,
    )


def connect(selection: TargetSelection | None = None) -> CloudConnection:
    """The cloud the commands talk to, as chosen by the root options (see module docstring).

    Raises StackLookupError for `--target aws` problems, CloudUnavailableError when no local
    cloud runs (and, target not chosen, no stack is named by the environment)."""
    selection = selection or selected_target()
    if selection.target is Target.AWS:
        return deployed_stack_from_outputs(selection)
    running = running_local_cloud()
    if running is not None:
        return running
    if selection.target is Target.LOCAL:
        raise CloudUnavailableError("no local cloud is running: start one with `flowops local up`")
    connection = deployed_stack_from_environment()
    if connection is None:
        raise CloudUnavailableError(
            "no cloud to talk to: start one with `flowops local up`, or use a deployed stack with "
            f"`flowops --target aws --stack NAME` (default {DEFAULT_STACK})"
        )
    return connection


EMBEDDED_ONLY_OPTIONS = ("flows", "seed", "org_file", "faults")


def embedded_options_given(ctx: Any, names: tuple[str, ...] = EMBEDDED_ONLY_OPTIONS) -> list[str]:
    """The embedded-cloud options the user typed (or set in the environment) on this command."""
    given = []
    for name in names:
        source = ctx.get_parameter_source(name)
        if source is not None and source.name in {"COMMANDLINE", "ENVIRONMENT"}:
            given.append("--" + name.replace("_", "-"))
    return given


def refuse_embedded_options(ctx: Any, connection: CloudConnection) -> None:
    """`--flows`, `--seed`, `--org-file`, `--faults` shape an EMBEDDED cloud. Against a running
    `local up` or a deployed stack they cannot apply: silently ignoring them would answer a
    different question than the one asked, so they are a usage error."""
    given = embedded_options_given(ctx)
    if not given:
        return
    where = (
        "`flowops local up` is running"
        if connection.is_local
        else f"the command runs against the deployed stack {connection.stack_name or ''}".rstrip()
    )
    raise CliError(
        f"{', '.join(given)} apply to an embedded cloud only, and {where}: "
        + (
            "restart `local up` with them, or stop it to use an embedded cloud"
            if connection.is_local
            else "drop them"
        ),
        exit_codes.USAGE_ERROR,
    )


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
    persist: bool = False,
    environment: str | None = None,
    git: bool = False,
) -> Iterator[EmbeddedCloud]:
    """Start the Genesys simulator and the stack's resources in moto; stop both on exit.

    `persist`: start from the state the last embedded cloud of the same org saved, and save
    this one's when it stops (src/flowops/cli/embedded_state.py) — what the CLI commands do.
    `environment` makes the stack serve that environment of the release chain (its releases,
    and its approval rule from cdk.json `flowops:promotion`) and its org follow that
    environment's Genesys rate model (cdk.json `genesysRateLimit`, `flowops.local.rate_model`;
    dev's without one). `git`: the stack is synthesized
    with Git (`flowops.local.gitserver.hosting.LOCAL_GIT_STACK`) for a cloud that hosts a
    repository."""
    from flowops.clock import ScaledClock
    from flowops.local.rate_model import RateModelError, configured_rate_limit, with_rate_limit
    from flowops.local.runtime.cloud import LOCAL_GENESYS_CREDENTIALS, LocalCloud
    from flowops.local.runtime.synth import DEFAULT_ENVIRONMENT, synth_template
    from flowops.local.simulator import FaultSpecError, SimulatorServer
    from flowops.local.simulator.faults import Faults
    from flowops.local.simulator.org import OrgSourceError, load_or_generate_org

    if time_scale <= 0:
        raise EmbeddedCloudError("--time-scale must be positive", exit_codes.USAGE_ERROR)
    try:
        parsed_faults = Faults.parse(faults)
    except FaultSpecError as error:
        raise EmbeddedCloudError(str(error), exit_codes.USAGE_ERROR) from None
    clock = ScaledClock(time_scale)
    try:
        org = load_or_generate_org(flows=flows, seed=seed, org_file=org_file, now=clock.now())
    except OrgSourceError as error:
        raise EmbeddedCloudError(str(error), exit_codes.USAGE_ERROR) from None

    try:
        rate_limit = configured_rate_limit(cdk_context(), environment or DEFAULT_ENVIRONMENT)
    except RateModelError as error:
        raise EmbeddedCloudError(str(error), exit_codes.USAGE_ERROR) from None

    client_id, client_secret = LOCAL_GENESYS_CREDENTIALS
    try:
        # As strict as the environment's real org: its rate model, on the simulated clock.
        simulator = SimulatorServer(
            org,
            clock=clock,
            faults=parsed_faults,
            client_id=client_id,
            client_secret=client_secret,
            rate_limit_per_minute=rate_limit.requests_per_minute,
            rate_limit_scope=rate_limit.scope,
        )
        simulator.start()
    except OSError as error:
        raise EmbeddedCloudError(f"cannot start the simulator: {error}", exit_codes.UNREACHABLE) from None
    stack_environment = environment
    try:
        overrides = {"FLOWOPS_TIME_SCALE": str(time_scale)}
        if environment is not None:
            overrides |= environment_overrides(environment)
        template = None
        if git:
            from flowops.local.gitserver.hosting import git_stack_template

            template = git_stack_template()
        # The functions that call Genesys follow the same model (shared schedule when shared).
        cloud = LocalCloud(
            with_rate_limit(template if template is not None else synth_template(), rate_limit),
            genesys_base_url=simulator.url,
            env_overrides=overrides,
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
            parameters = None
            if persist:
                from flowops.cli import embedded_state

                parameters = embedded_state.parameters_of(flows, seed, org_file, stack_environment)
                _restore_embedded_state(connection, parameters)
            try:
                yield EmbeddedCloud(simulator, cloud, connection)
            except Exception:
                # A command that failed (a scan execution that failed, a refused publish) leaves
                # the stack's data as a deployed stack would keep it, and its execution is the
                # one to read with `flowops runs show`: kept too, without hiding the failure.
                if parameters is not None:
                    _save_embedded_state(connection, parameters, after_failure=True)
                raise
            if parameters is not None:
                _save_embedded_state(connection, parameters)
        finally:
            cloud.stop()
    finally:
        simulator.stop()


def _restore_embedded_state(connection: CloudConnection, parameters: Any) -> None:
    from flowops.cli import embedded_state

    state = embedded_state.load_state()
    if state is None:
        return
    if state.parameters != parameters or state.org != connection.org:
        print(
            "embedded cloud: a new org "
            f"({_describe(parameters)}); the kept one ({_describe(state.parameters)}) is replaced",
            file=sys.stderr,
        )
        return
    embedded_state.restore(connection, state)


def _save_embedded_state(
    connection: CloudConnection, parameters: Any, *, after_failure: bool = False
) -> None:
    from flowops.cli import embedded_state

    try:
        embedded_state.save(connection, parameters)
    except OSError as error:
        print(f"warning: the embedded cloud's state was not kept: {error}", file=sys.stderr)
    except Exception as error:
        if not after_failure:
            raise
        # The failure being reported may be the cloud itself: that one is the error to show.
        print(f"warning: the embedded cloud's state was not kept: {type(error).__name__}", file=sys.stderr)


def _describe(parameters: Any) -> str:
    where = f" --env {parameters.environment}" if parameters.environment else ""
    if parameters.org_file:
        return f"--org-file {parameters.org_file}{where}"
    return f"--flows {parameters.flows} --seed {parameters.seed}{where}"


def environment_overrides(environment: str) -> dict[str, str]:
    """What a local stack needs to serve `environment` (a deployed one gets it from its config)."""
    context = cdk_context()
    promotion = context.get("flowops:promotion") or {}
    approval = promotion.get("approval") or []
    chain = list(promotion.get("chain") or [])
    return {
        "FLOWOPS_ENVIRONMENT": environment,
        "FLOWOPS_APPROVAL_REQUIRED": str(environment in approval).lower(),
        # The environment this one takes promotions from (the stack refuses any other source).
        "FLOWOPS_PROMOTES_FROM": chain[chain.index(environment) - 1] if environment in chain[1:] else "",
    }


def _rate_limit_of(simulator: Any) -> str:
    settings = simulator.state.settings
    return f"{settings.rate_limit_per_minute} requests/min per {settings.rate_limit_scope} (simulated time)"


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


def local_up_command(environment: str, *, flows: int, seed: int) -> list[str]:
    """`flowops local up --env ENVIRONMENT` as a child process of this Python: one LocalCloud."""
    return [
        sys.executable,
        "-c",
        "from flowops.cli import main; main()",
        "local",
        "up",
        "--env",
        environment,
        "--flows",
        str(flows),
        "--seed",
        str(seed),
    ]


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
    env: Annotated[
        str | None, typer.Option("--env", help="The environment this stack serves (releases, approval).")
    ] = None,
    envs: Annotated[
        str | None,
        typer.Option("--envs", help="Several environments, e.g. dev,test,prod: one org and one stack each."),
    ] = None,
) -> None:
    """Run the simulator, the AWS emulation, the webhook API and a Git server until Ctrl-C.

    The Git server hosts one repository, `flows`, over smart HTTP on 127.0.0.1: a `git push` of
    `main` to it delivers a signed GitHub push webhook and releases (docs/git.md, "Locally").

    Prints a summary and where its logs go; everything the handlers and servers print while
    it runs (JSON logs, request lines) goes to `.flowops/logs/local-up-*.log`, not here."""
    import tempfile

    from flowops.cli.files import logs_to_file
    from flowops.local.gitserver.hosting import BRANCH, LocalGitHosting
    from flowops.local.webhook_server import (
        DEFAULT_LOCAL_ENVIRONMENTS,
        LOCAL_WEBHOOK_SECRET,
        LocalWebhookServer,
        WebhookFunctionMissingError,
        WebhookServerError,
    )

    if envs is not None:
        if env is not None or aws_port or webhook_port:
            raise fail("--envs starts one cloud per environment: leave out --env and the ports", 2)
        _up_several(
            [name.strip() for name in envs.split(",") if name.strip()], flows, seed, faults, time_scale
        )
        return

    terminal_out, terminal_err = sys.stdout, sys.stderr
    failure: tuple[str, int] | None = None
    with logs_to_file("local-up", capture_stderr=True) as log_path:
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
                    environment=env,
                    git=True,
                ) as embedded,
                LocalWebhookServer(embedded.cloud, port=webhook_port) as webhook,
                tempfile.TemporaryDirectory(prefix="flowops-git-") as git_root,
                LocalGitHosting(
                    embedded.cloud,
                    root=Path(git_root),
                    org=embedded.connection.org,
                    environment=env or DEFAULT_LOCAL_ENVIRONMENTS[0],
                    webhook_secret=LOCAL_WEBHOOK_SECRET,
                ) as git,
            ):
                connection = embedded.connection.model_copy(update={"webhook_url": webhook.publish_url})
                write_endpoints(connection)
                org_source = str(org_file) if org_file else f"generated, {flows} flows, seed {seed}"
                rows = [
                    ("genesys simulator", f"{connection.genesys_base_url}  (org: {org_source})"),
                    ("genesys limit", _rate_limit_of(embedded.simulator)),
                    ("aws emulation", f"{connection.aws_endpoint_url}  (region {connection.region})"),
                    ("webhook api", str(connection.webhook_url)),
                    ("git remote", f"{git.remote_url}  (push {BRANCH} to release to {git.environment})"),
                    ("artifacts bucket", connection.artifacts_bucket),
                    ("state table", connection.state_table),
                    ("logs", str(log_path)),
                ]
                for label, value in rows:
                    print(f"{label:<18} {safe(value)}", file=terminal_out, flush=True)
                print(
                    "ready: other flowops commands in this directory now use this cloud. Ctrl-C stops.",
                    file=terminal_out,
                    flush=True,
                )
                try:
                    _wait_for_interrupt()
                except KeyboardInterrupt:
                    print("stopping", file=terminal_err, flush=True)
                finally:
                    remove_endpoints()
        except EmbeddedCloudError as error:
            failure = (str(error), error.exit_code)
        except (WebhookFunctionMissingError, WebhookServerError) as error:
            failure = (f"cannot serve the webhook API: {error}", exit_codes.UNREACHABLE)
        except OSError as error:  # the Git server's port or its repository directory
            failure = (f"cannot serve the local Git server: {error}", exit_codes.UNREACHABLE)
    if failure is not None:
        raise fail(f"{failure[0]} (logs: {log_path})", failure[1])


def _up_several(
    environments: list[str], flows: int, seed: int, faults: str | None, time_scale: float
) -> None:
    """One `local up --env E` process per environment (one LocalCloud per process), each writing
    `endpoints-<E>.json`; the first environment's is also the default endpoints file."""
    import re
    import subprocess
    import time

    if not environments or any(not re.fullmatch(r"[a-z][a-z0-9-]{0,19}", name) for name in environments):
        raise fail("--envs takes environment names like dev,test,prod", exit_codes.USAGE_ERROR)
    base = endpoints_file()
    children: list[tuple[str, subprocess.Popen[bytes], Path]] = []
    try:
        for index, name in enumerate(environments):
            path = base.with_name(f"endpoints-{name}.json")
            path.unlink(missing_ok=True)
            command = local_up_command(name, flows=flows, seed=seed + index)
            command += ["--time-scale", str(time_scale)]
            if faults:
                command += ["--faults", faults]
            child_env = {**os.environ, ENDPOINTS_FILE_VARIABLE: str(path)}
            children.append((name, subprocess.Popen(command, env=child_env, stdout=subprocess.DEVNULL), path))
        deadline = time.monotonic() + 600
        for name, process, path in children:
            while running_local_cloud(path) is None:
                if process.poll() is not None:
                    raise fail(f"the {name} cloud stopped while starting (exit {process.returncode})", 3)
                if time.monotonic() > deadline:
                    raise fail(f"the {name} cloud did not start within 10 minutes", 3)
                time.sleep(0.5)
            connection = running_local_cloud(path)
            assert connection is not None
            typer.echo(f"{name:<6} genesys {connection.genesys_base_url}  aws {connection.aws_endpoint_url}")
        write_endpoints(CloudConnection.model_validate_json(children[0][2].read_text(encoding="utf-8")), base)
        typer.echo(
            f"ready: plan/release/promote/approve pick each environment's stack (default: {environments[0]})."
        )
        _wait_for_interrupt()
    except KeyboardInterrupt:
        typer.echo("stopping", err=True)
    finally:
        for _name, process, _path in children:
            process.terminate()
        for _name, process, path in children:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
            path.unlink(missing_ok=True)
        remove_endpoints(base)


def register(app: typer.Typer) -> None:
    app.add_typer(local_app, name="local")
