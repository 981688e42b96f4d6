"""The shape of the scan's page Map, shared by the stack and the page planner (no imports: the
CLI and the CDK app read it without loading the scan's models)."""

# Pages the scan's Map reads at once. With a per-token limit each reader's token has its own budget
# (4 x 300/min); with a per-client or per-org limit the readers share one schedule
# (docs/genesys-limits.md). The planner cuts the flows into a multiple of this many equal pages, so
# that no reader sits idle while the last pages are read.
PAGE_READERS = 4
