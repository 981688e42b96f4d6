"""State-table partitions that IAM grants one by one (`dynamodb:LeadingKeys`).

The stack pins a function's UpdateItem to exactly one of these partitions, and the core writes
under it: both build the key here. No imports, so the CDK app reads it without loading the
store or Git modules that use it.
"""

RATE_SCHEDULE_PREFIX = "RATE#"
PENDING_MIRROR_PREFIX = "gitmirror#"


def rate_schedule_partition(org: str) -> str:
    """The org's shared Genesys rate-limit schedule (`flowops.store.rate_schedule`)."""
    return f"{RATE_SCHEDULE_PREFIX}{org}"


def pending_mirror_partition(org: str) -> str:
    """The org's pending `live/<env>` mirrors (`flowops.git.pending`)."""
    return f"{PENDING_MIRROR_PREFIX}{org}"
