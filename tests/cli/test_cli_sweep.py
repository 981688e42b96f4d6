"""The CLI contract, swept over every command (docs/cli.md "Exit codes").

Commands are enumerated from the CLI's own command tree, so a command added later is swept
too. Each runs in-process (typer's CliRunner) in situations an operator hits:

- a bad value for each typed option (numbers, choices, --type, --format, --since, ...);
- a file that does not exist for each path option;
- a flow (or object) that does not exist, with a lock to look it up in;
- no cloud: a deployed stack named by the environment whose AWS endpoint refuses connections,
  and `--target aws` whose CloudFormation cannot be reached;

and must end with ONE `error:` line on stderr (or the help), no traceback, no internal error,
and an exit code from the documented table. `tests/cli/test_cli_dying_cloud.py` covers a cloud
that dies while a long command runs.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from flowops.cli import app, exit_codes, local_cloud
from flowops.cli.local_cloud import TargetSelection
from flowops.lock import canonical_bytes, lock_document_bytes, lock_sha256
from flowops.store import ArtifactStore, LockPointerStore, lock_key
from flowops.webhook.lookup import substitutions_key
from tests.unit.lock.org_files import load_org_lock

# They ARE the cloud (or start one and run the whole pipeline): never run them in the "no
# cloud" or "unknown flow" situations, where a valid invocation would serve until Ctrl-C.
STARTS_A_CLOUD = {("local", "up"), ("sim", "serve"), ("demo",)}
# They need no cloud at all (they read local files): "ok" without a cloud is right for them.
OFFLINE = {("refs",)}
# A valid-looking invocation of these starts an embedded local cloud when none runs; the
# situations below always give them a (dead or in-process) deployed stack instead.
BAD_STRING_VALUES = {
    "--type": "FOO",
    "--format": "no-such-format",
    "--since": "yesterday-ish",
    "--until": "later-ish",
    "--status": "NO_SUCH_STATUS",
    "--faults": "bogus=1",
}


def _leaf_commands() -> list[tuple[tuple[str, ...], Any]]:
    root = typer.main.get_command(app)
    found: list[tuple[tuple[str, ...], Any]] = []

    def visit(path: tuple[str, ...], command: Any) -> None:
        children = getattr(command, "commands", None)
        if children is None:
            found.append((path, command))
            return
        if getattr(command, "invoke_without_command", False) and path:
            found.append((path, command))  # a group that is also a command (`flowops trace`)
        for name, child in children.items():
            visit((*path, name), child)

    visit((), root)
    return sorted(found, key=lambda item: item[0])


COMMANDS = _leaf_commands()


def _kind(parameter: Any) -> str:
    """int, float, path, enum, bool or str: what the parameter's annotation asks for."""
    import enum
    import types
    import typing

    annotation = parameter.type_descriptor.annotation
    candidates = typing.get_args(annotation) if isinstance(annotation, types.UnionType) else (annotation,)
    for candidate in candidates:
        inner = typing.get_args(candidate) if typing.get_origin(candidate) is list else (candidate,)
        for kind in inner:
            if kind is type(None):
                continue
            if isinstance(kind, type) and issubclass(kind, enum.Enum):
                return "enum"
            if isinstance(kind, type) and issubclass(kind, Path):
                return "path"
            for simple in (bool, int, float):
                if kind is simple:
                    return simple.__name__
    return "str"


def _is_flag(parameter: Any) -> bool:
    return bool(getattr(parameter, "is_flag", False)) or _kind(parameter) == "bool"


def _filler(parameter: Any, tmp_path: Path) -> str:
    """A plausible value for a required parameter, so the command gets past parsing."""
    kind = _kind(parameter)
    if kind == "path":
        target = tmp_path / f"{parameter.name}.yaml"
        target.write_text("inboundCall:\n  name: Main\n", encoding="utf-8")
        return str(target)
    if kind in {"int", "float"}:
        return "1"
    if kind == "enum":
        annotation = parameter.type_descriptor.annotation
        import enum
        import typing

        for candidate in typing.get_args(annotation) or (annotation,):
            if isinstance(candidate, type) and issubclass(candidate, enum.Enum):
                return str(next(iter(candidate)).value)
    return "no-such-thing"


