"""The releases the scan report lists: what each recent release changed, flow by flow.

Read from the outcome each release writes when it ends (`releases/<org>/runs/<runId>/release.json`,
RecordRelease / RecordRolledBack), so the report needs the artifacts bucket only. Bounded: at most
`MAX_READ` outcomes are read, the newest `limit` (by the release's start) are shown.
"""

from __future__ import annotations

from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

MAX_READ = 200
DEFAULT_LIMIT = 20


class ReportReleaseFlow(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    key: str
    """`<flow type>/<name>`."""
    ok: bool = True
    flow_id: str | None = None
    version_before: str | None = None
    version_after: str | None = None


class ReportRelease(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    run_id: str
    status: str
    environment: str = ""
    started_at: str = ""
    summary: str = ""
    flows: list[ReportReleaseFlow] = Field(default_factory=list)


class ReleaseOutcomes(Protocol):
    def list_keys(self, prefix: str) -> list[str]: ...

    def get_json(self, key: str) -> Any: ...


def recent_releases(store: ReleaseOutcomes, org: str, *, limit: int = DEFAULT_LIMIT) -> list[ReportRelease]:
    """The newest `limit` releases that ended, newest first (an unreadable outcome is skipped)."""
    keys = [key for key in store.list_keys(f"releases/{org}/runs/") if key.endswith("/release.json")]
    releases: list[ReportRelease] = []
    for key in keys[-MAX_READ:]:
        try:
            releases.append(ReportRelease.model_validate(store.get_json(key)))
        except (ValidationError, ValueError):
            continue
    releases.sort(key=lambda release: (release.started_at, release.run_id), reverse=True)
    return releases[:limit]
