"""The `flowops` command line.

One Typer app; each concern registers its commands from its own module so that the command
tree grows without one giant file. The root options (`--target`, `--stack`, `--profile`,
`--region`) choose the cloud every command talks to (src/flowops/cli/local_cloud.py `connect()`).
Exit codes: the table in src/flowops/cli/exit_codes.py (copied into docs/cli.md and the README).
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Iterator, MutableMapping
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

from flowops.cli import _registry, exit_codes, terminal
from flowops.cli.targets import (
    DEFAULT_STACK,
    CloudUnavailableError,
    StackLookupError,
    Target,
    TargetSelection,
    select_target,
)

DEBUG_VARIABLE = "FLOWOPS_DEBUG"  # set to 1: unexpected errors show their traceback


def _is_connection_failure(error: BaseException) -> bool:
    """The cloud went away (mid-run or before): botocore/requests/urllib3 connection errors,
    Genesys unavailable, or a plain socket error. Checked by class name along the MRO so that
    the root group needs no heavy imports."""
    names = {f"{cls.__module__}.{cls.__name__}" for cls in type(error).__mro__}
    return bool(
        names
        & {
            "botocore.exceptions.HTTPClientError",
            "botocore.exceptions.ConnectionError",
            "requests.exceptions.ConnectionError",
            "requests.exceptions.Timeout",
            "urllib3.exceptions.HTTPError",
            "flowops.genesys.errors.GenesysUnavailableError",
            "flowops.store.errors.StoreUnavailableError",
            "flowops.store.errors.StoreThrottledError",
            "builtins.ConnectionError",
            "builtins.TimeoutError",
        }
    )


def _store_configuration_problem(error: BaseException) -> bool:
    """Access denied or a missing bucket/table: the configuration must change, not the network."""
    names = {f"{cls.__module__}.{cls.__name__}" for cls in type(error).__mro__}
    problems = {"StoreAccessDeniedError", "StoreMissingResourceError"}
    return bool(names & {f"flowops.store.errors.{name}" for name in problems})


class LazyCommands(MutableMapping[str, Any]):
    """The root group's commands: the names come from the static registry (src/flowops/cli/_registry.py);
    a command's module is imported on the first access to one of its commands, and all the
    commands it registers are kept. Membership and iteration import nothing."""

    def __init__(self, load_module: Callable[[str], dict[str, Any]], added: dict[str, Any]) -> None:
        self._load_module = load_module
        self._loaded: dict[str, Any] = {}
        self._added = dict(added)  # commands given to the group directly (none today)

    def __getitem__(self, name: str) -> Any:
        if name in self._added:
            return self._added[name]
        entry = _registry.BY_NAME.get(name)
        if entry is None:
            raise KeyError(name)
        if name not in self._loaded:
            self._loaded.update(self._load_module(entry.module))
        return self._loaded[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._added[name] = command

    def __delitem__(self, name: str) -> None:
        del self._added[name]

    def __contains__(self, name: object) -> bool:
        return name in _registry.BY_NAME or name in self._added

    def __iter__(self) -> Iterator[str]:
        yield from _registry.BY_NAME
        yield from (name for name in self._added if name not in _registry.BY_NAME)

    def __len__(self) -> int:
        return len(set(_registry.BY_NAME) | set(self._added))


# What only `flowops[local]` installs (pyproject's optional-dependencies): the local cloud's emulation.
LOCAL_EXTRA_MODULES = frozenset({"moto", "flask", "flask_cors", "werkzeug"})
LOCAL_EXTRA_MISSING = (
    "this command runs the local cloud, which needs the `local` extra: "
    "`uv tool install 'flowops[local]'` or `pipx install 'flowops[local]'` (from a checkout: `make setup`)"
)


class FlowopsGroup(TyperGroup):
    """The root group, where the CLI's contract is kept for every command at once:

    - a usage error (bad option value, missing argument, unknown command) is ONE
      `error: ... (see `flowops X --help`)` line with exit 2, not click's usage box;
    - a `--target aws` lookup failure is one error line and its exit code;
    - a cloud that stops answering mid-command (connection refused/reset, timeouts) is one
      `error:` line with exit 3, whichever command it hits;
    - a command of the local cloud installed without the `local` extra (no moto) says how to add it;
    - anything unexpected is one `error: internal error ...` line (exit FAILED); FLOWOPS_DEBUG=1
      shows the traceback. The bad-input sweep (tests/cli/test_cli_sweep.py) asserts no
      command ever gets here.

    Its commands load lazily (LazyCommands): `flowops --help` lists them from the registry
    without importing their modules; `flowops X ...` imports X's module only."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.commands = LazyCommands(self._load_module, dict(self.commands))
        self._listing_only = False

    def _load_module(self, module_name: str) -> dict[str, Any]:
        """The click commands that `module_name`'s `register(app)` adds, built by typer with the
        root app's settings."""
        module = importlib.import_module(module_name)
        holder = typer.Typer(
            rich_markup_mode=self.rich_markup_mode, pretty_exceptions_enable=False, add_completion=False
        )
        holder.callback()(_no_options)  # a callback makes typer build a group even for one command
        module.register(holder)
        return dict(typer.main.get_group(holder).commands)

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        entry = _registry.BY_NAME.get(cmd_name)
        if self._listing_only and entry is not None:
            # short_help: click would cut the line at ~45 characters; the registry's line is it.
            return TyperCommand(name=entry.name, help=entry.help, short_help=entry.help, callback=None)
        return self.commands.get(cmd_name)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        # The command list needs each command's one line only: read from the registry.
        self._listing_only = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing_only = False

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        # typer >= 0.24 vendors click as typer._click: its exceptions are not click's.
        from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError

        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except NoArgsIsHelpError as error:
            error.show()
            code = exit_codes.USAGE_ERROR
        except UsageError as error:
            where = error.ctx.command_path if error.ctx is not None else "flowops"
            typer.echo(terminal.error_line(f"{error.format_message()} (see `{where} --help`)"), err=True)
            code = exit_codes.USAGE_ERROR
        except ClickException as error:
            typer.echo(terminal.error_line(error.format_message()), err=True)
            code = error.exit_code
        except typer.Abort:
            typer.echo(terminal.error_line("interrupted"), err=True)
            code = 130
        if not standalone_mode:
            return code
        sys.exit(code if isinstance(code, int) else exit_codes.OK)

    def invoke(self, ctx: Any) -> Any:
        from typer._click.exceptions import ClickException

        try:
            return super().invoke(ctx)
        except (StackLookupError, terminal.CliError) as error:
            typer.echo(terminal.error_line(error), err=True)
            raise typer.Exit(error.exit_code) from None
        except CloudUnavailableError as error:
            typer.echo(terminal.error_line(error), err=True)
            raise typer.Exit(exit_codes.UNREACHABLE) from None
        except (typer.Exit, typer.Abort, ClickException, KeyboardInterrupt):
            raise
        except Exception as error:
            if os.environ.get(DEBUG_VARIABLE):
                raise
            if (
                isinstance(error, ModuleNotFoundError)
                and (error.name or "").split(".")[0] in LOCAL_EXTRA_MODULES
            ):
                typer.echo(terminal.error_line(LOCAL_EXTRA_MISSING), err=True)
                raise typer.Exit(exit_codes.USAGE_ERROR) from None
            if _store_configuration_problem(error):
                typer.echo(
                    terminal.error_line(f"{error} — check the stack name/region and your AWS permissions"),
                    err=True,
                )
                raise typer.Exit(exit_codes.USAGE_ERROR) from None
            if _is_connection_failure(error):
                typer.echo(
                    terminal.error_line(
                        f"the cloud stopped answering: {type(error).__name__}: {error} — is "
                        "`flowops local up` still running / is the stack reachable? Retry when it is"
                    ),
                    err=True,
                )
                raise typer.Exit(exit_codes.UNREACHABLE) from None
            typer.echo(
                terminal.error_line(
                    f"internal error: {type(error).__name__}: {error} — please report it; "
                    f"{DEBUG_VARIABLE}=1 shows the traceback"
                ),
                err=True,
            )
            raise typer.Exit(exit_codes.FAILED) from None


