"""What Step Functions does around an execution that moto's interpreter leaves out.

- **Status-change events.** A Standard execution that starts or ends emits a "Step Functions
  Execution Status Change" event (source `aws.states`) to EventBridge; `install()` makes every
  execution do so through `emit`, with the detail AWS sends (the DescribeExecution fields:
  executionArn, stateMachineArn, name, status, startDate/stopDate in epoch milliseconds, input,
  inputDetails, output, outputDetails, and error/cause when the execution has them). The event of
  an ending execution is announced before its status becomes visible, so whoever sees the status
  can `drain()` the bus and find the event delivered.
- **The execution timeout on the accelerated clock.** moto times an execution out after
  `TimeoutSeconds` of REAL time, while waits and retry delays are recorded, not slept
  (`flowops.local.runtime.delays`). Here an execution's clock runs at the time scale
  (FLOWOPS_TIME_SCALE of the local cloud) between its Lambda tasks, follows their function clocks
  while they run (`ExecutionClocks`), and adds every Wait and Retry delay it recorded; when it
  passes `TimeoutSeconds` the execution ends TIMED_OUT, as in AWS. Each Lambda task's Invoke names
  its execution in its ClientContext (`execution_client_context`) for the local runtime. A Wait
  or Retry delay that crosses the timeout holds its state until the timeout is declared (as the
  sleep would in AWS), so a machine never runs past its timeout on recorded time. As in AWS, a
  Lambda still running when its execution times out is not stopped; its answer is ignored.
- **StopExecution ends the execution at once** (ABORTED), where moto waited for the running
  state to finish first.

A private moto API (moto is pinned); `uninstall()` restores it.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

STATUS_CHANGE_DETAIL_TYPE = "Step Functions Execution Status Change"
STATUS_CHANGE_SOURCE = "aws.states"
_POLL_SECONDS = 0.02
_HOLD_SECONDS = 10.0

Emit = Callable[[dict[str, Any]], None]
"""Put one event (the full envelope) on the bus."""


class _ClockState:
    def __init__(self, timeout_seconds: float) -> None:
        self.timeout_seconds = timeout_seconds
        self.last_sample = time.monotonic()
        self.charged = 0.0
        """Seconds of the execution's clock so far, recorded delays apart."""
        self.tasks: dict[int, tuple[Any, float]] = {}
        """Lambda tasks in flight: id -> (their FunctionClock, its reading at the last sample)."""
        self.timed_out = threading.Event()


class ExecutionClocks:
    """Each running execution's clock, plus every Wait and Retry delay it recorded.

    While none of its Lambda tasks runs, the clock runs at the time scale (moto's interpreter
    stands in for Step Functions' own, accelerated, time). While some do, it follows their
    function clocks (`flowops.local.runtime.lambdas.FunctionClock`: compute at real time,
    accelerated sleeps at their scaled length), the fastest of them when several run at once: a
    Lambda's compute costs its execution what it costs the function, as in AWS.
    """

    def __init__(self, recorded_seconds: Callable[[str], float], time_scale: Callable[[], float]) -> None:
        self._recorded_seconds = recorded_seconds
        self._time_scale = time_scale
        self._lock = threading.Lock()
        self._states: dict[str, _ClockState] = {}

    def start(self, execution_arn: str, timeout_seconds: float) -> None:
        with self._lock:
            self._states[execution_arn] = _ClockState(timeout_seconds)

    def finish(self, execution_arn: str) -> None:
        with self._lock:
            state = self._states.pop(execution_arn, None)
        if state is not None:
            state.timed_out.set()  # release any state held at the timeout

    def _sample(self, state: _ClockState) -> None:
        """Advance `state` to now (under the lock)."""
        now = time.monotonic()
        if state.tasks:
            readings = {key: (clock, clock.elapsed()) for key, (clock, _) in state.tasks.items()}
            state.charged += max(
                max(0.0, reading - state.tasks[key][1]) for key, (_, reading) in readings.items()
            )
            state.tasks = readings
        else:
            state.charged += (now - state.last_sample) * self._time_scale()
        state.last_sample = now

    def task_started(self, execution_arn: str, clock: Any) -> None:
        """A Lambda task of `execution_arn` runs on `clock` (a FunctionClock) from now."""
        with self._lock:
            state = self._states.get(execution_arn)
            if state is not None:
                self._sample(state)
                state.tasks[id(clock)] = (clock, clock.elapsed())

    def task_ended(self, execution_arn: str, clock: Any) -> None:
        with self._lock:
            state = self._states.get(execution_arn)
            if state is not None and id(clock) in state.tasks:
                self._sample(state)
                del state.tasks[id(clock)]

    def elapsed(self, execution_arn: str) -> float:
        with self._lock:
            state = self._states.get(execution_arn)
            if state is None:
                return 0.0
            self._sample(state)
            charged = state.charged
        return charged + self._recorded_seconds(execution_arn)

    def expired(self, execution_arn: str) -> bool:
        with self._lock:
            state = self._states.get(execution_arn)
        return state is not None and self.elapsed(execution_arn) >= state.timeout_seconds

    def declare_timed_out(self, execution_arn: str) -> None:
        with self._lock:
            state = self._states.get(execution_arn)
        if state is not None:
            state.timed_out.set()

    def hold_if_expired(self, execution_arn: str) -> None:
        """Called after a delay is recorded: a delay that crossed the timeout waits for it."""
        if not self.expired(execution_arn):
            return
        with self._lock:
            state = self._states.get(execution_arn)
        if state is not None:
            state.timed_out.wait(_HOLD_SECONDS)


EXECUTION_CLIENT_CONTEXT_KEY = "flowops-local-execution"


