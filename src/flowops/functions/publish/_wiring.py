"""What the publish handlers need beyond the shared wiring (flowops.functions._shared): their ports.

Every publish step gets the same `PublishPorts`; the Genesys client in them is built at the
first Genesys call, so a step that never calls Genesys never reads (nor needs a grant on) the
Genesys secret.
"""

from __future__ import annotations

import functools
import time
from typing import Any

from flowops.functions._shared import (
    HandlerT,
    LazyGenesysClient,
    artifacts,
    deploy_stores,
    genesys_settings,
    step_errors,
    storage_settings,
)
from flowops.publish.steps import PublishPorts
from flowops.statepayload import bound_error, bound_payload


def state_spill(value: Any) -> str:
    """Store a value cut from the state in full: `state/<org>/<sha256>.json` (content-addressed)."""
    storage = storage_settings()
    return artifacts(storage).put_large_payload(f"state/{storage.flowops_org}", value)


def named_errors(handler: HandlerT) -> HandlerT:
    """`step_errors`, with the step's output and error message bounded for the state
    (`flowops.statepayload`): a 3,000-message Architect failure must still reach the Catch."""

    @functools.wraps(handler)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        try:
            result = handler(*args, **kwargs)
        except Exception as error:
            bound_error(error, state_spill)
            raise
        return bound_payload(result, state_spill)

    return step_errors(bounded)  # type: ignore[return-value]


def ports() -> PublishPorts:
    storage = storage_settings()
    genesys = genesys_settings()
    return PublishPorts(
        **deploy_stores(storage),
        genesys=LazyGenesysClient(genesys),
        time_scale=genesys.flowops_time_scale,
    )


def now() -> float:
    return time.time()


__all__ = ["named_errors", "now", "ports"]
