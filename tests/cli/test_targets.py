"""`flowops --target local|aws --stack --profile --region`: which cloud the commands talk to.

A deployed stack is a CloudFormation stack in moto whose template has the flowops outputs;
`connect()` must find the resources from those outputs alone (no ARTIFACTS_BUCKET & co. in the
environment), and every lookup problem must end as one error line with exit code 2 or 3.
"""

from __future__ import annotations

import ast
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import typer
from typer.testing import CliRunner

from flowops.cli import app, exit_codes, local_cloud
from flowops.cli.local_cloud import (
    OUTPUT_ALARM_TOPIC,
    OUTPUT_API_URL,
    OUTPUT_ORG_KEY,
    OUTPUT_PUBLISH_STATE_MACHINE,
    OUTPUT_SCAN_STATE_MACHINE,
    OUTPUT_TRACE_STATE_MACHINE,
    CloudConnection,
    CloudUnavailableError,
    EmbeddedCloudError,
    StackLookupError,
    Target,
    TargetSelection,
    connect,
    embedded_cloud,
    write_endpoints,
)
from flowops.local.simulator.org import OrgSourceError, load_or_generate_org
from flowops.lock import LockedFlow, Lockfile, canonical_bytes, lock_sha256
from flowops.store import ArtifactStore, LockPointerStore, lock_key
from infra.constants import (
    OUTPUT_ARTIFACTS_BUCKET,
    OUTPUT_AUDIT_TABLE,
    OUTPUT_STATE_TABLE,
    PARTITION_KEY,
    PROJECT_ROOT,
    SORT_KEY,
)

REGION = "us-east-1"
ACCOUNT_ARN = f"arn:aws:states:{REGION}:123456789012:stateMachine"


@pytest.fixture(autouse=True)
def target_not_chosen() -> Iterator[None]:
    """The root callback stores the selection in a module value: start and end each test clean."""
    local_cloud.select_target(TargetSelection())
    yield
    local_cloud.select_target(TargetSelection())


def stack_outputs(**overrides: str | None) -> dict[str, str]:
    """The outputs of a deployed flowops stack; an override of None leaves that output out."""
    outputs: dict[str, str | None] = {
        OUTPUT_ARTIFACTS_BUCKET: "flowops-dev-artifacts",
        OUTPUT_STATE_TABLE: "flowops-dev-state",
        OUTPUT_AUDIT_TABLE: "flowops-dev-audit",
        OUTPUT_SCAN_STATE_MACHINE: f"{ACCOUNT_ARN}:ScanWorkflow",
        OUTPUT_PUBLISH_STATE_MACHINE: f"{ACCOUNT_ARN}:PublishWorkflow",
        OUTPUT_TRACE_STATE_MACHINE: f"{ACCOUNT_ARN}:TraceWorkflow",
        OUTPUT_API_URL: "https://abc123.execute-api.us-east-1.amazonaws.com/v1/publish",
        OUTPUT_ALARM_TOPIC: f"arn:aws:sns:{REGION}:123456789012:flowops-alarms",
        **overrides,
    }
    return {key: value for key, value in outputs.items() if value is not None}


