"""Run the REAL Lambda handlers in-process when moto's Lambda (use_docker=False) is invoked.

`LambdaSimpleBackend.invoke` is replaced while a `HandlerRunner` is active: it imports the
function's dotted `Handler`, applies the function's environment (its template variables plus the
runner's overrides, e.g. GENESYS_BASE_URL of the simulator) as a per-thread overlay, and calls
the handler with the event and a fake Lambda context. A raised exception becomes
`x-amz-function-error: Unhandled` with `{"errorType", "errorMessage", "stackTrace"}` where
errorType is the exception's class name, as Lambda's Python runtime reports it — the names Step
Functions `Retry`/`Catch` match on (handlers name flowops errors with `flowops.stepfunctions`).

As in Lambda, a function is killed at its configured timeout, measured on the function's own clock
(`FLOWOPS_TIME_SCALE` of its environment: a 60 s function at scale 60 has one real second, plus
`cpu_allowance_seconds` for moto being slower than AWS). The handler thread is stopped with an
asynchronous exception and the invoke answers as Lambda does for a timed-out function:
`Unhandled` with only an `errorMessage` ("... Task timed out after 60.00 seconds"), which Step
Functions reports as `Lambda.Unknown` (`flowops.local.runtime.lambda_errors`). The context's
`get_remaining_time_in_millis()` counts down on the same clock, so code that honours it stops in
time. `inject_service_error` makes the next invokes of a function fail as Lambda itself would
(`TooManyRequestsException` for throttling, `ServiceException`, ...), before the handler runs.
"""

from __future__ import annotations

import ctypes
import importlib
import json
import queue
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from moto.core.exceptions import JsonRESTError
from pydantic import BaseModel, ConfigDict

from flowops.local.runtime import environment

# HTTP statuses Lambda's Invoke answers its own errors with (Lambda API reference, Invoke).
LAMBDA_SERVICE_ERROR_STATUSES = {
    "TooManyRequestsException": 429,
    "ServiceException": 500,
    "AWSLambdaException": 500,
    "ResourceNotReadyException": 502,
    "EC2ThrottledException": 502,
}
DEFAULT_CPU_ALLOWANCE_SECONDS = 2.0
_KILL_GRACE_SECONDS = 5.0
_POLL_SECONDS = 0.02


@dataclass
class LocalLambdaContext:
    """The attributes powertools and handlers read from a real Lambda context."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    timeout_seconds: float
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    time_scale: float = 1.0
    """Seconds of the function's clock per real second (accelerated local time)."""
    _started: float = field(default_factory=time.monotonic)

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"local/[{self.function_version}]{self.aws_request_id}"

    def get_remaining_time_in_millis(self) -> int:
        elapsed = (time.monotonic() - self._started) * self.time_scale
        return max(0, int((self.timeout_seconds - elapsed) * 1000))

    def start_clock(self) -> None:
        self._started = time.monotonic()

    def shift_clock(self, real_seconds: float) -> None:
        self._started += real_seconds

    def real_deadline(self, real_budget: float) -> float:
        return self._started + real_budget


class Invocation(BaseModel):
    model_config = ConfigDict(frozen=True)

    function_name: str
    handler: str
    event: Any
    error_type: str | None = None
    """Handler error class name, `Lambda.<Code>` for an injected service error, or `Timeout`."""
    duration_seconds: float


_ONE_INVOCATION_AT_A_TIME = threading.RLock()


_current = threading.local()


@contextmanager
def invocation_slot_released() -> Iterator[None]:
    """Let other invocations run while this one blocks on purpose (a test hook waiting for a
    second execution to reach the same step, as two Lambda processes would). The function's clock
    is paused meanwhile: the test's wait is not the function's time."""
    call: _KillableCall | None = getattr(_current, "call", None)
    paused_at = time.monotonic()
    if call is not None:
        call.paused = True
    _ONE_INVOCATION_AT_A_TIME.release()
    try:
        yield
    finally:
        _ONE_INVOCATION_AT_A_TIME.acquire()
        if call is not None:
            call.context.shift_clock(time.monotonic() - paused_at)
            call.paused = False


def error_name(error: BaseException) -> str:
    """What Lambda's Python runtime reports as `errorType`: the exception's class name.

    Handlers re-raise flowops errors as classes named after their `asl_error_name`
    (`flowops.stepfunctions`), so Retry/Catch match the same names here and in AWS; an error a
    handler forgot to name shows up here exactly as it would in AWS, under its class name.
    """
    return type(error).__name__


