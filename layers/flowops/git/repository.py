"""Reading a pushed commit over Git's smart HTTP protocol (dulwich, pure Python on Lambda).

Provider-neutral on purpose: GitHub, GitLab, Bitbucket and CodeCommit all serve smart HTTP with
a token as the password. Only the commits asked for are fetched (depth 1, by commit id): GitHub
and GitLab serve protocol v2, which accepts any reachable commit id as a want, so a branch that
moved on since the push still yields the pushed tree, never the newer one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import urllib3.exceptions
from dulwich.client import HTTPUnauthorized, get_transport_and_path_from_url
from dulwich.errors import GitProtocolError, HangupException
from dulwich.objects import Blob, Commit, ObjectID, Tree
from dulwich.repo import MemoryRepo
from pydantic import SecretStr

DEPTH = 50
"""History fetched with the pushed commit: a push's `before` is found in the same pack."""
MAX_TREE_FILES = 5000
"""Entries read under the release directory; bundle_from_files then applies its own limits."""
MAX_BLOB_BYTES = 2 * 1024 * 1024


class RepositoryUnavailableError(Exception):
    """The repository could not be read now (network, server error, token refused): the
    provider's redelivery (a 5xx answer) is the retry."""


class CommitNotFoundError(Exception):
    """The server does not have the commit (a force-push removed it)."""


class RepositoryReader(Protocol):
    def files(self, commit: str, directory: str) -> dict[str, bytes] | None:
        """`{path relative to directory: content}` at `commit`; None when the server lacks it."""
        ...


def _walk(repo: MemoryRepo, tree: Tree, prefix: str, out: dict[str, bytes]) -> None:
    for entry in tree.items():
        name = entry.path.decode("utf-8", "replace")
        obj = repo.object_store[entry.sha]
        path = f"{prefix}{name}"
        if isinstance(obj, Tree):
            _walk(repo, obj, f"{path}/", out)
        elif isinstance(obj, Blob):
            if len(out) >= MAX_TREE_FILES:
                raise ValueError(f"more than {MAX_TREE_FILES} files under the release directory")
            data = obj.as_raw_string()
            # An oversized blob is kept as-is (truncated marker would lie); the bundle refuses it.
            out[path] = data if len(data) <= MAX_BLOB_BYTES else data[: MAX_BLOB_BYTES + 1]


def tree_files(repo: MemoryRepo, commit: str, directory: str) -> dict[str, bytes]:
    """The files under `directory` (POSIX, '' = root) of `commit` in `repo`."""
    obj = repo.object_store[ObjectID(commit.encode("ascii"))]
    if not isinstance(obj, Commit):
        raise CommitNotFoundError(f"{commit} is not a commit")
    tree = repo.object_store[obj.tree]
    for part in [p for p in directory.strip("/").split("/") if p]:
        assert isinstance(tree, Tree)
        try:
            _mode, sha = tree[part.encode("utf-8")]
        except KeyError:
            return {}
        tree = repo.object_store[sha]
        if not isinstance(tree, Tree):
            return {}
    assert isinstance(tree, Tree)
    out: dict[str, bytes] = {}
    _walk(repo, tree, "", out)
    return out


class SmartHttpReader:
    """`RepositoryReader` over smart HTTP with a read token (basic auth, token as password)."""

    def __init__(self, url: str, *, username: str = "x-access-token", token: SecretStr | None = None) -> None:
        self.url = url
        self._username = username
        self._token = token
        self._repo = MemoryRepo()

    def __repr__(self) -> str:
        return f"SmartHttpReader({self.url!r})"

    def _fetch(self, wanted: ObjectID) -> None:
        password = self._token.get_secret_value() if self._token is not None else None
        try:
            client, path = get_transport_and_path_from_url(
                self.url, username=self._username if password else None, password=password
            )

            def wants(refs: Mapping[Any, ObjectID], depth: int | None = None) -> list[ObjectID]:
                return [wanted]

            client.fetch(path, self._repo, determine_wants=wants, depth=DEPTH)
        except HTTPUnauthorized:
            raise RepositoryUnavailableError(f"{self.url}: the read token was refused") from None
        except (GitProtocolError, HangupException) as error:
            text = str(error).lower()
            if "not our ref" in text or "not found" in text:
                raise CommitNotFoundError(f"{self.url} does not serve {wanted.decode()}") from None
            raise RepositoryUnavailableError(f"{self.url}: {str(error)[:200]}") from None
        except (OSError, urllib3.exceptions.HTTPError) as error:
            raise RepositoryUnavailableError(f"{self.url} is unreachable: {type(error).__name__}") from None

    def files(self, commit: str, directory: str) -> dict[str, bytes] | None:
        """The first read fetches `commit` with DEPTH commits of history, so the push's `before`
        (usually within a few commits) is read from the same pack; anything else is fetched by id."""
        wanted = ObjectID(commit.encode("ascii"))
        try:
            if wanted not in self._repo.object_store:
                self._fetch(wanted)
            return tree_files(self._repo, commit, directory)
        except (KeyError, CommitNotFoundError):
            return None
