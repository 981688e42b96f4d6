"""DynamoDB's conditional writes, atomic in the local runtime as they are in AWS.

DynamoDB evaluates a ConditionExpression and applies the write as one atomic step per item;
that is what the publish lease, the delivery claims and the lock pointer rely on. moto checks
the condition and then writes, without a lock, so two handlers running in two threads (Map
iterations, concurrent executions) can both pass the same check. While a LocalCloud runs, every
write of moto's DynamoDB backend goes through one lock, which restores the guarantee (one table
lock is stronger than DynamoDB's per-item atomicity, and costs nothing at local volumes).

The lock covers moto's response handlers too: `update_item` builds its `ReturnValues` (UPDATED_NEW,
ALL_NEW, ...) from the stored item object AFTER the backend wrote it, so without the lock a
concurrent write shows through and two callers read the same "new" value (the shared rate-limit
schedule reserves slots by exactly that value).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any
from unittest import mock

WRITE_METHODS = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")

_write_lock = threading.RLock()


def _serialized(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with _write_lock:
            return method(*args, **kwargs)

    return locked


def atomic_write_patches() -> list[Any]:
    """Started `mock.patch` objects serializing moto's DynamoDB writes; stop them to undo."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.responses import DynamoHandler

    patches = []
    for owner in (DynamoDBBackend, DynamoHandler):
        for name in WRITE_METHODS:
            original = getattr(owner, name, None)
            if original is None:
                continue
            patch = mock.patch.object(owner, name, _serialized(original))
            patch.start()
            patches.append(patch)
    return patches