def create_stack(name: str, outputs: dict[str, str], region: str = REGION) -> None:
    """A CloudFormation stack (in moto) with the given literal outputs, like a deployed flowops."""
    template = {
        "Resources": {"Marker": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    boto3.client("cloudformation", region_name=region).create_stack(
        StackName=name, TemplateBody=json.dumps(template)
    )


def aws_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, profiles: dict[str, str]) -> None:
    """AWS config and credentials files with the given profiles (name → region). Credentials of an
    explicitly named profile come from these files only (botocore skips the environment then)."""
    config = tmp_path / "aws-config"
    config.write_text(
        "".join(f"[profile {name}]\nregion = {region}\n" for name, region in profiles.items()),
        encoding="utf-8",
    )
    credentials = tmp_path / "aws-credentials"
    credentials.write_text(
        "".join(
            f"[{name}]\naws_access_key_id = testing\naws_secret_access_key = testing\n" for name in profiles
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))


def one_line_error(result: Any) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert "Traceback" not in result.output
    return str(lines[0])


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# ---- finding a deployed stack from its outputs ---------------------------------------------------


def test_connect_finds_a_deployed_stacks_resources_from_its_outputs(moto_aws: None, no_cloud: None) -> None:
    # Given a deployed prod stack (no resource names in the environment)
    create_stack("Flowops-prod", stack_outputs(**{OUTPUT_ARTIFACTS_BUCKET: "flowops-prod-artifacts"}))

    # When the CLI connects to it by name and region
    connection = connect(TargetSelection(target=Target.AWS, stack="Flowops-prod", region=REGION))

    # Then every resource comes from the outputs, and the org is the stack's environment
    assert connection.aws_endpoint_url is None and connection.region == REGION
    assert connection.artifacts_bucket == "flowops-prod-artifacts"
    assert (connection.state_table, connection.audit_table) == ("flowops-dev-state", "flowops-dev-audit")
    assert connection.scan_state_machine_arn == f"{ACCOUNT_ARN}:ScanWorkflow"
    assert connection.publish_state_machine_arn == f"{ACCOUNT_ARN}:PublishWorkflow"
    assert connection.trace_state_machine_arn == f"{ACCOUNT_ARN}:TraceWorkflow"
    assert connection.webhook_url == stack_outputs()[OUTPUT_API_URL]
    assert connection.alarm_topic_arn == stack_outputs()[OUTPUT_ALARM_TOPIC]
    assert (connection.stack_name, connection.org) == ("Flowops-prod", "prod")


def test_the_org_key_output_wins_over_the_stack_name(moto_aws: None, no_cloud: None) -> None:
    # Given a stack whose functions use an explicit org key
    create_stack("Flowops-dev", stack_outputs(**{OUTPUT_ORG_KEY: "acme-eu"}))

    # When the CLI connects with the default stack name
    connection = connect(TargetSelection(target=Target.AWS, region=REGION))

    # Then the org is the output's
    assert connection.org == "acme-eu"


def test_profile_gives_the_region_and_the_clients(
    moto_aws: None, no_cloud: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a profile "ops" whose region holds the stack (and no region in the environment)
    aws_config(tmp_path, monkeypatch, {"ops": "eu-west-1"})
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    create_stack("Flowops-dev", stack_outputs(), region="eu-west-1")

    # When the CLI connects with that profile only
    connection = connect(TargetSelection(target=Target.AWS, profile="ops"))

    # Then the region is the profile's and the connection's clients use the profile's region
    assert (connection.region, connection.profile) == ("eu-west-1", "ops")
    assert connection.client("s3").meta.region_name == "eu-west-1"


def test_a_command_with_target_aws_reads_the_stack_named_by_its_outputs(
    moto_aws: None, no_cloud: None
) -> None:
    # Given a deployed stack whose bucket and table hold a current lock for its org
    create_stack("Flowops-dev", stack_outputs())
    boto3.client("s3", region_name=REGION).create_bucket(Bucket="flowops-dev-artifacts")
    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName="flowops-dev-state",
        KeySchema=[
            {"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": SORT_KEY, "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": PARTITION_KEY, "AttributeType": "S"},
            {"AttributeName": SORT_KEY, "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    lock = Lockfile(
        org="dev", flows=[LockedFlow(id="f-1", name="Main", type="INBOUNDCALL", published_version="2.0")]
    )
    sha = lock_sha256(lock)
    ArtifactStore("flowops-dev-artifacts", boto3.client("s3", region_name=REGION)).put_immutable(
        lock_key("dev", sha), canonical_bytes(lock)
    )
    LockPointerStore("flowops-dev-state", boto3.client("dynamodb", region_name=REGION)).advance(
        "dev", sha, None, key=lock_key("dev", sha), scan_id="s1"
    )

    # When `lock show` runs against the stack
    result = CliRunner().invoke(app, ["--target", "aws", "--region", REGION, "lock", "show", "--json"])

    # Then it shows the stack's current lock
    assert result.exit_code == exit_codes.OK, result.output
    assert json.loads(result.stdout)["lock_sha256"] == sha


# ---- errors: one line, documented exit code, never a fallback to a local cloud -------------------


def test_a_missing_stack_is_a_configuration_error_even_for_commands_that_can_embed(
    moto_aws: None, no_cloud: None
) -> None:
    # Given no stack named Flowops-test
    # When a scan (which starts an embedded cloud when nothing is chosen) names that stack
    result = CliRunner().invoke(app, ["--stack", "Flowops-test", "--region", REGION, "scan", "--json"])

    # Then it stops with one line and exit 2, without starting anything local
    assert result.exit_code == exit_codes.USAGE_ERROR, result.output
    assert "'Flowops-test'" in one_line_error(result) and "does not exist" in result.stderr
    assert result.stdout == ""


def test_a_stack_without_the_flowops_outputs_is_a_configuration_error(moto_aws: None, no_cloud: None) -> None:
    # Given a stack that lacks the trace state machine output (deployed by an older flowops)
    create_stack("Flowops-dev", stack_outputs(**{OUTPUT_TRACE_STATE_MACHINE: None}))

    # When a command needs the stack
    result = CliRunner().invoke(app, ["--target", "aws", "--region", REGION, "runs", "list", "--json"])

    # Then the missing output is named
    assert result.exit_code == exit_codes.USAGE_ERROR, result.output
    assert OUTPUT_TRACE_STATE_MACHINE in one_line_error(result)


def test_cloudformation_that_cannot_be_reached_is_exit_3(
    aws_credentials: None, no_cloud: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a CloudFormation endpoint where nothing listens
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDFORMATION", f"http://127.0.0.1:{closed_port()}")

    # When a command looks the stack up
    result = CliRunner().invoke(app, ["--target", "aws", "lock", "show"])

    # Then it is unreachable, in one line
    assert result.exit_code == exit_codes.UNREACHABLE, result.output
    assert "cannot reach CloudFormation" in one_line_error(result)


def test_an_unknown_profile_is_a_configuration_error(
    aws_credentials: None, no_cloud: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an AWS config without the profile "nope"
    aws_config(tmp_path, monkeypatch, {"ops": REGION})

    # When a command names it
    result = CliRunner().invoke(app, ["--profile", "nope", "graph", "cycles"])

    # Then it says so with exit 2
    assert result.exit_code == exit_codes.USAGE_ERROR, result.output
    assert "profile 'nope'" in one_line_error(result)


def test_missing_credentials_are_a_configuration_error(
    no_cloud: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given no credentials anywhere (environment, files, instance metadata)
    aws_config(tmp_path, monkeypatch, {})
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", raising=False)

    # When a command looks the stack up
    result = CliRunner().invoke(app, ["--target", "aws", "--region", REGION, "lock", "show"])

    # Then it asks for credentials
    assert result.exit_code == exit_codes.USAGE_ERROR, result.output
    assert "no AWS credentials" in one_line_error(result)


def test_aws_options_with_target_local_are_a_usage_error(no_cloud: None) -> None:
    result = CliRunner().invoke(app, ["--target", "local", "--stack", "Flowops-prod", "lock", "show"])
    assert result.exit_code == exit_codes.USAGE_ERROR, result.output
    assert "--stack apply to --target aws only" in one_line_error(result)


def test_stack_lookup_errors_are_not_cloud_unavailable() -> None:
    # Commands start an embedded cloud on CloudUnavailableError: a stack error must never be one.
    assert not issubclass(StackLookupError, CloudUnavailableError)


# ---- the local target -----------------------------------------------------------------------------


def test_target_local_ignores_a_stack_named_by_the_environment(
    no_cloud: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given resource names of a deployed stack in the environment, and no `local up` running
    for name in ("ARTIFACTS_BUCKET", "STATE_TABLE", "AUDIT_TABLE"):
        monkeypatch.setenv(name, f"deployed-{name.lower()}")

    # When the target is not chosen, the environment's stack is used
    assert connect(TargetSelection()).artifacts_bucket == "deployed-artifacts_bucket"

    # When the target is local, it is not: the command says no local cloud runs
    result = CliRunner().invoke(app, ["--target", "local", "lock", "show"])
    assert result.exit_code == exit_codes.UNREACHABLE, result.output
    assert "no local cloud is running" in one_line_error(result)


def test_target_local_finds_a_running_local_up(no_cloud: None, tmp_path: Path) -> None:
    # Given a running `local up` (its endpoints file, and its AWS emulation port answering)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        endpoint = f"http://127.0.0.1:{listener.getsockname()[1]}"
        running = CloudConnection(
            aws_endpoint_url=endpoint, org="dev", artifacts_bucket="b", state_table="s", audit_table="a"
        )
        write_endpoints(running)

        # When the CLI connects to the local target (or with no target chosen)
        local = connect(TargetSelection(target=Target.LOCAL))
        default = connect(TargetSelection())

    # Then both are that local cloud
    assert local.aws_endpoint_url == default.aws_endpoint_url == endpoint


# ---- org loading shared by `sim serve` and the embedded cloud -----------------------------------


def test_load_or_generate_org_reports_every_problem_as_one_error_type(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    for arguments in ({"org_file": broken}, {"org_file": tmp_path / "absent.json"}, {"flows": 0}):
        with pytest.raises(OrgSourceError):
            load_or_generate_org(**arguments)
    # and a generated org is the same for the same seed
    first, second = load_or_generate_org(flows=12, seed=3), load_or_generate_org(flows=12, seed=3)
    assert len(first.flows) == 12 and sorted(first.flows) == sorted(second.flows)


def test_sim_serve_and_the_embedded_cloud_report_a_bad_org_file_alike(tmp_path: Path) -> None:
    # Given an org file with a dangling reference
    org_file = tmp_path / "org.json"
    org_file.write_text(
        json.dumps(
            {
                "flows": [
                    {
                        "id": "f1",
                        "name": "A",
                        "type": "INBOUNDCALL",
                        "consumes": [{"id": "q", "type": "QUEUE"}],
                    }
                ]
            }
        ),
        encoding="utf-8",
    )

    # When `sim serve` and the embedded cloud (scan, trace, local up) load it
    served = CliRunner().invoke(app, ["sim", "serve", "--org-file", str(org_file)])
    with pytest.raises(EmbeddedCloudError) as embedded, embedded_cloud(org_file=org_file):
        pass

    # Then both stop with the same message and exit 2, before starting anything
    assert served.exit_code == exit_codes.USAGE_ERROR == embedded.value.exit_code
    assert one_line_error(served) == f"error: {embedded.value}"
    assert "dangling reference" in str(embedded.value)


# ---- help, colours, and the documented tree ------------------------------------------------------


def _commands(group: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every command under `group` (typer's own click: groups are the commands with `.commands`)."""
    for name, command in sorted(group.commands.items()):
        yield (*prefix, name), command
        if hasattr(command, "commands"):
            yield from _commands(command, (*prefix, name))


def test_every_option_of_every_command_is_explained() -> None:
    root = typer.main.get_command(app)
    unexplained = [
        f"{' '.join(path) or 'flowops'} {parameter.opts[0]}"
        for path, command in [((), root), *_commands(root)]
        for parameter in command.params
        if parameter.param_type_name == "option"
        and parameter.opts[0] != "--help"
        and not (parameter.help or "").strip()
    ]
    assert unexplained == []


@pytest.mark.parametrize("command", [[], ["lock"], ["lock", "show"], ["scan"]])
def test_help_has_no_colours_when_not_a_terminal(monkeypatch: pytest.MonkeyPatch, command: list[str]) -> None:
    # Given a CI environment, where typer's rich help would force terminal output
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("PY_COLORS", raising=False)

    # When help is printed to a pipe
    result = CliRunner().invoke(app, [*command, "--help"])

    # Then there is no escape sequence, and the options are explained
    assert result.exit_code == exit_codes.OK
    assert "\x1b[" not in result.output
    assert "--help  " in result.output
    if not command:
        for option in ("--target", "--stack", "--profile", "--region"):
            assert option in result.output


def test_docs_list_every_command_of_the_tree() -> None:
    # Given the command tree and docs/cli.md
    documented = (PROJECT_ROOT / "docs" / "cli.md").read_text(encoding="utf-8")

    # Then every command (groups too: `trace` runs on its own) has a `flowops …` entry there,
    # and every exit code is documented
    paths = [" ".join(path) for path, _ in _commands(typer.main.get_command(app))]
    assert [path for path in paths if f"`flowops {path}" not in documented] == []
    for code in (exit_codes.OK, exit_codes.FAILURE_FOUND, exit_codes.USAGE_ERROR, exit_codes.UNREACHABLE):
        assert f"| {code} |" in documented


def test_output_keys_match_the_stack_definition() -> None:
    # The CLI keeps copies of the output ids of infra/constructs/operations.py (importing it starts
    # node); read the originals from its source so a rename there fails here.
    source = (PROJECT_ROOT / "infra" / "constructs" / "operations.py").read_text(encoding="utf-8")
    constants = {
        node.targets[0].id: node.value.value
        for node in ast.parse(source).body
        if isinstance(node, ast.Assign)
        and isinstance(node.targets[0], ast.Name)
        and isinstance(node.value, ast.Constant)
    }
    for name in (
        "OUTPUT_SCAN_STATE_MACHINE",
        "OUTPUT_PUBLISH_STATE_MACHINE",
        "OUTPUT_TRACE_STATE_MACHINE",
        "OUTPUT_API_URL",
        "OUTPUT_ALARM_TOPIC",
    ):
        assert getattr(local_cloud, name) == constants[name], name
