"""Run items (pk `RUN#<id>`, sk `RUN`) in the state table, moved by conditional transitions.

A transition names the status it expects to leave; DynamoDB applies it only if the item is
still in that status, so two workers can never both move a run (e.g. both start a rollback).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field

from flowops.store._dynamo import StateTableStore, from_item, iso_timestamp, to_item
from flowops.store.errors import RunTransitionError, error_code, mapped_errors, translate_client_error

if TYPE_CHECKING:
    pass

RunStatus = Literal[
    "PENDING",
    "RUNNING",
    "SUCCEEDED",
    "FAILED",
    "ROLLING_BACK",
    "ROLLED_BACK",
    "ROLLBACK_FAILED",
    "RELEASE_UNRECORDED",
    "INTERRUPTED",
]

# INTERRUPTED: the execution ended without its state machine recording how (timed out, aborted,
# or failed where recording failed too); written by the unfinished-runs backstop (flowops.unfinished).
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    "PENDING": frozenset({"RUNNING", "FAILED", "INTERRUPTED"}),
    # RELEASE_UNRECORDED: the release is live and verified, but recording it failed (parked for
    # repair, never rolled back); a repair that completes the records moves it on to SUCCEEDED.
    "RUNNING": frozenset({"SUCCEEDED", "FAILED", "ROLLING_BACK", "RELEASE_UNRECORDED", "INTERRUPTED"}),
    "RELEASE_UNRECORDED": frozenset({"SUCCEEDED"}),
    "ROLLING_BACK": frozenset({"ROLLED_BACK", "ROLLBACK_FAILED", "INTERRUPTED"}),
    "INTERRUPTED": frozenset(),
    "SUCCEEDED": frozenset(),
    "FAILED": frozenset(),
    "ROLLED_BACK": frozenset(),
    "ROLLBACK_FAILED": frozenset(),
}

RUN_SORT_KEY = "RUN"


def run_partition_key(run_id: str) -> str:
    return f"RUN#{run_id}"


class RunItem(BaseModel):
    model_config = ConfigDict(frozen=True)

    run_id: str
    kind: str
    """`scan`, `publish`, `trace`."""
    org: str
    status: RunStatus
    created_at: str
    updated_at: str
    details: dict[str, Any] = Field(default_factory=dict)
    """Small facts about the run (e.g. the version to roll back to); merged on each transition."""


class RunStore(StateTableStore):
    def create(self, run_id: str, kind: str, *, org: str, details: dict[str, Any] | None = None) -> RunItem:
        now = iso_timestamp(self._clock.now())
        run = RunItem(
            run_id=run_id,
            kind=kind,
            org=org,
            status="PENDING",
            created_at=now,
            updated_at=now,
            details=details or {},
        )
        with mapped_errors(f"creating run {run_id!r}"):
            try:
                self._dynamodb.put_item(
                    TableName=self.table,
                    Item=to_item({"pk": run_partition_key(run_id), "sk": RUN_SORT_KEY, **run.model_dump()}),
                    ConditionExpression="attribute_not_exists(pk)",
                )
            except ClientError as error:
                if error_code(error) == "ConditionalCheckFailedException":
                    raise RunTransitionError(f"run {run_id!r} already exists") from error
                raise translate_client_error(error, f"creating run {run_id!r}") from error
        return run

    def get(self, run_id: str) -> RunItem | None:
        with mapped_errors(f"reading run {run_id!r} from {self.table}"):
            response = self._dynamodb.get_item(
                TableName=self.table,
                Key=to_item({"pk": run_partition_key(run_id), "sk": RUN_SORT_KEY}),
                ConsistentRead=True,
            )
        item = response.get("Item")
        if not item:
            return None
        values = from_item(item)
        values.pop("pk", None)
        values.pop("sk", None)
        return RunItem.model_validate(values)

    def note(self, run_id: str, status: RunStatus, details: dict[str, Any]) -> None:
        """Merge `details` into the run item while it is still in `status` (no status change).

        Used to write down a fact before acting on it (e.g. the Architect job a step registered,
        before it uploads), so a retried step can find what its earlier attempt did. Repeating a
        note is harmless; a run that moved on raises RunTransitionError.
        """
        names = {"#status": "status", "#updated_at": "updated_at"}
        values: dict[str, Any] = {":status": status, ":now": iso_timestamp(self._clock.now())}
        update = "SET #updated_at = :now"
        for index, (name, value) in enumerate(sorted(details.items())):
            names[f"#d{index}"] = name
            values[f":d{index}"] = value
            update += f", details.#d{index} = :d{index}"
        with mapped_errors(f"noting facts on run {run_id!r}"):
            try:
                self._dynamodb.update_item(
                    TableName=self.table,
                    Key=to_item({"pk": run_partition_key(run_id), "sk": RUN_SORT_KEY}),
                    UpdateExpression=update,
                    ConditionExpression="#status = :status",
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=to_item(values),
                )
            except ClientError as error:
                if error_code(error) != "ConditionalCheckFailedException":
                    raise translate_client_error(error, f"noting facts on run {run_id!r}") from error
                current = self.get(run_id)
                if (
                    current is None
                    or current.status != status
                    or any(current.details.get(name) != value for name, value in details.items())
                ):
                    found = current.status if current else "missing"
                    raise RunTransitionError(f"run {run_id!r} is {found}, not {status}") from error
                # An ambiguous write: applied, then answered with the condition failing.

    def move(self, run_id: str, to_status: RunStatus, *, details: dict[str, Any]) -> None:
        """Transition the run item from whatever it is now; a repeat of the same move is a no-op
        (a retried step already moved it), and so is a move whose answer was lost."""
        current = self.get(run_id)
        if current is None:
            raise RunTransitionError(f"run {run_id!r} has no run item")
        if current.status == to_status:
            return
        # An absent fact is left out (DynamoDB would refuse a NULL expression value).
        known = {name: value for name, value in details.items() if value is not None}
        try:
            self.transition(run_id, current.status, to_status, details=known)
        except RunTransitionError:
            # The conditional update may have been applied with its answer lost (the retry then
            # fails the condition): finding the item in the target status is this move's success.
            after = self.get(run_id)
            if after is None or after.status != to_status:
                raise

    def transition(
        self,
        run_id: str,
        from_status: RunStatus,
        to_status: RunStatus,
        *,
        details: dict[str, Any] | None = None,
    ) -> RunItem:
        if to_status not in ALLOWED_TRANSITIONS[from_status]:
            raise RunTransitionError(
                f"run {run_id!r}: {from_status} → {to_status} is not an allowed transition"
            )
        names = {"#status": "status", "#updated_at": "updated_at"}
        values: dict[str, Any] = {
            ":from": from_status,
            ":to": to_status,
            ":now": iso_timestamp(self._clock.now()),
        }
        update = "SET #status = :to, #updated_at = :now"
        for index, (name, value) in enumerate(sorted((details or {}).items())):
            names[f"#d{index}"] = name
            values[f":d{index}"] = value
            update += f", details.#d{index} = :d{index}"
        with mapped_errors(f"moving run {run_id!r} to {to_status}"):
            try:
                response = self._dynamodb.update_item(
                    TableName=self.table,
                    Key=to_item({"pk": run_partition_key(run_id), "sk": RUN_SORT_KEY}),
                    UpdateExpression=update,
                    ConditionExpression="#status = :from",
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=to_item(values),
                    ReturnValues="ALL_NEW",
                )
            except ClientError as error:
                if error_code(error) == "ConditionalCheckFailedException":
                    current = self.get(run_id)
                    found = current.status if current else "missing"
                    raise RunTransitionError(
                        f"run {run_id!r}: expected status {from_status} to move to {to_status}, "
                        f"but it is {found}"
                    ) from error
                raise translate_client_error(error, f"moving run {run_id!r} to {to_status}") from error
        values_ = from_item(response.get("Attributes", {}))
        values_.pop("pk", None)
        values_.pop("sk", None)
        return RunItem.model_validate(values_)