def execution_client_context(execution_arn: str) -> str:
    """The Invoke ClientContext (base64 JSON) naming the execution a Lambda task belongs to."""
    document = {"custom": {EXECUTION_CLIENT_CONTEXT_KEY: execution_arn}}
    return base64.b64encode(json.dumps(document).encode("utf-8")).decode("ascii")


def execution_of_client_context(client_context: str | None) -> str | None:
    """The execution ARN `execution_client_context` put in an Invoke's ClientContext, if any."""
    if not client_context:
        return None
    try:
        document = json.loads(base64.b64decode(client_context))
    except (ValueError, TypeError):
        return None
    custom = document.get("custom") if isinstance(document, dict) else None
    value = custom.get(EXECUTION_CLIENT_CONTEXT_KEY) if isinstance(custom, dict) else None
    return value if isinstance(value, str) else None


def _epoch_millis(value: datetime | None) -> int | None:
    return int(value.timestamp() * 1000) if value is not None else None


def status_change_detail(execution: Any) -> dict[str, Any]:
    """The event detail of a moto parser `Execution`, as Step Functions sends it."""
    status = str(getattr(execution.exec_status, "value", execution.exec_status))
    succeeded = status == "SUCCEEDED"
    detail: dict[str, Any] = {
        "executionArn": execution.exec_arn,
        "stateMachineArn": execution.state_machine.arn,
        "name": execution.name,
        "status": status,
        "startDate": _epoch_millis(execution.start_date),
        "stopDate": _epoch_millis(execution.stop_date) if status != "RUNNING" else None,
        "input": json.dumps(execution.input_data, separators=(",", ":")),
        "inputDetails": {"included": True},
        "output": json.dumps(execution.output, separators=(",", ":")) if succeeded else None,
        "outputDetails": {"included": True} if succeeded else None,
    }
    if execution.error is not None:
        detail["error"] = execution.error
    if execution.cause is not None:
        detail["cause"] = execution.cause
    return detail


class _Installed:
    def __init__(self) -> None:
        self.restore: list[tuple[Any, str, Any]] = []

    def patch(self, target: Any, name: str, replacement: Any) -> None:
        self.restore.append((target, name, getattr(target, name)))
        setattr(target, name, replacement)


_installed: _Installed | None = None


def install(
    *,
    emit: Emit,
    announce: Callable[[], Any],
    envelope: Callable[[str, str, dict[str, Any], list[str]], dict[str, Any]],
    clocks: ExecutionClocks,
) -> None:
    """Patch moto: status-change events through `emit` (each end `announce`d first) and the
    execution timeout on `clocks`. `envelope(source, detail_type, detail, resources)` builds the
    event around a detail."""
    global _installed
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
    from moto.stepfunctions.parser.asl.component.program.program import Program
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped
    from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication, Execution
    from moto.stepfunctions.parser.utils import TMP_THREADS

    if _installed is not None:
        raise RuntimeError("the execution lifecycle patches are already installed")
    installed = _Installed()

    def publish(execution: Any) -> None:
        if str(getattr(execution.sm_type, "value", execution.sm_type)) != "STANDARD":
            return  # Express workflows emit no status-change events
        detail = status_change_detail(execution)
        emit(envelope(STATUS_CHANGE_SOURCE, STATUS_CHANGE_DETAIL_TYPE, detail, [execution.exec_arn]))

    original_start = Execution.start

    def start(execution: Any) -> None:
        original_start(execution)
        publish(execution)

    original_terminated = BaseExecutionWorkerCommunication.terminated

    def terminated(communication: Any) -> None:
        execution = communication.execution
        with announce():
            original_terminated(communication)
            clocks.finish(execution.exec_arn)
            publish(execution)

    def program_eval(program: Any, env: Any) -> None:
        if env.is_frame():
            return original_eval(program, env)
        timeout = program.timeout_seconds.timeout_seconds if program.timeout_seconds else None
        execution_arn = str(env.states.context_object.context_object_data["Execution"]["Id"])
        if timeout is not None:
            clocks.start(execution_arn, float(timeout))
        env.next_state_name = program.start_at.start_at_name
        worker = threading.Thread(target=EvalComponent.eval, args=(program, env), daemon=True)
        TMP_THREADS.append(worker)
        worker.start()
        while worker.is_alive():
            worker.join(_POLL_SECONDS)
            if not worker.is_alive():
                break
            if isinstance(env.program_state(), ProgramStopped):
                # StopExecution ends the execution at once, as in AWS (its running task is not
                # waited for; a Lambda it invoked runs on, unobserved).
                return None
            if timeout is not None and clocks.expired(execution_arn):
                env.set_timed_out()
                clocks.declare_timed_out(execution_arn)
                return None
        return None

    original_invoke = lambda_eval_utils.execute_lambda_function_integration

    def invoke_naming_the_execution(env: Any, parameters: dict[str, Any], **kwargs: Any) -> None:
        # Tell the local Lambda runtime whose task this is (ClientContext, which it keeps from
        # the handler), so the execution's clock can follow the function's.
        execution_arn = str(env.states.context_object.context_object_data["Execution"]["Id"])
        parameters = {**parameters, "ClientContext": execution_client_context(execution_arn)}
        original_invoke(env=env, parameters=parameters, **kwargs)

    original_eval = Program.eval
    installed.patch(lambda_eval_utils, "execute_lambda_function_integration", invoke_naming_the_execution)
    installed.patch(Execution, "start", start)
    installed.patch(BaseExecutionWorkerCommunication, "terminated", terminated)
    installed.patch(Program, "eval", program_eval)
    _installed = installed


def uninstall() -> None:
    global _installed
    if _installed is None:
        return
    while _installed.restore:
        target, name, original = _installed.restore.pop()
        setattr(target, name, original)
    _installed = None
