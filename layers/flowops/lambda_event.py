"""`parse_event`: a handler's event validated into its pydantic model before the handler runs.

What powertools' `event_parser(model=...)` did for these handlers (no envelope): a dict is
validated with the model (`model_validate`, the model's own strictness), a JSON string with
`model_validate_json`; a `ValidationError` propagates unchanged. Importing powertools' parser
also imports and builds its ~200 AWS event models, which no flowops handler uses: a third of a
handler's cold start over boto3's (`python -m bench.cold_start`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel

ModelT = TypeVar("ModelT", bound=BaseModel)
ResultT = TypeVar("ResultT")


def parse_event(
    model: type[ModelT],
) -> Callable[[Callable[..., ResultT]], Callable[..., ResultT]]:
    """Decorate `handler(event: model, context)` to take the raw Lambda event."""

    def decorate(handler: Callable[..., ResultT]) -> Callable[..., ResultT]:
        @functools.wraps(handler)
        def parsed(event: Any, context: Any, **kwargs: Any) -> ResultT:
            if isinstance(event, str):
                validated = model.model_validate_json(event)
            else:
                validated = model.model_validate(event)
            return handler(validated, context, **kwargs)

        return parsed

    return decorate
