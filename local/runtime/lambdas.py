"""Run the REAL Lambda handlers in-process when moto's Lambda (use_docker=False) is invoked.

`LambdaSimpleBackend.invoke` is replaced while a `HandlerRunner` is active: it imports the
function's dotted `Handler`, applies the function's environment (its template variables plus the
runner's overrides, e.g. GENESYS_BASE_URL of the simulator) as a per-thread overlay, and calls
the handler with the event and a fake Lambda context. A raised exception becomes
`x-amz-function-error: Unhandled` with `{"errorType", "errorMessage", "stackTrace"}` where
errorType is the exception's class name, as Lambda's Python runtime reports it — the names Step
Functions `Retry`/`Catch` match on (handlers name flowops errors with `flowops.stepfunctions`).
"""

from __future__ import annotations

import importlib
import json
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict

from local.runtime import environment


@dataclass
class LocalLambdaContext:
    """The attributes powertools and handlers read from a real Lambda context."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    timeout_seconds: float
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    _started: float = field(default_factory=time.monotonic)

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"local/[{self.function_version}]{self.aws_request_id}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self._started)) * 1000))


class Invocation(BaseModel):
    model_config = ConfigDict(frozen=True)

    function_name: str
    handler: str
    event: Any
    error_type: str | None = None
    duration_seconds: float


_ONE_INVOCATION_AT_A_TIME = threading.RLock()


@contextmanager
def invocation_slot_released() -> Iterator[None]:
    """Let other invocations run while this one blocks on purpose (a test hook waiting for a
    second execution to reach the same step, as two Lambda processes would)."""
    _ONE_INVOCATION_AT_A_TIME.release()
    try:
        yield
    finally:
        _ONE_INVOCATION_AT_A_TIME.acquire()


def error_name(error: BaseException) -> str:
    """What Lambda's Python runtime reports as `errorType`: the exception's class name.

    Handlers re-raise flowops errors as classes named after their `asl_error_name`
    (`flowops.stepfunctions`), so Retry/Catch match the same names here and in AWS; an error a
    handler forgot to name shows up here exactly as it would in AWS, under its class name.
    """
    return type(error).__name__


class HandlerRunner:
    """Patches moto's simple Lambda backend to call handlers in-process."""

    def __init__(self, env_overrides: Mapping[str, str] | None = None) -> None:
        self.env_overrides = dict(env_overrides or {})
        self.invocations: list[Invocation] = []
        self._lock = threading.Lock()
        self._original: Callable[..., Any] | None = None

    def start(self) -> None:
        from moto.awslambda_simple.models import LambdaSimpleBackend

        runner = self
        self._original = LambdaSimpleBackend.invoke

        def invoke(
            backend: Any,
            function_name: str,
            qualifier: str | None,
            body: Any,
            headers: Any,
            response_headers: Any,
        ) -> bytes:
            function = backend.get_function(function_name, qualifier)
            invocation_type = (headers or {}).get("X-Amz-Invocation-Type", "RequestResponse")
            if invocation_type == "DryRun":
                return b""
            if invocation_type == "Event":
                threading.Thread(
                    target=runner.run,
                    args=(function, body, {}),
                    name=f"lambda-{function.function_name}",
                    daemon=True,
                ).start()
                return b""
            return runner.run(function, body, response_headers)

        LambdaSimpleBackend.invoke = invoke  # type: ignore[method-assign]

    def stop(self) -> None:
        from moto.awslambda_simple.models import LambdaSimpleBackend

        if self._original is not None:
            LambdaSimpleBackend.invoke = self._original  # type: ignore[method-assign]
            self._original = None

    def environment_of(self, function: Any) -> dict[str, str]:
        variables = {str(key): str(value) for key, value in (function.environment_vars or {}).items()}
        variables.update(
            {
                "AWS_LAMBDA_FUNCTION_NAME": function.function_name,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_size),
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_REGION": function.region,
                "AWS_DEFAULT_REGION": function.region,
                # X-Ray has no daemon locally; powertools' Tracer must stay a no-op.
                "POWERTOOLS_TRACE_DISABLED": "true",
            }
        )
        variables.update(self.env_overrides)
        return variables

    def run(self, function: Any, body: Any, response_headers: dict[str, str]) -> bytes:
        started = time.monotonic()
        raw = body.decode("utf-8") if isinstance(body, bytes) else (body or "")
        error_type: str | None = None
        try:
            event = json.loads(raw) if raw else {}
            handler = _load_handler(function.handler)
            context = LocalLambdaContext(
                function_name=function.function_name,
                invoked_function_arn=function.function_arn,
                memory_limit_in_mb=int(function.memory_size or 128),
                timeout_seconds=float(function.timeout or 3),
            )
            # One invocation at a time in this process: in Lambda each concurrent invocation has a
            # process of its own, and handlers keep per-process state (powertools' metric set and
            # logger keys, the webhook resolver's current event) that threads would share here.
            with _ONE_INVOCATION_AT_A_TIME, environment.applied(self.environment_of(function)):
                result = handler(event, context)
            try:
                payload = json.dumps(result).encode("utf-8")
            except (TypeError, ValueError) as error:
                raise _MarshalError(f"Unable to marshal response: {error}") from error
        except Exception as error:
            error_type = error_name(error)
            response_headers["x-amz-function-error"] = "Unhandled"
            payload = json.dumps(
                {
                    "errorType": error_type,
                    "errorMessage": str(error),
                    "stackTrace": traceback.format_exception(error)[-8:],
                }
            ).encode("utf-8")
            event = raw
        with self._lock:
            self.invocations.append(
                Invocation(
                    function_name=function.function_name,
                    handler=function.handler,
                    event=event,
                    error_type=error_type,
                    duration_seconds=time.monotonic() - started,
                )
            )
        return payload


class _MarshalError(Exception):
    asl_error_name = "Runtime.MarshalError"


class _ImportModuleError(Exception):
    asl_error_name = "Runtime.ImportModuleError"


def _load_handler(path: str) -> Callable[[Any, Any], Any]:
    module_name, _, attribute = (path or "").rpartition(".")
    try:
        module = importlib.import_module(module_name)
        handler = getattr(module, attribute)
    except (ImportError, AttributeError, ValueError) as error:
        raise _ImportModuleError(
            f"Unable to import module '{module_name}' for handler '{path}': {error}"
        ) from error
    if not callable(handler):
        raise _ImportModuleError(f"handler '{path}' is not callable")
    return handler  # type: ignore[no-any-return]
