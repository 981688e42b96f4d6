"""Run the REAL Lambda handlers in-process when moto's Lambda (use_docker=False) is invoked.

`LambdaSimpleBackend.invoke` is replaced while a `HandlerRunner` is active: it imports the
function's dotted `Handler`, applies the function's environment (its template variables plus the
runner's overrides, e.g. GENESYS_BASE_URL of the simulator) as a per-thread overlay, and calls
the handler with the event and a fake Lambda context. A raised exception becomes
`x-amz-function-error: Unhandled` with `{"errorType", "errorMessage", "stackTrace"}` where
errorType is the exception's class name, as Lambda's Python runtime reports it — the names Step
Functions `Retry`/`Catch` match on (handlers name flowops errors with `flowops.stepfunctions`).

**Execution environments.** As in Lambda, concurrent invocations run side by side, each in an
environment of its own: a worker thread per environment, kept warm per function and reused one
invocation at a time (so per-thread caches such as the Genesys client and its token survive, as
they do in a warm sandbox), discarded when its call is killed. What handlers keep per process
(powertools Logger and Metrics state) is kept per environment (`flowops.local.runtime.isolation`).
A function's reserved concurrency (`ReservedConcurrentExecutions`) and the account's concurrency
limit are enforced as Lambda enforces them: a synchronous invoke beyond them is throttled
(`TooManyRequestsException`), an asynchronous one waits for a free environment (Lambda queues and
retries it). Every invocation's start and end are recorded (`Invocation.started`/`.ended`).

**The function's clock.** As in Lambda, a function is killed at its configured timeout, measured
on the function's own clock (`FunctionClock`): compute counts at real time, as in AWS, while a
sleep through the accelerated `flowops.clock.ScaledClock` (FLOWOPS_TIME_SCALE of its environment:
backoff, rate-limit pacing, polling) counts at its scaled length — so a handler's accelerated
waits cost their simulated time and its real work costs what it costs. `cpu_allowance_seconds`
are added to the kill deadline (not to the remaining time the handler sees) for moto being slower
than AWS. The handler thread is stopped with an asynchronous exception and the invoke answers as
Lambda does for a timed-out function: `Unhandled` with only an `errorMessage` ("... Task timed
out after 60.00 seconds"), which Step Functions reports as `Lambda.Unknown`
(`flowops.local.runtime.lambda_errors`). The context's `get_remaining_time_in_millis()` counts
down on the same clock, so code that honours it stops in time. `inject_service_error` makes the
next invokes of a function fail as Lambda itself would (`TooManyRequestsException` for
throttling, `ServiceException`, ...), before the handler runs.
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
from typing import Any, Protocol

from moto.core.exceptions import JsonRESTError
from pydantic import BaseModel, ConfigDict

from flowops.local.runtime import environment, isolation
from flowops.local.runtime.execution_lifecycle import execution_of_client_context

# HTTP statuses Lambda's Invoke answers its own errors with (Lambda API reference, Invoke).
LAMBDA_SERVICE_ERROR_STATUSES = {
    "TooManyRequestsException": 429,
    "ServiceException": 500,
    "AWSLambdaException": 500,
    "ResourceNotReadyException": 502,
    "EC2ThrottledException": 502,
}
DEFAULT_CPU_ALLOWANCE_SECONDS = 2.0
ACCOUNT_CONCURRENCY_LIMIT = 1000
"""Lambda's default concurrent executions per account and region (a Service Quotas default)."""
_KILL_GRACE_SECONDS = 5.0
_POLL_SECONDS = 0.02


