"""Git mirrors the orgs: the exported YAML of changed flows committed to `live/<environment>`.

One commit per Genesys author (the user who published the version), committed by flowops, so
`git log live/prod` shows what runs in prod and who changed it, inside or outside Git. Pushes are
fast-forward only: when the branch moved meanwhile (another release, a person), the branch is
read again and the commit rebuilt on top, a bounded number of times; never forced.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import urllib3.exceptions
from dulwich.client import HTTPUnauthorized, get_transport_and_path_from_url
from dulwich.errors import GitProtocolError, HangupException
from dulwich.objects import Blob, Commit, ObjectID, Tree
from dulwich.repo import MemoryRepo
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from flowops.genesys.errors import NotFoundError
from flowops.genesys.models import Flow
from flowops.git.repository import RepositoryUnavailableError
from flowops.release.export import export_flows
from flowops.release.live import GenesysLiveOrg

ZERO = ObjectID(b"0" * 40)
MAX_ATTEMPTS = 4


class MirrorFile(BaseModel):
    model_config = ConfigDict(frozen=True)

    path: str = Field(pattern=r"^[A-Za-z0-9._ -]+(/[A-Za-z0-9._ -]+)*$")
    text: str = Field(repr=False)
    author_name: str = Field(default="Genesys Cloud", max_length=200)
    author_email: str = Field(default="genesys@flowops.invalid", max_length=200)
    label: str = ""
    """What the file is (e.g. `INBOUNDCALL Main IVR v3`), for the commit message."""


class MirrorResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    branch: str
    commit: str | None
    """The branch head after the push; None when nothing changed (no commit made)."""
    commits: int = 0
    attempts: int = 1
    rejections: list[str] = Field(default_factory=list)


class MirrorRejectedError(Exception):
    """The branch kept moving (or the server refused) for every attempt; nothing was forced."""


def _put(repo: MemoryRepo, tree_id: ObjectID | None, parts: Sequence[str], data: bytes) -> ObjectID:
    tree = Tree()
    if tree_id is not None:
        old = repo.object_store[tree_id]
        assert isinstance(old, Tree)
        for entry in old.items():
            tree.add(entry.path, entry.mode, entry.sha)
    name = parts[0].encode("utf-8")
    if len(parts) == 1:
        blob = Blob.from_string(data)
        repo.object_store.add_object(blob)
        tree.add(name, 0o100644, blob.id)
    else:
        child: ObjectID | None = None
        if name in tree:
            mode, sha = tree[name]
            child = sha if mode == 0o040000 else None
        tree.add(name, 0o040000, _put(repo, child, parts[1:], data))
    repo.object_store.add_object(tree)
    return tree.id


def _signature(name: str, email: str) -> bytes:
    clean = " ".join(name.replace("<", "").replace(">", "").split()) or "unknown"
    mail = email.replace("<", "").replace(">", "").strip() or "unknown@flowops.invalid"
    return f"{clean} <{mail}>".encode()


class GitMirror:
    """Commits files to a branch of a repository over smart HTTP (dulwich)."""

    def __init__(
        self,
        url: str,
        *,
        username: str = "x-access-token",
        token: SecretStr | None = None,
        committer: str = "flowops",
        committer_email: str = "flowops@flowops.invalid",
        attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self.url = url
        self._username = username
        self._token = token
        self._committer = _signature(committer, committer_email)
        self.attempts = attempts

    def __repr__(self) -> str:
        return f"GitMirror({self.url!r})"

    def _client(self) -> tuple[Any, str]:
        password = self._token.get_secret_value() if self._token is not None else None
        return get_transport_and_path_from_url(
            self.url, username=self._username if password else None, password=password
        )

    def publish(self, branch: str, files: Sequence[MirrorFile], message: str) -> MirrorResult:
        ref = f"refs/heads/{branch}".encode()
        rejections: list[str] = []
        for attempt in range(1, self.attempts + 1):
            try:
                outcome = self._attempt(ref, files, message)
            except (
                HTTPUnauthorized,
                GitProtocolError,
                HangupException,
                OSError,
                urllib3.exceptions.HTTPError,
            ) as error:
                if isinstance(error, HTTPUnauthorized):
                    raise RepositoryUnavailableError(f"{self.url}: the token was refused") from None
                raise RepositoryUnavailableError(f"{self.url}: {str(error)[:200]}") from None
            if isinstance(outcome, str):
                rejections.append(outcome)
                time.sleep(min(0.2 * attempt, 1.0))
                continue
            head, commits = outcome
            return MirrorResult(
                branch=branch, commit=head, commits=commits, attempts=attempt, rejections=rejections
            )
        raise MirrorRejectedError(f"{branch}: push rejected {self.attempts} times ({'; '.join(rejections)})")

    def _attempt(self, ref: bytes, files: Sequence[MirrorFile], message: str) -> tuple[str | None, int] | str:
        client, path = self._client()
        repo = MemoryRepo()
        seen: dict[Any, ObjectID] = {}

        def wants(refs: Mapping[Any, ObjectID], depth: int | None = None) -> list[ObjectID]:
            seen.update(refs)
            return [refs[ref]] if ref in refs else []

        client.fetch(path, repo, determine_wants=wants, depth=1)
        old = seen.get(ref)
        parent_tree: ObjectID | None = None
        if old is not None:
            head = repo.object_store[old]
            assert isinstance(head, Commit)
            parent_tree = head.tree
        # One commit per author, in the order the files come (the release's wave order).
        groups: dict[tuple[str, str], list[MirrorFile]] = {}
        for file in files:
            groups.setdefault((file.author_name, file.author_email), []).append(file)
        parent, tree_id, made = old, parent_tree, 0
        for (name, email), group in groups.items():
            new_tree = tree_id
            for file in group:
                new_tree = _put(repo, new_tree, file.path.split("/"), file.text.encode("utf-8"))
            if new_tree == tree_id:
                continue  # the branch already holds exactly this content
            commit = Commit()
            commit.tree = new_tree if new_tree is not None else Tree().id
            commit.parents = [parent] if parent is not None else []
            commit.author = _signature(name, email)
            commit.committer = self._committer
            commit.commit_time = commit.author_time = int(time.time())
            commit.commit_timezone = commit.author_timezone = 0
            labels = ", ".join(f.label or f.path for f in group)
            commit.message = f"{message}\n\n{labels}\n".encode()
            repo.object_store.add_object(commit)
            parent, tree_id, made = commit.id, new_tree, made + 1
        if made == 0 or parent is None:
            return (old.decode() if old is not None else None), 0
        new_head = parent

        def update(refs: dict[Any, ObjectID]) -> dict[Any, ObjectID]:
            current = refs.get(ref, ZERO)
            if current != (old or ZERO):
                raise _Moved(current.decode())
            return {ref: new_head}

        try:
            result = client.send_pack(
                path,
                update,
                generate_pack_data=lambda have, want, **kw: repo.generate_pack_data(have, want, **kw),
            )
        except _Moved as moved:
            return f"branch moved to {moved.args[0][:12]} while committing"
        status = (result.ref_status or {}).get(ref)
        if status:
            return f"push rejected: {status}"
        return new_head.decode(), made


class _Moved(Exception):
    pass


def author_of(flow: Flow) -> tuple[str, str]:
    """(name, email) of whoever published the flow's live version: the Genesys user, or the
    OAuth client when a client published it (then Genesys records no user)."""
    version = flow.published_version
    user = version.created_by if version is not None else None
    if user is not None and user.id:
        name = user.name or user.username or user.id
        return name, user.email or f"{user.id}@users.genesys.invalid"
    client = version.created_by_client if version is not None else None
    if client is not None and client.id:
        return (client.name or f"OAuth client {client.id}"), f"{client.id}@clients.genesys.invalid"
    return "Genesys Cloud", "unknown@genesys.invalid"


def mirror_files(live: GenesysLiveOrg, flow_ids: Sequence[str]) -> tuple[list[MirrorFile], list[str]]:
    """The exported YAML of each flow's published version, as files of the release directory
    layout (`flows/<yamlKey>/<slug>.yaml`, docs/releases.md) with their authors; and what was
    skipped (deleted since, never published)."""
    flows: list[Flow] = []
    skipped: list[str] = []
    for flow_id in dict.fromkeys(flow_ids):
        # One GET per flow (it carries the published version's createdBy); no org listing, so a
        # scan's drift of a few flows in a 20,000-flow org costs a few calls.
        try:
            flow = live.genesys.get_flow(flow_id)
        except NotFoundError:
            flow = None
        if flow is None or flow.deleted:
            skipped.append(f"{flow_id}: no longer in the org")
        else:
            flows.append(flow)
    exported = export_flows(live, flows)
    by_id = {flow.id: flow for flow in flows}
    files = []
    for item in exported.exported:
        name, email = author_of(by_id[item.flow_id])
        files.append(
            MirrorFile(
                path=item.path,
                text=item.text,
                author_name=name,
                author_email=email,
                label=f"{item.flow_type} {item.name} v{item.version}",
            )
        )
    return files, skipped + exported.skipped


def live_branch(environment: str) -> str:
    return f"live/{environment}"


def mirror_release(
    release_id: str, environment: str, flow_ids: Sequence[str], *, live: GenesysLiveOrg, mirror: GitMirror
) -> MirrorResult | None:
    """Commit what release `release_id` left live in `environment` to `live/<environment>`."""
    files, skipped = mirror_files(live, flow_ids)
    if not files:
        return None
    note = f" (skipped: {'; '.join(skipped)[:500]})" if skipped else ""
    return mirror.publish(live_branch(environment), files, f"{release_id}: live in {environment}{note}")
