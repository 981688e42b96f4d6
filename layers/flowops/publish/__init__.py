"""The publish pipeline's core: validation, snapshot, publish, polling, health check, release
and rollback as functions over small ports (see `steps.py`; handlers in src/flowops/functions/publish/)."""