class FunctionClock:
    """One invocation's clock, in seconds of the function's time since it started.

    Compute counts at real time (Lambda runs it at 1x); a sleep through the accelerated clock counts
    at its scaled length (`scaled_sleep`); a span the runtime itself holds the function in
    (`paused`, a test hook) does not count at all.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self._uncharged_real = 0.0
        """Real seconds of finished spans not charged as compute (sleeps, pauses)."""
        self._charged_spans = 0.0
        """Function seconds charged for finished spans."""
        self._span_started: float | None = None
        self._span_rate = 0.0

    def start(self) -> None:
        with self._lock:
            self._started = time.monotonic()
            self._uncharged_real = self._charged_spans = 0.0

    def elapsed(self) -> float:
        with self._lock:
            now = time.monotonic()
            uncharged, charged = self._uncharged_real, self._charged_spans
            if self._span_started is not None:
                span = now - self._span_started
                uncharged += span
                charged += span * self._span_rate
            return (now - self._started - uncharged) + charged

    @contextmanager
    def span(self, rate: float) -> Iterator[None]:
        """Within the block, each real second counts `rate` seconds (a nested span counts as the
        outer one)."""
        with self._lock:
            if self._span_started is not None:
                nested = True
            else:
                nested = False
                self._span_started, self._span_rate = time.monotonic(), rate
        try:
            yield
        finally:
            if not nested:
                with self._lock:
                    assert self._span_started is not None
                    span = time.monotonic() - self._span_started
                    self._uncharged_real += span
                    self._charged_spans += span * self._span_rate
                    self._span_started = None

    def scaled_sleep(self, seconds: float, scale: float) -> None:
        """Sleep `seconds` of a clock `scale` times faster than real time: `seconds / scale` real
        seconds, charged as `seconds`. In short slices, so that a kill lands when it is due."""
        with self.span(scale):
            wake = time.monotonic() + seconds / scale
            while (left := wake - time.monotonic()) > 0:
                time.sleep(min(left, _POLL_SECONDS))


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
    """Seconds of the accelerated clock per real second (FLOWOPS_TIME_SCALE of the function)."""
    clock: FunctionClock = field(default_factory=FunctionClock)

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"local/[{self.function_version}]{self.aws_request_id}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - self.clock.elapsed()) * 1000))


class Invocation(BaseModel):
    model_config = ConfigDict(frozen=True)

    function_name: str
    handler: str
    event: Any
    error_type: str | None = None
    """Handler error class name, `Lambda.<Code>` for an injected service error, or `Timeout`."""
    duration_seconds: float
    started: float = 0.0
    """When the handler started (time.monotonic()); when Invoke was answered, for a refusal."""
    ended: float = 0.0
    """When the invocation ended (time.monotonic())."""


_current = threading.local()


@contextmanager
def invocation_slot_released() -> Iterator[None]:
    """Hold the current invocation on purpose (a test hook waiting for a second execution to
    reach the same step, as two Lambda processes would) without charging the wait to its
    function's clock: the test's wait is not the function's time."""
    call: _KillableCall | None = getattr(_current, "call", None)
    if call is None:
        yield
        return
    with call.context.clock.span(0.0):
        yield


