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
  (`flowops.local.runtime.delays`). Here an execution's clock is its real elapsed time times the time
  scale (FLOWOPS_TIME_SCALE of the local cloud) plus every Wait and Retry delay it recorded; when
  it passes `TimeoutSeconds` the execution ends TIMED_OUT, as in AWS. A Wait or Retry delay that
  crosses the timeout holds its state until the timeout is declared (as the sleep would in AWS),
  so a machine never runs past its timeout on recorded time. As in AWS, a Lambda still running
  when its execution times out is not stopped; its answer is ignored.
- **StopExecution ends the execution at once** (ABORTED), where moto waited for the running
  state to finish first.

A private moto API (moto is pinned); `uninstall()` restores it.
"""

from __future__ import annotations

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


class ExecutionClocks:
    """Each running execution's clock: real elapsed time times the time scale + recorded delays."""

    def __init__(self, recorded_seconds: Callable[[str], float], time_scale: Callable[[], float]) -> None:
        self._recorded_seconds = recorded_seconds
        self._time_scale = time_scale
        self._lock = threading.Lock()
        self._started: dict[str, float] = {}
        self._timeouts: dict[str, float] = {}
        self._timed_out: dict[str, threading.Event] = {}

    def start(self, execution_arn: str, timeout_seconds: float) -> None:
        with self._lock:
            self._started[execution_arn] = time.monotonic()
            self._timeouts[execution_arn] = timeout_seconds
            self._timed_out[execution_arn] = threading.Event()

    def finish(self, execution_arn: str) -> None:
        with self._lock:
            self._started.pop(execution_arn, None)
            self._timeouts.pop(execution_arn, None)
            event = self._timed_out.pop(execution_arn, None)
        if event is not None:
            event.set()  # release any state held at the timeout

    def elapsed(self, execution_arn: str) -> float:
        with self._lock:
            started = self._started.get(execution_arn)
        if started is None:
            return 0.0
        return (time.monotonic() - started) * self._time_scale() + self._recorded_seconds(execution_arn)

    def expired(self, execution_arn: str) -> bool:
        with self._lock:
            timeout = self._timeouts.get(execution_arn)
        return timeout is not None and self.elapsed(execution_arn) >= timeout

    def declare_timed_out(self, execution_arn: str) -> None:
        with self._lock:
            event = self._timed_out.get(execution_arn)
        if event is not None:
            event.set()

    def hold_if_expired(self, execution_arn: str) -> None:
        """Called after a delay is recorded: a delay that crossed the timeout waits for it."""
        if not self.expired(execution_arn):
            return
        with self._lock:
            event = self._timed_out.get(execution_arn)
        if event is not None:
            event.wait(_HOLD_SECONDS)


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

    original_eval = Program.eval
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
