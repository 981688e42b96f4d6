"""Step 5: make the new lock current, unless another scan got there first.

The pointer moves only by a conditional write on the sha this run planned against, so two
concurrent scans can never lose an update: the loser's lock stays stored (it is immutable
and content-addressed) but not current, and the report step diffs it against the winner.
An unchanged org (same sha as the current lock) leaves the pointer alone.
"""

from __future__ import annotations

from flowops.scan.models import AdvancePointerRequest, PointerOutcome
from flowops.scan.ports import LockPointers
from flowops.store.errors import LockRaceError


def advance_lock_pointer(
    pointers: LockPointers, request: AdvancePointerRequest, *, org: str
) -> PointerOutcome:
    new_sha = request.lock.lock_sha256
    previous_sha = request.plan.previous_lock_sha
    if new_sha == previous_sha:
        return PointerOutcome(
            advanced=False,
            unchanged=True,
            race=False,
            current_sha=new_sha,
            compared_with_sha=previous_sha,
            message=f"org {org} unchanged: lock {new_sha[:12]} is already current",
        )
    try:
        pointers.advance(org, new_sha, previous_sha, key=request.lock.lock_key, scan_id=request.scan.scan_id)
    except LockRaceError as race:
        winner = race.winner_sha
        same = winner == new_sha
        return PointerOutcome(
            advanced=False,
            unchanged=same,
            race=True,
            current_sha=winner or new_sha,
            compared_with_sha=winner,
            message=(
                f"another scan advanced the lock of org {org} first (to {str(winner)[:12]}); "
                + (
                    "it recorded the same org state"
                    if same
                    else f"this scan's lock {new_sha[:12]} is stored but not current; drift is reported "
                    "against the winning lock"
                )
            ),
        )
    return PointerOutcome(
        advanced=True,
        unchanged=False,
        race=False,
        current_sha=new_sha,
        compared_with_sha=previous_sha,
        message=(
            f"lock of org {org} advanced from {previous_sha[:12]} to {new_sha[:12]}"
            if previous_sha
            else f"first lock of org {org}: {new_sha[:12]}"
        ),
    )