def _scaled_sleep(clock: Any, seconds: float) -> None:
    """`flowops.clock.ScaledClock.sleep` while a runner is active: on a handler's thread, the sleep
    is charged to its function's clock at its scaled length."""
    call: _KillableCall | None = getattr(_current, "call", None)
    if seconds <= 0:
        return
    if call is None:
        time.sleep(seconds / clock.scale)
        return
    call.context.clock.scaled_sleep(seconds, clock.scale)


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
        account_concurrency_limit: int = ACCOUNT_CONCURRENCY_LIMIT,
    ) -> None:
        self.env_overrides = dict(env_overrides or {})
        self.cpu_allowance_seconds = cpu_allowance_seconds
        """Seconds added to each kill deadline: moto's in-process AWS is slower than AWS."""
        self.account_concurrency_limit = account_concurrency_limit
        self.invocations: list[Invocation] = []
        self._lock = threading.Lock()
        self._slot_freed = threading.Condition(self._lock)
        self._running: dict[str, int] = {}
        """Invocations running per function ARN (its environments in use)."""
        self.execution_clocks: _TaskObserver | None = None
        """Told when a Lambda task of an execution runs and ends (the execution's clock follows it)."""
        self._original: Callable[..., Any] | None = None
        self._original_sleep: Callable[..., Any] | None = None
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

        from flowops.clock import ScaledClock

        runner = self
        self._original = LambdaSimpleBackend.invoke
        self._original_sleep = ScaledClock.sleep

        def invoke(
            backend: Any,
            function_name: str,
            qualifier: str | None,
            body: Any,
            headers: Any,
            response_headers: Any,
        ) -> bytes:
            function = backend.get_function(function_name, qualifier)
            invocation_type = _header(headers, "X-Amz-Invocation-Type") or "RequestResponse"
            execution_arn = execution_of_client_context(_header(headers, "X-Amz-Client-Context"))
            if invocation_type == "DryRun":
                return b""
            if invocation_type == "Event":
                threading.Thread(
                    target=runner.run,
                    args=(function, body, {}),
                    kwargs={"wait_for_slot": True},
                    name=f"lambda-{function.function_name}",
                    daemon=True,
                ).start()
                return b""
            return runner.run(function, body, response_headers, execution_arn=execution_arn)

        LambdaSimpleBackend.invoke = invoke  # type: ignore[method-assign]
        ScaledClock.sleep = _scaled_sleep  # type: ignore[method-assign,assignment]

    def stop(self) -> None:
        from moto.awslambda_simple.models import LambdaSimpleBackend

        from flowops.clock import ScaledClock

        if self._original is not None:
            LambdaSimpleBackend.invoke = self._original  # type: ignore[method-assign]
            self._original = None
        if self._original_sleep is not None:
            ScaledClock.sleep = self._original_sleep  # type: ignore[method-assign]
            self._original_sleep = None
        _Worker.retire_idle()
        isolation.uninstall()

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

    def running(self) -> int:
        """Invocations running now, across functions."""
        with self._lock:
            return sum(self._running.values())

    def _reserved_concurrency(self, function: Any) -> int | None:
        reserved = getattr(function, "reserved_concurrency", None)
        return None if reserved in (None, "") else int(reserved)

    def _take_slot(self, function: Any, *, wait: bool) -> bool:
        """Claim an environment for `function` within its reserved concurrency and the account's
        limit; False when Lambda would throttle (a synchronous invoke), or wait (`wait`)."""
        reserved = self._reserved_concurrency(function)
        arn = function.function_arn
        with self._lock:
            while True:
                mine = self._running.get(arn, 0)
                total = sum(self._running.values())
                if (reserved is None or mine < reserved) and total < self.account_concurrency_limit:
                    self._running[arn] = mine + 1
                    return True
                if not wait:
                    return False
                self._slot_freed.wait()

    def _free_slot(self, function: Any) -> None:
        with self._lock:
            self._running[function.function_arn] -= 1
            self._slot_freed.notify_all()

    def run(
        self,
        function: Any,
        body: Any,
        response_headers: dict[str, str],
        *,
        wait_for_slot: bool = False,
        execution_arn: str | None = None,
    ) -> bytes:
        """Invoke `function` with `body`; `execution_arn` names the execution whose Lambda task
        this is (its clock follows the function's while it runs)."""
        observer = self.execution_clocks if execution_arn is not None else None
        clock = FunctionClock()
        if observer is not None and execution_arn is not None:
            observer.task_started(execution_arn, clock)
        try:
            return self._run(function, body, response_headers, clock, wait_for_slot=wait_for_slot)
        finally:
            if observer is not None and execution_arn is not None:
                observer.task_ended(execution_arn, clock)

    def _run(
        self,
        function: Any,
        body: Any,
        response_headers: dict[str, str],
        clock: FunctionClock,
        *,
        wait_for_slot: bool,
    ) -> bytes:
        started = time.monotonic()
        raw = body.decode("utf-8") if isinstance(body, bytes) else (body or "")
        injected = self._take_injected(function)
        if injected is not None:
            self._record(function, raw, f"Lambda.{injected}", started, started)
            raise _LambdaServiceError(injected, function.function_name)
        if not self._take_slot(function, wait=wait_for_slot):
            self._record(function, raw, "Lambda.TooManyRequestsException", started, started)
            raise _LambdaServiceError("TooManyRequestsException", function.function_name)
        try:
            return self._run_in_environment(function, raw, response_headers, started, clock)
        finally:
            self._free_slot(function)

    def _run_in_environment(
        self, function: Any, raw: str, response_headers: dict[str, str], started: float, clock: FunctionClock
    ) -> bytes:
        error_type: str | None = None
        event: Any = raw
        call: _KillableCall | None = None
        try:
            event = json.loads(raw) if raw else {}
            handler, one_at_a_time = _load_handler(function.handler)
            variables = self.environment_of(function)
            context = LocalLambdaContext(
                function_name=function.function_name,
                invoked_function_arn=function.function_arn,
                memory_limit_in_mb=int(function.memory_size or 128),
                timeout_seconds=float(function.timeout or 3),
                time_scale=time_scale_of(variables),
                clock=clock,
            )
            call = _KillableCall(handler, event, context, variables, one_at_a_time=one_at_a_time)
            budget = context.timeout_seconds + self.cpu_allowance_seconds
            if not call.run(function.function_arn, budget=budget):
                error_type = "Timeout"
                response_headers["x-amz-function-error"] = "Unhandled"
                # What Lambda answers for a timed-out function: no errorType (→ Lambda.Unknown).
                stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
                limit = f"{context.timeout_seconds:.2f}"
                message = f"{stamp} {context.aws_request_id} Task timed out after {limit} seconds"
                self._record(function, event, error_type, call.handler_started or started)
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
        handler_started = call.handler_started if call is not None else None
        self._record(function, event, error_type, handler_started or started)
        return payload

    def _record(
        self, function: Any, event: Any, error_type: str | None, started: float, ended: float | None = None
    ) -> None:
        ended = time.monotonic() if ended is None else ended
        with self._lock:
            self.invocations.append(
                Invocation(
                    function_name=function.function_name,
                    handler=function.handler,
                    event=event,
                    error_type=error_type,
                    duration_seconds=ended - started,
                    started=started,
                    ended=ended,
                )
            )


