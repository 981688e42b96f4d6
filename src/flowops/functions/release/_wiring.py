"""The release handlers' ports (beyond flowops.functions._shared) and the decorator stack they share."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from flowops.config import DeploymentSettings
from flowops.functions._shared import (
    LazyGenesysClient,
    deploy_stores,
    genesys_settings,
    step_errors,
    storage_settings,
)
from flowops.observability import get_tracer, logger, metrics
from flowops.release.steps import ReleasePorts

EventT = TypeVar("EventT", bound=BaseModel)
tracer = get_tracer()


def ports() -> ReleasePorts:
    storage = storage_settings()
    genesys = genesys_settings()
    deployment = DeploymentSettings()
    return ReleasePorts(
        **deploy_stores(storage),
        environment=deployment.flowops_environment,
        approval_required=deployment.flowops_approval_required,
        promotes_from=deployment.flowops_promotes_from,
        genesys=LazyGenesysClient(genesys),  # type: ignore[arg-type]
        time_scale=genesys.flowops_time_scale,
    )


def now() -> float:
    return time.time()


def step(
    model: type[EventT],
) -> Callable[[Callable[[EventT], Any]], Callable[[dict[str, Any], LambdaContext], Any]]:
    """The one decorator stack of a release step: logging, metrics, tracing, the event parsed into
    `model`, domain errors named for Step Functions, the answer as JSON-able data."""

    def decorate(core: Callable[[EventT], Any]) -> Callable[[dict[str, Any], LambdaContext], Any]:
        @logger.inject_lambda_context
        @metrics.log_metrics
        @tracer.capture_lambda_handler(capture_response=False)
        @step_errors
        @functools.wraps(core)
        def handler(event: dict[str, Any], context: LambdaContext) -> Any:
            answer = core(model.model_validate(event))
            return answer.model_dump(mode="json") if isinstance(answer, BaseModel) else answer

        return handler

    return decorate
