"""The current-lock pointer per org: a single DynamoDB item moved only by conditional writes.

`advance` succeeds only if the pointer still names the sha the caller diffed against (or, for
the first lock of an org, if there is no pointer yet). Two scans racing from the same previous
lock therefore cannot both win: the loser gets `LockRaceError` naming the winning sha and can
re-diff against it. Nothing is read-modify-written outside DynamoDB's condition check.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict

from flowops.store._dynamo import StateTableStore, from_item, iso_timestamp, to_item
from flowops.store.errors import LockRaceError, error_code, mapped_errors, translate_client_error

if TYPE_CHECKING:
    pass

POINTER_SORT_KEY = "LOCK#CURRENT"


def org_partition_key(org: str) -> str:
    return f"ORG#{org}"


class LockPointer(BaseModel):
    model_config = ConfigDict(frozen=True)

    org: str
    sha: str
    key: str
    """S3 key of the lockfile (`locks/<org>/<sha>.json`)."""
    updated_at: str
    scan_id: str | None = None
    previous_sha: str | None = None
    revision: int = 1
    """Incremented on every advance: how many locks this org has had."""


class LockPointerStore(StateTableStore):
    """Reads and conditionally advances the current-lock pointer in the state table."""

    def get_current(self, org: str) -> LockPointer | None:
        with mapped_errors(f"reading the lock pointer of org {org!r} from {self.table}"):
            response = self._dynamodb.get_item(
                TableName=self.table,
                Key=to_item({"pk": org_partition_key(org), "sk": POINTER_SORT_KEY}),
                ConsistentRead=True,
            )
        item = response.get("Item")
        return _pointer_from_item(org, from_item(item)) if item else None

    def advance(
        self,
        org: str,
        new_sha: str,
        expected_previous_sha: str | None,
        *,
        key: str,
        scan_id: str | None = None,
    ) -> LockPointer:
        """Point `org` at `new_sha` if it still points at `expected_previous_sha` (None: no lock yet).

        Re-running an advance that already happened (a retried Lambda) returns the current
        pointer instead of failing. Raises LockRaceError(winner_sha=...) when another writer won.
        """
        current_revision = 0
        if expected_previous_sha is not None:
            current = self.get_current(org)
            if current is not None and current.sha == expected_previous_sha:
                current_revision = current.revision
        pointer = LockPointer(
            org=org,
            sha=new_sha,
            key=key,
            updated_at=iso_timestamp(self._clock.now()),
            scan_id=scan_id,
            previous_sha=expected_previous_sha,
            revision=current_revision + 1,
        )
        item = to_item(
            {"pk": org_partition_key(org), "sk": POINTER_SORT_KEY, **pointer.model_dump(exclude={"org"})}
        )
        if expected_previous_sha is None:
            condition = "attribute_not_exists(pk)"
            values: dict[str, Any] = {}
        else:
            condition = "#sha = :expected"
            values = {
                "ExpressionAttributeNames": {"#sha": "sha"},
                "ExpressionAttributeValues": to_item({":expected": expected_previous_sha}),
            }
        with mapped_errors(f"advancing the lock pointer of org {org!r}"):
            try:
                self._dynamodb.put_item(
                    TableName=self.table,
                    Item=item,
                    ConditionExpression=condition,
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                    **values,
                )
            except ClientError as error:
                if error_code(error) != "ConditionalCheckFailedException":
                    raise translate_client_error(error, f"advancing the lock pointer of {org!r}") from error
                # With ReturnValuesOnConditionCheckFailure=ALL_OLD the error carries the winning item;
                # older emulators do not, so fall back to a consistent read.
                old_item: Any = dict(error.response).get("Item")
                winner = (
                    _pointer_from_item(org, from_item(old_item))
                    if isinstance(old_item, dict) and old_item
                    else self.get_current(org)
                )
                same = winner is not None and winner.sha == new_sha
                if same and winner is not None and winner.previous_sha == expected_previous_sha:
                    return winner  # this same advance already happened (retry): idempotent success
                raise LockRaceError(org, expected_previous_sha, winner.sha if winner else None) from error
        return pointer


def _pointer_from_item(org: str, values: dict[str, Any]) -> LockPointer:
    return LockPointer(
        org=org,
        sha=str(values["sha"]),
        key=str(values["key"]),
        updated_at=str(values["updated_at"]),
        scan_id=values.get("scan_id"),
        previous_sha=values.get("previous_sha"),
        revision=int(values.get("revision", 1)),
    )