def _required(command: Any, tmp_path: Path) -> list[str]:
    arguments: list[str] = []
    for parameter in command.params:
        if not parameter.required:
            continue
        value = _filler(parameter, tmp_path)
        if parameter.param_type_name == "argument":
            count = parameter.nargs if parameter.nargs and parameter.nargs > 0 else 1
            arguments += [value] * count
        else:
            arguments += [parameter.opts[0], value]
    return arguments


def _bad_value(parameter: Any) -> str | None:
    kind = _kind(parameter)
    for option in parameter.opts:
        if option in BAD_STRING_VALUES:
            return BAD_STRING_VALUES[option]
    if kind in {"int", "float"}:
        return "not-a-number"
    if kind == "enum":
        return "no-such-choice"
    return None


def _cases(kind: str, tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    for path, command in COMMANDS:
        base = [*path, *_required(command, tmp_path)]
        for parameter in command.params:
            if parameter.param_type_name != "option" or _is_flag(parameter) or parameter.name == "help":
                continue
            option = parameter.opts[0]
            if kind == "bad value":
                value = _bad_value(parameter)
                if value is not None:
                    yield f"{' '.join(path)} {option} {value}", [*base, option, value]
            elif kind == "missing file" and _kind(parameter) == "path":
                missing = str(tmp_path / "no-such-dir" / "no-such-file.json")
                yield f"{' '.join(path)} {option} <missing>", [*base, option, missing]


def assert_contract(result: Any, label: str) -> None:
    output = result.output
    assert "Traceback" not in output, f"{label}: traceback\n{output}"
    assert "internal error" not in result.stderr, f"{label}: {result.stderr}"
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{label}: {result.exception!r}"
    )
    assert result.exit_code in exit_codes.DOCUMENTED, f"{label}: exit {result.exit_code}\n{output}"
    if result.exit_code not in (exit_codes.OK, exit_codes.PROBLEMS_FOUND):
        errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 or "Usage:" in output, f"{label}: not one error line\n{result.stderr}"


