"""The releases of one flow that flowops knows to be good: `flows/<org>/<flowId>/releases.json`.

Every release flowops recorded (RecordRelease) and every restore (RecordRolledBack, or a
publish whose source is a stored release YAML, as `flowops rollback` sends) is an entry, newest
last. A restore of release R withdraws every release newer than R: they were rolled back. The
last KNOWN-GOOD release is the newest entry that is not withdrawn; rollbacks go there, so a
second rollback finds the first one's target already live and changes nothing.

Only runs holding the flow's publish lease write the history, so writes never interleave.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field

from flowops.lock.versions import version_key
from flowops.store import ArtifactNotFoundError, ArtifactStore

MAX_ENTRIES = 50
_RELEASE_YAML_KEY = re.compile(r"^flows/(?P<org>[^/]+)/(?P<flow>[^/]+)/(?P<version>[^/]+)\.yaml$")


class ReleaseEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    version: str
    yaml_key: str
    fingerprint: str
    run_id: str
    restores: str | None = None
    """The release whose content this version restored (a rollback), if any."""
    withdrawn: bool = False
    """Rolled back: no longer a rollback target."""

    @property
    def content_of(self) -> str:
        """The release whose content this version runs: itself, or the one it restored."""
        return self.restores or self.version


class ReleaseHistory(BaseModel):
    model_config = ConfigDict(frozen=True)

    flow_id: str
    entries: list[ReleaseEntry] = Field(default_factory=list)

    def entry(self, version: str) -> ReleaseEntry | None:
        return next((entry for entry in self.entries if entry.version == version), None)

    def known_good(self) -> ReleaseEntry | None:
        """The newest release that was not rolled back."""
        return next((entry for entry in reversed(self.entries) if not entry.withdrawn), None)

    def with_entry(self, new: ReleaseEntry) -> ReleaseHistory:
        """Add (or replace: a retried step) `new`; a restore withdraws the releases after its target."""
        entries = [entry for entry in self.entries if entry.version != new.version]
        if new.restores is not None:
            restored = version_key(new.restores)
            entries = [
                entry.model_copy(update={"withdrawn": True})
                if version_key(entry.version) > restored and entry.content_of != new.restores
                else entry
                for entry in entries
            ]
        entries.append(new)
        entries.sort(key=lambda entry: version_key(entry.version))
        return self.model_copy(update={"entries": entries[-MAX_ENTRIES:]})


def releases_key(org: str, flow_id: str) -> str:
    return f"flows/{org}/{flow_id}/releases.json"


def restored_release(org: str, flow_id: str, yaml_s3_key: str | None) -> str | None:
    """The release a publish restores when its source is that release's stored YAML."""
    if not yaml_s3_key:
        return None
    match = _RELEASE_YAML_KEY.match(yaml_s3_key)
    if match is None or match["org"] != org or match["flow"] != flow_id:
        return None
    return match["version"]


def load_history(artifacts: ArtifactStore, org: str, flow_id: str) -> ReleaseHistory:
    try:
        stored = artifacts.get_json(releases_key(org, flow_id))
    except ArtifactNotFoundError:
        return ReleaseHistory(flow_id=flow_id)
    return ReleaseHistory.model_validate(stored)


def save_history(artifacts: ArtifactStore, org: str, history: ReleaseHistory) -> None:
    artifacts.put_json(releases_key(org, history.flow_id), history.model_dump(mode="json"))
