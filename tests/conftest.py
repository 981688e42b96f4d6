"""Test configuration: fixtures live in tests/helpers and are loaded as plugins."""

pytest_plugins = [
    "tests.helpers.simulator",
    "tests.helpers.cloud",
]