@pytest.fixture(autouse=True)
def target_not_chosen() -> Iterator[None]:
    local_cloud.select_target(TargetSelection())
    yield
    local_cloud.select_target(TargetSelection())


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def dead_stack(no_cloud: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """A deployed stack named by the environment whose every AWS endpoint refuses connections."""
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    for name, value in {
        "ARTIFACTS_BUCKET": "flowops-artifacts",
        "STATE_TABLE": "flowops-state",
        "AUDIT_TABLE": "flowops-audit",
        "FLOWOPS_SCAN_STATE_MACHINE_ARN": "arn:aws:states:eu-west-1:123456789012:stateMachine:ScanWorkflow",
        "FLOWOPS_TRACE_STATE_MACHINE_ARN": "arn:aws:states:eu-west-1:123456789012:stateMachine:TraceWorkflow",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_MAX_ATTEMPTS": "1",
        "AWS_RETRY_MODE": "standard",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_REGION": "eu-west-1",
        "FLOWOPS_WEBHOOK_URL": f"{endpoint}/publish",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def _run(arguments: list[str]) -> Any:
    local_cloud.select_target(TargetSelection())
    return CliRunner().invoke(app, arguments)


def test_the_sweep_covers_every_command_of_the_registry() -> None:
    # Given the command tree the CLI builds from src/flowops/cli/_registry.py
    names = {" ".join(path) for path, _ in COMMANDS}
    # Then the sweep enumerates every command of every module, groups included
    assert {"scan", "publish", "rollback", "validate", "trace", "trace redrive", "graph impact"} <= names
    assert {"lock show", "lock diff", "runs list", "runs show", "runs watch", "doctor", "local up"} <= names
    assert len(COMMANDS) >= 20


def test_every_bad_option_value_is_one_error_line_with_a_documented_code(
    tmp_path: Path, dead_stack: None
) -> None:
    cases = list(_cases("bad value", tmp_path))
    assert len(cases) >= 25
    for label, arguments in cases:
        assert_contract(_run(arguments), label)


def test_every_missing_file_is_one_error_line_with_a_documented_code(
    tmp_path: Path, dead_stack: None
) -> None:
    cases = list(_cases("missing file", tmp_path))
    assert len(cases) >= 5
    for label, arguments in cases:
        result = _run(arguments)
        assert_contract(result, label)
        assert result.exit_code != exit_codes.OK, label


def test_every_command_without_a_reachable_cloud_says_so(tmp_path: Path, dead_stack: None) -> None:
    # Given a deployed stack whose endpoints refuse connections
    for path, command in COMMANDS:
        if path in STARTS_A_CLOUD:
            continue
        label = " ".join(path)
        # When the command runs (and again through --target aws, whose lookup cannot connect)
        for prefix in ([], ["--target", "aws"]):
            result = _run([*prefix, *path, *_required(command, tmp_path)])
            # Then: one error line, and "unreachable" (or a usage error for input checked first);
            # never "ok" or "problems found" from a cloud that is not there
            assert_contract(result, f"{prefix} {label}")
            if path in OFFLINE:
                continue
            assert result.exit_code in {exit_codes.UNREACHABLE, exit_codes.USAGE_ERROR}, (
                f"{prefix} {label}: exit {result.exit_code}\n{result.output}"
            )


def _store_lock(cloud: Any, lock: Any) -> None:
    environment = cloud.function_environment("CheckDependencyIndex")
    org = environment.get("FLOWOPS_ORG", "dev")
    sha = lock_sha256(lock)
    artifacts = ArtifactStore(environment["ARTIFACTS_BUCKET"], cloud.s3)
    artifacts.put_immutable(lock_key(org, sha), canonical_bytes(lock))
    artifacts.put_json(substitutions_key(org, "dev"), {})  # the environment commands default to
    LockPointerStore(environment["STATE_TABLE"], cloud.dynamodb).advance(
        org, sha, None, key=lock_key(org, sha), scan_id="sweep"
    )


def test_every_command_taking_a_flow_rejects_an_unknown_one(tmp_path: Path, cli_cloud: Any) -> None:
    # Given an org whose current lock has the diamond's flows (and a lock file of it)
    lock = load_org_lock("diamond", org=cli_cloud.function_environment("CheckDependencyIndex")["FLOWOPS_ORG"])
    _store_lock(cli_cloud, lock)
    lock_path = tmp_path / "diamond.lock.json"
    lock_path.write_bytes(lock_document_bytes(lock))
    yaml_path = tmp_path / "flow.yaml"
    yaml_path.write_text("inboundCall:\n  name: Main\n", encoding="utf-8")
    taking_a_flow = []
    for path, command in COMMANDS:
        options = {option for parameter in command.params for option in parameter.opts}
        if "--flow" in options and path not in STARTS_A_CLOUD:
            taking_a_flow.append(path)
            extra = {"publish": ["--version", "1"], "validate": ["--yaml", str(yaml_path)]}.get(path[0], [])
            arguments = [*path, "--flow", "No Such Flow 18005551234", *extra]
        elif path == ("graph", "impact"):
            taking_a_flow.append(path)
            arguments = [*path, "No Such Flow 18005551234", "--lock-file", str(lock_path)]
        else:
            continue
        # When it is pointed at a flow the org does not have
        result = _run(arguments)
        # Then it is a usage error naming it, before anything starts
        label = " ".join(path)
        assert_contract(result, label)
        assert result.exit_code == exit_codes.USAGE_ERROR, f"{label}: {result.output}"
        assert "No Such Flow 18005551234" in result.stderr, label
    assert {("publish",), ("rollback",), ("validate",), ("trace",), ("graph", "impact")} <= set(taking_a_flow)