app = typer.Typer(
    name="flowops",
    cls=FlowopsGroup,
    help=(
        "Release pipeline for Genesys Cloud Architect flows (scan, validate, publish, trace).\n\n"
        "The same commands run against the local cloud (Genesys simulator + AWS emulation) or a "
        "deployed stack (--target aws).\n\n"
        f"Exit codes: {exit_codes.help_text()} (docs/cli.md)."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    # Plain click help: typer's rich help imports ~1 s of modules (rich.markdown, pygments...) for
    # every `--help` (bench/cli_startup.py; docs/decisions.md "A lazy command tree").
    rich_markup_mode=None,
)


@app.callback()
def choose_target(
    target: Annotated[
        Target | None,
        typer.Option(
            "--target",
            case_sensitive=False,
            help=(
                "Where commands run. 'local': the running `flowops local up` (scan, publish, "
                "trace start an embedded local cloud when none runs). 'aws': the deployed stack "
                "--stack, found from its CloudFormation outputs. Default: a running `local up`, "
                "else a stack named by ARTIFACTS_BUCKET/STATE_TABLE/AUDIT_TABLE, else embedded; "
                "--stack, --profile or --region alone imply 'aws'."
            ),
        ),
    ] = None,
    stack: Annotated[
        str | None,
        typer.Option(
            "--stack",
            metavar="NAME",
            help=f"CloudFormation stack of a deployed flowops (--target aws). Default: {DEFAULT_STACK}.",
        ),
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile",
            metavar="PROFILE",
            help="AWS profile for --target aws (default: AWS_PROFILE, else the default credentials).",
        ),
    ] = None,
    region: Annotated[
        str | None,
        typer.Option(
            "--region",
            metavar="REGION",
            help="AWS region of the stack for --target aws (default: the profile's, else AWS_REGION).",
        ),
    ] = None,
) -> None:
    """Choose the cloud for the command that follows."""
    aws_options = {"--stack": stack, "--profile": profile, "--region": region}
    given = [name for name, value in aws_options.items() if value is not None]
    if target is Target.LOCAL and given:
        raise terminal.fail(f"{', '.join(given)} apply to --target aws only", exit_codes.USAGE_ERROR)
    if target is None and given:
        # Naming a stack, a profile or a region is asking for a deployed stack: silently running
        # against an embedded local cloud instead would be the worst possible answer.
        target = Target.AWS
    select_target(
        TargetSelection(target=target, stack=stack or DEFAULT_STACK, profile=profile, region=region)
    )


def _no_options() -> None:
    """The callback of the holder app in FlowopsGroup._load_module (never shown)."""


def main() -> None:
    app()
