"""The `flowops` command line.

One Typer app; each concern registers its commands from its own module so that the command
tree grows without one giant file. The root options (`--target`, `--stack`, `--profile`,
`--region`) choose the cloud every command talks to (src/flowops/cli/local_cloud.py `connect()`).
Exit codes: the table in src/flowops/cli/exit_codes.py (copied into docs/cli.md and the README).
"""

from __future__ import annotations

import os
import sys
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from flowops.cli import _registry, exit_codes, terminal
from flowops.cli.local_cloud import (
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


class FlowopsGroup(TyperGroup):
    """The root group, where the CLI's contract is kept for every command at once:

    - a usage error (bad option value, missing argument, unknown command) is ONE
      `error: ... (see `flowops X --help`)` line with exit 2, not click's usage box;
    - a `--target aws` lookup failure is one error line and its exit code;
    - a cloud that stops answering mid-command (connection refused/reset, timeouts) is one
      `error:` line with exit 3, whichever command it hits;
    - anything unexpected is one `error: internal error ...` line (exit FAILED); FLOWOPS_DEBUG=1
      shows the traceback. The bad-input sweep (tests/cli/test_cli_sweep.py) asserts no
      command ever gets here."""

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


def _colours_only_on_a_terminal() -> None:
    """Typer forces terminal output (colours, boxes) whenever GITHUB_ACTIONS is set, even when
    stdout is a pipe. flowops keeps colours for terminals only: they stay on when the user asks
    with FORCE_COLOR/PY_COLORS, and NO_COLOR turns them off everywhere (rich honours it)."""
    if os.environ.get("FORCE_COLOR") or os.environ.get("PY_COLORS"):
        return
    from typer import rich_utils

    rich_utils.FORCE_TERMINAL = None  # None: rich decides from isatty()


_colours_only_on_a_terminal()

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
    rich_markup_mode="rich",
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


_registry.register_all(app)


def main() -> None:
    app()
