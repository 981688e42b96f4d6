"""Documented exit codes of the `flowops` CLI."""

OK = 0
FAILURE_FOUND = 1
USAGE_ERROR = 2
UNREACHABLE = 3
CHANGES_PLANNED = 4
"""`flowops plan`: the release would change the org (0 there means "no changes")."""
