"""The `flowops` command line.

One Typer app; each concern registers its commands from its own module so that the command
tree grows without one giant file. The root options (`--target`, `--stack`, `--profile`,
`--region`) choose the cloud every command talks to (local/cli/local_cloud.py `connect()`).
Exit codes (docs/cli.md): 0 ok, 1 a failure was found, 2 usage or configuration error,
3 something could not be reached.
"""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from local.cli import _registry, exit_codes
from local.cli.local_cloud import DEFAULT_STACK, StackLookupError, Target, TargetSelection, select_target


class FlowopsGroup(TyperGroup):
    """The root group: a `--target aws` lookup failure inside any command becomes ONE error line
    and its exit code here, so no command has to know about stack discovery and no traceback
    reaches the user."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except StackLookupError as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(error.exit_code) from None


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
        "deployed stack (--target aws). Exit codes: 0 ok, 1 a failure was found, 2 usage or "
        "configuration error, 3 something could not be reached."
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
        typer.echo(f"error: {', '.join(given)} apply to --target aws only", err=True)
        raise typer.Exit(exit_codes.USAGE_ERROR)
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
