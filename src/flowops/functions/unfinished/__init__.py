"""The unfinished-runs backstop: EventBridge status changes of executions that ended unrecorded."""
