"""Which cloud the commands of one invocation talk to: the root options, kept apart from
local_cloud.py so that the root command (and so `flowops --help`) imports no pydantic, no
boto3 and no Genesys client. local_cloud.py re-exports every name here."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from flowops.stacknames import STACK_NAME_PREFIX

DEFAULT_STACK = f"{STACK_NAME_PREFIX}-dev"


class Target(str, Enum):
    """Where the commands run: the local cloud (simulator + moto) or a deployed stack."""

    LOCAL = "local"
    AWS = "aws"


@dataclass(frozen=True)
class TargetSelection:
    """The root options of one `flowops` invocation. `target=None` means "not chosen": a running
    `local up`, else a stack named by the environment, else an embedded cloud."""

    target: Target | None = None
    stack: str = DEFAULT_STACK
    profile: str | None = None
    region: str | None = None


# Set by the root callback of the CLI (src/flowops/cli/__init__.py) once per invocation. A module value
# rather than click's context object because `connect()` is also called outside any command
# (the demo, tests) and there means "not chosen".
_selection = TargetSelection()


def select_target(selection: TargetSelection) -> None:
    global _selection
    _selection = selection


def selected_target() -> TargetSelection:
    return _selection


class CloudUnavailableError(Exception):
    """No cloud to talk to: nothing running locally and no deployed stack configured.

    Commands that can start an embedded local cloud catch this and start one."""


class StackLookupError(Exception):
    """`--target aws` could not find the stack's resources. Deliberately NOT a
    CloudUnavailableError: a user who asked for a deployed stack must never silently get an
    embedded local one. The root command turns it into one error line and `exit_code`."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code
