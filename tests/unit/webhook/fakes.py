"""In-memory, thread-safe stand-ins for the webhook's collaborators."""

from __future__ import annotations

import threading

from botocore.exceptions import ClientError

from flowops.webhook.replay import DeliveryRecord, DeliveryStatus
from flowops.webhook.starter import ExecutionNameTakenError, execution_arn_from

STATE_MACHINE_ARN = "arn:aws:states:eu-west-1:123456789012:stateMachine:flowops-publish"


class FixedClock:
    def __init__(self, now: float = 1_750_000_000.0) -> None:
        self.current = now

    def now(self) -> float:
        return self.current

    def monotonic(self) -> float:
        return self.current

    def sleep(self, seconds: float) -> None:
        self.current += seconds


class InMemoryLedger:
    """`DeliveryLedger` with the same atomicity as DynamoDB's conditional writes (one lock)."""

    def __init__(self) -> None:
        self.records: dict[str, DeliveryRecord] = {}
        self._lock = threading.Lock()

    def claim(self, record: DeliveryRecord) -> DeliveryRecord | None:
        with self._lock:
            existing = self.records.get(record.delivery_id)
            if existing is not None:
                return existing
            self.records[record.delivery_id] = record
            return None

    def take_over(self, stale: DeliveryRecord, *, now: float) -> bool:
        with self._lock:
            current = self.records.get(stale.delivery_id)
            if current is None or current.status is not DeliveryStatus.CLAIMED:
                return False
            if current.claimed_at != stale.claimed_at:
                return False
            self.records[stale.delivery_id] = current.model_copy(update={"claimed_at": now})
            return True

    def replace(self, current: DeliveryRecord, successor: DeliveryRecord) -> bool:
        with self._lock:
            stored = self.records.get(current.delivery_id)
            if stored is None or (stored.execution_name, stored.claimed_at) != (
                current.execution_name,
                current.claimed_at,
            ):
                return False
            self.records[current.delivery_id] = successor
            return True

    def mark_started(self, delivery_id: str, execution_arn: str) -> None:
        with self._lock:
            current = self.records[delivery_id]
            self.records[delivery_id] = current.model_copy(
                update={"status": DeliveryStatus.STARTED, "execution_arn": execution_arn}
            )

    def release(self, delivery_id: str, *, claimed_at: float) -> None:
        with self._lock:
            current = self.records.get(delivery_id)
            if (
                current is not None
                and current.status is DeliveryStatus.CLAIMED
                and current.claimed_at == claimed_at
            ):
                del self.records[delivery_id]


class RecordingStarter:
    """`ExecutionStarter` that records starts; names are unique like in Step Functions."""

    def __init__(self, *, failures: int = 0, clock: FixedClock | None = None) -> None:
        self.started: dict[str, str] = {}
        self.started_at: dict[str, float] = {}
        self.clock = clock or FixedClock()
        self.calls = 0
        self._failures_left = failures
        self._lock = threading.Lock()

    def execution_arn(self, name: str) -> str:
        return execution_arn_from(STATE_MACHINE_ARN, name)

    def start(self, name: str, input_json: str, *, not_before: float | None = None) -> str:
        with self._lock:
            self.calls += 1
            if self._failures_left > 0:
                self._failures_left -= 1
                raise ClientError(
                    {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "StartExecution"
                )
            if name in self.started and not_before is not None and self.started_at[name] < not_before:
                raise ExecutionNameTakenError(name)
            self.started.setdefault(name, input_json)
            self.started_at.setdefault(name, self.clock.now())
            return self.execution_arn(name)
