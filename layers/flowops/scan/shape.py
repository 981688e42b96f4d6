"""The scan's shape and limits, shared by the stack (Map concurrency, derived timeout) and the core
(page planner, request bounds, index polling); no imports, so the CLI and the CDK app read it
without loading the scan's models."""

# Pages the scan's Map reads at once. With a per-token limit each reader's token has its own budget
# (4 x 300/min); with a per-client or per-org limit the readers share one schedule
# (docs/genesys-limits.md). The planner cuts the flows into a multiple of this many equal pages, so
# that no reader sits idle while the last pages are read.
PAGE_READERS = 4

# The page Map's items are history events of the scan execution (25,000 at most): a requested
# page size that would need more pages than this is raised until it fits (flows per page only
# change the read's granularity). 200 pages of 500 flows: orgs up to 100,000 flows.
MAX_SCAN_PAGES = 200
# The longest a scan may wait for the dependency index; the wait loop's history events are bounded
# by it too.
MAX_INDEX_DEADLINE_SECONDS = 3600
# Capped exponential backoff between checks of a rebuilding index: 5, 10, 20, ... 120 s.
INDEX_POLL_BASE_SECONDS = 5
INDEX_POLL_CAP_SECONDS = 120


def index_poll_wait(
    attempt: int, base: int = INDEX_POLL_BASE_SECONDS, cap: int = INDEX_POLL_CAP_SECONDS
) -> int:
    """Seconds to wait after the `attempt`-th check (0-based) of a rebuilding index."""
    # min() before the shift keeps the arithmetic bounded on very long polls.
    return int(min(cap, base * (2 ** min(attempt, 30))))


def index_checks_within(deadline_seconds: int) -> int:
    """How many checks of the index a scan makes at most before its deadline ends the wait."""
    checks, waited = 1, 0
    while waited < deadline_seconds:
        waited += index_poll_wait(checks - 1)
        checks += 1
    return checks
