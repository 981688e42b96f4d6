"""`flowops demo`: the main job on the embedded default (see src/flowops/local/demo.py)."""

from __future__ import annotations

from typing import Annotated

import typer

from flowops.cli import exit_codes
from flowops.cli.terminal import fail


def demo(
    flows: Annotated[int, typer.Option(help="Flows in the generated org.", min=10)] = 300,
    seed: Annotated[int, typer.Option(help="Seed of the generated org (same seed, same org).")] = 7,
) -> None:
    """Run the whole pipeline on a generated org: simulator + moto, no AWS account needed."""
    from flowops.cli.local_cloud import EmbeddedCloudError
    from flowops.cli.publish import PublishCommandError
    from flowops.cli.scan import ScanExecutionError
    from flowops.cli.trace import TraceExecutionError
    from flowops.local.demo import DemoStepError, run_demo

    try:
        run_demo(flows=flows, seed=seed, echo=typer.echo)
    except EmbeddedCloudError as error:
        raise fail(error, error.exit_code) from None
    except (ScanExecutionError, TraceExecutionError, PublishCommandError, DemoStepError) as error:
        raise fail(f"demo step failed: {error}", exit_codes.FAILED) from None


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
