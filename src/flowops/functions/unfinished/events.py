"""Input of the unfinished-runs backstop: what its EventBridge rules' input transformer sends
(infra/constructs/unfinished_runs.py), one rule per workflow."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class ExecutionEndedEvent(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    workflow: Literal["publish", "release", "scan", "trace"]
    execution_arn: str
    status: str
    """The event's status; the handler trusts DescribeExecution's, read when it runs."""