class HandlerRunner:
    """Patches moto's simple Lambda backend to call handlers in-process."""

    def __init__(
        self,
        env_overrides: Mapping[str, str] | None = None,
        *,
        cpu_allowance_seconds: float = DEFAULT_CPU_ALLOWANCE_SECONDS,
    ) -> None:
        self.env_overrides = dict(env_overrides or {})
        self.cpu_allowance_seconds = cpu_allowance_seconds
        """Real seconds added to each timeout: moto's in-process AWS is slower than AWS."""
        self.invocations: list[Invocation] = []
        self._lock = threading.Lock()
        self._original: Callable[..., Any] | None = None
        self._injected: list[_InjectedError] = []

    def inject_service_error(
        self, function: str, code: str = "TooManyRequestsException", times: int = 1
    ) -> None:
        """The next `times` invokes of functions whose name or handler contains `function` fail with
        Lambda's own `code` (an Invoke API error, so Step Functions names it `Lambda.<code>`)."""
        if code not in LAMBDA_SERVICE_ERROR_STATUSES:
            raise ValueError(
                f"unknown Lambda service error {code!r}; one of {sorted(LAMBDA_SERVICE_ERROR_STATUSES)}"
            )
        with self._lock:
            self._injected.append(_InjectedError(function, code, times))

    def _take_injected(self, function: Any) -> str | None:
        with self._lock:
            for injected in self._injected:
                if injected.times > 0 and (
                    injected.function in function.function_name or injected.function in function.handler
                ):
                    injected.times -= 1
                    return injected.code
        return None

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
        _Worker.retire_idle()

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
        injected = self._take_injected(function)
        if injected is not None:
            self._record(function, raw, f"Lambda.{injected}", started)
            raise _LambdaServiceError(injected, function.function_name)
        error_type: str | None = None
        try:
            event = json.loads(raw) if raw else {}
            handler = _load_handler(function.handler)
            variables = self.environment_of(function)
            context = LocalLambdaContext(
                function_name=function.function_name,
                invoked_function_arn=function.function_arn,
                memory_limit_in_mb=int(function.memory_size or 128),
                timeout_seconds=float(function.timeout or 3),
                time_scale=time_scale_of(variables),
            )
            call = _KillableCall(handler, event, context, variables)
            if not call.run(
                real_timeout=context.timeout_seconds / context.time_scale + self.cpu_allowance_seconds
            ):
                error_type = "Timeout"
                response_headers["x-amz-function-error"] = "Unhandled"
                # What Lambda answers for a timed-out function: no errorType (→ Lambda.Unknown).
                stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
                limit = f"{context.timeout_seconds:.2f}"
                message = f"{stamp} {context.aws_request_id} Task timed out after {limit} seconds"
                self._record(function, event, error_type, started)
                return json.dumps({"errorMessage": message}).encode("utf-8")
            result = call.result()
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
        self._record(function, event, error_type, started)
        return payload

    def _record(self, function: Any, event: Any, error_type: str | None, started: float) -> None:
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


@dataclass
class _InjectedError:
    function: str
    code: str
    times: int


class _LambdaServiceError(JsonRESTError):
    """An error of the Lambda service itself, answered by Invoke before the function runs."""

    def __init__(self, code: str, function_name: str) -> None:
        messages = {
            "TooManyRequestsException": "Rate Exceeded.",
            "ServiceException": "The Lambda service encountered an internal error.",
        }
        super().__init__(code, messages.get(code, f"{code} invoking {function_name}"))
        self.code = LAMBDA_SERVICE_ERROR_STATUSES[code]


class FunctionKilled(BaseException):
    """Raised asynchronously in a handler thread at its timeout: a BaseException, so that the
    handler's own `except Exception` cannot swallow it (Lambda does not ask either)."""


