"""Environment of the Git functions, read once at the edge."""

from __future__ import annotations

from pydantic import Field, Json

from flowops.config import EnvironmentSettings
from flowops.git.routing import GitRouting


class GitSettings(EnvironmentSettings):
    """What every Git function reads: the secret, the routes and the provider APIs."""

    git_secret_id: str = Field(min_length=1)
    git_routing: Json[GitRouting]
    """`flowops:git` of cdk.json (or the local config) as JSON."""
    flowops_org: str = Field(min_length=1)
    flowops_environment: str = Field(pattern=r"^[a-z][a-z0-9-]{0,31}$")
    git_secret_cache_seconds: int = Field(default=300, ge=0)
    git_github_api: str = "https://api.github.com"
    git_gitlab_api: str = "https://gitlab.com/api/v4"

    def __hash__(self) -> int:
        return hash(self.model_dump_json())


class GitPushSettings(GitSettings):
    """The push function's and the release-status function's environment."""

    state_table: str = Field(min_length=1)
    artifacts_bucket: str = Field(min_length=1)
    release_state_machine_arn: str = Field(pattern=r"^arn:[^:]+:states:[^:]*:[^:]*:stateMachine:[^:]+$")
    git_run_url: str = ""
    """Link on each commit status, `<git_run_url>/<release id>` ('' = statuses are not posted)."""
    git_mirror: bool = True
    """After each git-started release, commit the live YAML to `live/<env>` (needs a write token)."""

    def __hash__(self) -> int:
        return hash(self.model_dump_json())