class _TaskObserver(Protocol):
    def task_started(self, execution_arn: str, clock: Any) -> None: ...

    def task_ended(self, execution_arn: str, clock: Any) -> None: ...


def _header(headers: Any, name: str) -> str | None:
    """A request header by name, whatever its case."""
    for key, value in dict(headers or {}).items():
        if str(key).lower() == name.lower():
            return str(value)
    return None


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


_CLASS_STATE_LOCK = threading.Lock()
"""Held around handlers whose module keeps per-invocation state on a class
(`flowops.local.runtime.isolation.holds_class_state`): those run one at a time among themselves."""


class _KillableCall:
    """One handler call in an execution environment (a worker thread), killed when its function's
    clock passes its budget."""

    def __init__(
        self,
        handler: Callable[[Any, Any], Any],
        event: Any,
        context: LocalLambdaContext,
        variables: dict[str, str],
        *,
        one_at_a_time: bool = False,
    ) -> None:
        self._handler, self._event, self.context, self._variables = handler, event, context, variables
        self._one_at_a_time = one_at_a_time
        self._started = threading.Event()
        self._done = threading.Event()
        self._result: Any = None
        self._error: BaseException | None = None
        self.handler_started: float | None = None
        self.modules_before: frozenset[str] = frozenset()

    def execute(self) -> None:
        """On the worker thread. FunctionKilled propagates: the worker is then discarded."""
        try:
            _current.call = self
            with (
                _CLASS_STATE_LOCK if self._one_at_a_time else _no_lock(),
                environment.applied(self._variables),
            ):
                # The function's clock starts when it runs, not while it waits for the class lock.
                self.context.clock.start()
                self.handler_started = time.monotonic()
                self.modules_before = frozenset(sys.modules)
                self._started.set()
                self._result = self._handler(self._event, self.context)
        except Exception as error:  # re-raised in the invoking thread
            self._error = error
        finally:
            _current.call = None
            self._started.set()
            self._done.set()

    def run(self, pool: str, *, budget: float) -> bool:
        """True if the handler finished (or raised) within `budget` seconds of its function's
        clock; False if it was killed. `pool` names the function whose warm environments to use."""
        worker = _Worker.take(pool)
        worker.submit(self)
        self._started.wait()
        while not self._done.wait(_POLL_SECONDS):
            if self.context.clock.elapsed() >= budget:
                worker.kill()
                _forget_modules_imported_since(self.modules_before)
                return False
        worker.release(pool)
        return True

    def result(self) -> Any:
        if self._error is not None:
            raise self._error
        return self._result


@contextmanager
def _no_lock() -> Iterator[None]:
    yield


class _Worker:
    """An execution environment: a thread that runs one function's calls one after another, kept
    warm in that function's pool (so per-thread caches such as the Genesys client and its token
    survive between invocations, as in a warm sandbox), discarded when a call is killed, as Lambda
    resets the sandbox after a timeout. Concurrent invocations take different workers."""

    _idle: dict[str, list[_Worker]] = {}
    _idle_lock = threading.Lock()

    def __init__(self) -> None:
        self._calls: queue.SimpleQueue[_KillableCall | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name="local-lambda-worker", daemon=True)
        self._thread.start()

    @classmethod
    def take(cls, pool: str) -> _Worker:
        with cls._idle_lock:
            idle = cls._idle.get(pool)
            if idle:
                return idle.pop()
        return cls()

    def submit(self, call: _KillableCall) -> None:
        self._calls.put(call)

    def release(self, pool: str) -> None:
        with self._idle_lock:
            self._idle.setdefault(pool, []).append(self)

    @classmethod
    def retire_idle(cls) -> None:
        """End the idle workers (a stopped LocalCloud's sessions and clients go with them)."""
        with cls._idle_lock:
            pools, cls._idle = cls._idle, {}
        for idle in pools.values():
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


def _load_handler(path: str) -> tuple[Callable[[Any, Any], Any], bool]:
    """The handler at dotted `path` and whether its invocations must run one at a time (its module
    keeps per-invocation state on a class). Its module's powertools state is made per environment."""
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
    isolation.isolate_module(module)
    return handler, isolation.holds_class_state(module)