class _KillableCall:
    """One handler call on a worker thread, stopped if it outlives its timeout."""

    def __init__(
        self,
        handler: Callable[[Any, Any], Any],
        event: Any,
        context: LocalLambdaContext,
        variables: dict[str, str],
    ) -> None:
        self._handler, self._event, self.context, self._variables = handler, event, context, variables
        self.paused = False
        self._started = threading.Event()
        self._done = threading.Event()
        self._result: Any = None
        self._error: BaseException | None = None
        self.modules_before: frozenset[str] = frozenset()

    def execute(self) -> None:
        """On the worker thread. FunctionKilled propagates: the worker is then discarded."""
        try:
            # One invocation at a time in this process: in Lambda each concurrent invocation has a
            # process of its own, and handlers keep per-process state (powertools' metric set and
            # logger keys, the webhook resolver's current event) that threads would share here.
            _current.call = self
            with _ONE_INVOCATION_AT_A_TIME, environment.applied(self._variables):
                # The function's clock starts when it runs, not while it waits for the slot.
                self.context.start_clock()
                self.modules_before = frozenset(sys.modules)
                self._started.set()
                self._result = self._handler(self._event, self.context)
        except Exception as error:  # re-raised in the invoking thread
            self._error = error
        finally:
            _current.call = None
            self._started.set()
            self._done.set()

    def run(self, *, real_timeout: float) -> bool:
        """True if the handler finished (or raised) in time; False if it was killed."""
        worker = _Worker.take()
        worker.submit(self)
        self._started.wait()
        while not self._done.wait(_POLL_SECONDS):
            if not self.paused and time.monotonic() >= self.context.real_deadline(real_timeout):
                worker.kill()
                _forget_modules_imported_since(self.modules_before)
                return False
        worker.release()
        return True

    def result(self) -> Any:
        if self._error is not None:
            raise self._error
        return self._result


class _Worker:
    """A thread that runs handler calls one after another, reused like a warm Lambda sandbox (so
    per-thread caches such as the Genesys client and its token survive between invocations), and
    discarded when a call is killed, as Lambda resets the sandbox after a timeout."""

    _idle: list[_Worker] = []
    _idle_lock = threading.Lock()

    def __init__(self) -> None:
        self._calls: queue.SimpleQueue[_KillableCall | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name="local-lambda-worker", daemon=True)
        self._thread.start()

    @classmethod
    def take(cls) -> _Worker:
        with cls._idle_lock:
            if cls._idle:
                return cls._idle.pop()
        return cls()

    def submit(self, call: _KillableCall) -> None:
        self._calls.put(call)

    def release(self) -> None:
        with self._idle_lock:
            self._idle.append(self)

    @classmethod
    def retire_idle(cls) -> None:
        """End the idle workers (a stopped LocalCloud's sessions and clients go with them)."""
        with cls._idle_lock:
            idle, cls._idle = cls._idle, []
        for worker in idle:
            worker._calls.put(None)

    def kill(self) -> None:
        _raise_in_thread(self._thread, FunctionKilled)
        self._thread.join(_KILL_GRACE_SECONDS)

    def _loop(self) -> None:
        try:
            while (call := self._calls.get()) is not None:
                call.execute()
        except FunctionKilled:
            return


def _raise_in_thread(thread: threading.Thread, error: type[BaseException]) -> None:
    # The closest a process can come to Lambda freezing the sandbox: the exception is raised at the
    # thread's next bytecode (a blocking call finishes first; flowops sleeps in short slices).
    if thread.ident is not None:
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), ctypes.py_object(error))


def _forget_modules_imported_since(before: frozenset[str]) -> None:
    """Lambda discards a timed-out sandbox with its half-imported modules; this process cannot.
    A kill in the middle of a lazy import (networkx, say) removes the package being executed from
    `sys.modules` but keeps its submodules that had finished, and a later import of the re-executed
    package never binds them as attributes ("module 'networkx' has no attribute ..."). Forget the
    modules the killed call imported that are now broken: still initializing, or orphaned (their
    package is gone or broken). Modules other threads (moto's executions) imported meanwhile are
    complete and keep their identity."""
    broken: set[str] = set()
    for name in sorted(set(sys.modules) - before, key=lambda n: n.count(".")):
        module = sys.modules.get(name)
        parent = name.rpartition(".")[0]
        initializing = getattr(getattr(module, "__spec__", None), "_initializing", False)
        orphaned = bool(parent) and (parent in broken or parent not in sys.modules)
        if initializing or orphaned:
            broken.add(name)
    for name in broken:
        sys.modules.pop(name, None)


def time_scale_of(variables: Mapping[str, str]) -> float:
    """FLOWOPS_TIME_SCALE of an environment (1 when unset or not a positive number)."""
    try:
        scale = float(variables.get("FLOWOPS_TIME_SCALE", "1") or 1)
    except ValueError:
        return 1.0
    return scale if scale > 0 else 1.0


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
