"""Where the unfinished-runs backstop sends its notifications (set by infra/constructs/unfinished_runs.py)."""

from __future__ import annotations

from pydantic_settings import BaseSettings


class UnfinishedSettings(BaseSettings):
    alarm_topic_arn: str = ""
    """Operations: a run timed out or failed unrecorded, nothing left changed in Genesys."""
    publish_people_topic_arn: str = ""
    """The publish RollbackFailed topic: a publish may have left Genesys changed, unverified."""
    release_people_topic_arn: str = ""
    """The release RollbackFailed topic: a release may have left Genesys changed."""

    def topic_for(self, audience: str, workflow: str) -> str:
        if audience == "people":
            return self.release_people_topic_arn if workflow == "release" else self.publish_people_topic_arn
        return self.alarm_topic_arn if audience == "alarm" else ""
