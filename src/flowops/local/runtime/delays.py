"""Record Step Functions Wait and Retry delays instead of sleeping them.

moto's ASL interpreter sleeps in two places (see shared docs/local-aws.md):
`WaitFunction._wait_interval` (Wait states) and `time.sleep` inside `RetrierDecl._eval_body`
(Retry intervals). Both are patched while a `DelayRecorder` is active: the delay is appended
to the recorder, keyed by execution ARN, and the interpreter continues at once. Tests then
ASSERT the backoff sequence rather than wait for it. The recorded time still counts: it is part of
the execution's clock (`flowops.local.runtime.execution_lifecycle`), and `after_record` lets that clock
hold a delay that crosses the execution's timeout.
"""

from __future__ import annotations

import threading
import types
from collections import defaultdict
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

DelayKind = Literal["wait", "retry"]


class RecordedDelay(BaseModel):
    model_config = ConfigDict(frozen=True)

    state: str
    seconds: float
    kind: DelayKind


class DelayRecorder:
    """Collects delays per execution ARN; start()/stop() install and remove the moto patches."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._delays: dict[str, list[RecordedDelay]] = defaultdict(list)
        self._retrier_env = threading.local()
        self._restore: list[tuple[Any, str, Any]] = []
        self._children: dict[str, list[str]] = defaultdict(list)
        self._parents: dict[str, str] = {}
        self.after_record: Callable[[str], None] | None = None
        """Called with the execution ARN after each delay is recorded (outside the lock)."""

    def adopt(self, parent_arn: str, child_arn: str) -> None:
        """`child_arn` was started by `parent_arn` (`startExecution.sync`), which waits for it: the
        child's waited time is the parent's too."""
        with self._lock:
            self._children[parent_arn].append(child_arn)
            self._parents[child_arn] = parent_arn

    def seconds_for(self, execution_arn: str) -> float:
        """The total of the delays `execution_arn` and the child executions it waited for
        recorded (its waited time). Children that ran side by side are added up: harsher than
        AWS, never kinder."""
        with self._lock:
            return self._seconds_for(execution_arn)

    def _seconds_for(self, execution_arn: str) -> float:
        own = sum(delay.seconds for delay in self._delays.get(execution_arn, []))
        return own + sum(self._seconds_for(child) for child in self._children.get(execution_arn, []))

    def delays_for(self, execution_arn: str) -> list[RecordedDelay]:
        with self._lock:
            return list(self._delays.get(execution_arn, []))

    def all_delays(self) -> dict[str, list[RecordedDelay]]:
        with self._lock:
            return {arn: list(items) for arn, items in self._delays.items()}

    def record(self, env: Any, seconds: float, kind: DelayKind) -> None:
        context = env.states.context_object.context_object_data
        execution_arn = str(context.get("Execution", {}).get("Id", "<unknown execution>"))
        state = str(context.get("State", {}).get("Name", "<unknown state>"))
        with self._lock:
            self._delays[execution_arn].append(RecordedDelay(state=state, seconds=float(seconds), kind=kind))
        if self.after_record is not None:
            arn: str | None = execution_arn
            while arn is not None:  # the execution, then each parent waiting for it
                self.after_record(arn)
                with self._lock:
                    arn = self._parents.get(arn)

    def start(self) -> None:
        from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
        from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import (
            WaitFunction,
        )

        recorder = self

        def record_wait(function_self: Any, env: Any, wait_seconds: int) -> None:
            recorder.record(env, wait_seconds, "wait")

        original_eval = retrier_decl.RetrierDecl._eval_body

        def retrier_eval_body(retrier_self: Any, env: Any) -> None:
            # The retrier's sleep gets no env: remember it per thread for the patched time.sleep.
            recorder._retrier_env.current = env
            try:
                original_eval(retrier_self, env)
            finally:
                recorder._retrier_env.current = None

        def record_retry_sleep(seconds: float) -> None:
            env = getattr(recorder._retrier_env, "current", None)
            if env is not None:
                recorder.record(env, seconds, "retry")

        fake_time = types.SimpleNamespace(sleep=record_retry_sleep)
        self._patch(WaitFunction, "_wait_interval", record_wait)
        self._patch(retrier_decl.RetrierDecl, "_eval_body", retrier_eval_body)
        self._patch(retrier_decl, "time", fake_time)

    def stop(self) -> None:
        while self._restore:
            target, name, original = self._restore.pop()
            setattr(target, name, original)

    def _patch(self, target: Any, name: str, replacement: Any) -> None:
        self._restore.append((target, name, getattr(target, name)))
        setattr(target, name, replacement)
