"""Which repository, branch and directory release to which environment (configuration).

In AWS the stack reads `flowops:git` from cdk.json (one stack per environment); locally the
same document comes from the local config. Example::

    {"repositories": [{"provider": "github", "repository": "acme/flows",
                       "branches": {"main": "dev", "release": "prod"}, "directory": ""}]}
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from flowops.git.providers import Provider

_ENVIRONMENT = re.compile(r"^[a-z][a-z0-9-]{0,31}$")


class GitRepositoryRoute(BaseModel):
    # cdk.json spells keys in camelCase (cloneUrl); Python code uses the field names.
    model_config = ConfigDict(frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True)

    provider: Provider
    repository: str = Field(min_length=1, max_length=300)
    branches: dict[str, str] = Field(min_length=1)
    """Branch name → environment its pushes release to."""
    directory: str = Field(default="", max_length=300)
    """The release directory inside the repository ('' = root): flows/ and environments/."""
    clone_url: str = Field(default="", max_length=2000)
    """Overrides the payload's clone URL (a mirror, a private network endpoint); '' = payload's."""
    token_username: str = Field(default="", max_length=100)
    """Basic-auth user with the read token: '' = the provider's (x-access-token / oauth2)."""

    @field_validator("branches")
    @classmethod
    def _environments(cls, value: dict[str, str]) -> dict[str, str]:
        for branch, environment in value.items():
            if not _ENVIRONMENT.match(environment):
                raise ValueError(f"branch {branch!r}: {environment!r} is not an environment name")
        return value

    @property
    def flows_prefix(self) -> str:
        base = self.directory.strip("/")
        return f"{base}/flows/" if base else "flows/"


class GitRouting(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    repositories: list[GitRepositoryRoute] = Field(default_factory=list, max_length=100)

    def route(self, provider: Provider, repository: str) -> GitRepositoryRoute | None:
        # GitHub and GitLab treat repository paths case-insensitively.
        wanted = repository.lower()
        for route in self.repositories:
            if route.provider == provider and route.repository.lower() == wanted:
                return route
        return None
