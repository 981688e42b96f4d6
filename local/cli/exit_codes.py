"""Documented exit codes of the `flowops` CLI."""

OK = 0
FAILURE_FOUND = 1
USAGE_ERROR = 2
UNREACHABLE = 3
