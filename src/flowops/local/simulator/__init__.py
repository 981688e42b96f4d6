"""A local Genesys Cloud simulator: real HTTP on 127.0.0.1, real paths and shapes (docs/simulator.md)."""

from flowops.local.simulator.faults import Faults, FaultSpecError
from flowops.local.simulator.org import Org, OrgFileError, generate_org, load_org_file
from flowops.local.simulator.server import SimulatorServer

__all__ = [
    "FaultSpecError",
    "Faults",
    "Org",
    "OrgFileError",
    "SimulatorServer",
    "generate_org",
    "load_org_file",
]
