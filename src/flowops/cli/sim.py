"""`flowops sim serve`: run the Genesys Cloud simulator in the foreground."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flowops.cli import exit_codes
from flowops.cli.terminal import fail
from flowops.clock import ScaledClock

sim_app = typer.Typer(help="The local Genesys Cloud simulator.", no_args_is_help=True)


@sim_app.command("serve")
def serve(
    flows: Annotated[int, typer.Option(help="Flows in the generated org.", min=1)] = 200,
    seed: Annotated[int, typer.Option(help="Seed of the generated org (same seed, same org).")] = 1,
    org_file: Annotated[
        Path | None, typer.Option("--org-file", help="Load the org from this JSON file.")
    ] = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (0 picks a free one).", min=0, max=65535)] = 0,
    faults: Annotated[str | None, typer.Option(help="Fault spec, e.g. '5xx=0.2,latency=0.5'.")] = None,
    client_id: Annotated[str, typer.Option(help="Accepted OAuth client id.")] = "local",
    client_secret: Annotated[str, typer.Option(help="Accepted OAuth client secret.")] = "local",  # noqa: S107
    time_scale: Annotated[float, typer.Option(help="Simulated seconds per real second.")] = 1.0,
    rate_limit: Annotated[int, typer.Option(help="Requests per minute of one budget.", min=1)] = 300,
    rate_limit_scope: Annotated[
        str,
        typer.Option(help="What one budget counts: token, client or org (docs/genesys-limits.md)."),
    ] = "token",
    verbose: Annotated[bool, typer.Option(help="Log every request line.")] = False,
) -> None:
    """Serve a simulated org until Ctrl-C."""
    # Imported here so that `flowops --help` stays fast.
    from flowops.local.simulator import FaultSpecError, SimulatorServer
    from flowops.local.simulator.faults import Faults
    from flowops.local.simulator.org import OrgSourceError, load_or_generate_org

    if time_scale <= 0:
        raise fail("--time-scale must be positive", exit_codes.USAGE_ERROR)
    try:
        parsed_faults = Faults.parse(faults)
    except FaultSpecError as error:
        raise fail(str(error), exit_codes.USAGE_ERROR) from None
    clock = ScaledClock(time_scale)
    try:
        org = load_or_generate_org(flows=flows, seed=seed, org_file=org_file, now=clock.now())
    except OrgSourceError as error:
        raise fail(str(error), exit_codes.USAGE_ERROR) from None
    try:
        server = SimulatorServer(
            org,
            host=host,
            port=port,
            clock=clock,
            faults=parsed_faults,
            client_id=client_id,
            client_secret=client_secret,
            rate_limit_per_minute=rate_limit,
            rate_limit_scope=rate_limit_scope,
            verbose=verbose,
        )
    except ValueError as error:
        raise fail(
            f"{error}; choose --rate-limit-scope token, client or org", exit_codes.USAGE_ERROR
        ) from None
    except OSError as error:
        raise fail(
            f"cannot listen on {host}:{port}: {error.strerror or error}", exit_codes.UNREACHABLE
        ) from None
    typer.echo(f"listening on {server.url}", nl=True)
    typer.echo(
        f"  org: {len(org.flows)} flows, {len(org.objects)} objects; token endpoint {server.url}/oauth/token"
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        typer.echo("stopping", err=True)
    finally:
        server.stop()


def register(app: typer.Typer) -> None:
    app.add_typer(sim_app, name="sim")
