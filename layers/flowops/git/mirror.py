"""Git mirrors the orgs: the exported YAML of changed flows committed to `live/<environment>`.

One commit per Genesys author (the user who published the version), committed by flowops, so
`git log live/prod` shows what runs in prod and who changed it, inside or outside Git. A flow
that left the org loses its file, and a renamed flow's file moves (the old path removed in the
same commit as the new one written). Pushes are fast-forward only: when the branch moved
meanwhile (another release, a person), the branch is read again and the commit rebuilt on top,
a bounded number of times; never forced.
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
from flowops.release.export import export_flows, flow_file_path
from flowops.release.live import GenesysLiveOrg

ZERO = ObjectID(b"0" * 40)
MAX_ATTEMPTS = 4
DELETED_BY = ("flowops (deleted in Genesys Cloud)", "deleted@flowops.invalid")
"""The author of a file's removal: Genesys answers 404 for a deleted flow and records nobody on
it (only its audit log names who deleted it), so the commit says plainly what happened."""


class MirrorFile(BaseModel):
    model_config = ConfigDict(frozen=True)

    path: str = Field(pattern=r"^[A-Za-z0-9._ -]+(/[A-Za-z0-9._ -]+)*$")
    text: str | None = Field(repr=False)
    """The file's content; None: the file is removed (its flow left the org, or moved)."""
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


def _edit(
    repo: MemoryRepo, tree_id: ObjectID | None, parts: Sequence[str], data: bytes | None
) -> ObjectID | None:
    """The tree with the file at `parts` set to `data` (None: removed); None when that leaves
    the tree empty (Git keeps no empty directories)."""
    tree = Tree()
    if tree_id is not None:
        old = repo.object_store[tree_id]
        assert isinstance(old, Tree)
        for entry in old.items():
            tree.add(entry.path, entry.mode, entry.sha)
    name = parts[0].encode("utf-8")
    if len(parts) == 1:
        if data is None:
            if name in tree:
                del tree[name]
        else:
            blob = Blob.from_string(data)
            repo.object_store.add_object(blob)
            tree.add(name, 0o100644, blob.id)
    else:
        child: ObjectID | None = None
        if name in tree:
            mode, sha = tree[name]
            child = sha if mode == 0o040000 else None
        if child is None and data is None:
            return tree_id  # nothing there to remove
        edited = _edit(repo, child, parts[1:], data)
        if edited is None:
            del tree[name]
        else:
            tree.add(name, 0o040000, edited)
    if not tree.items():
        return None
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
                data = file.text.encode("utf-8") if file.text is not None else None
                new_tree = _edit(repo, new_tree, file.path.split("/"), data)
            if new_tree == tree_id:
                continue  # the branch already holds exactly this content
            if new_tree is None:  # the last file left: an empty tree, as Git writes it
                empty = Tree()
                repo.object_store.add_object(empty)
                new_tree = empty.id
            commit = Commit()
            commit.tree = new_tree
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


class FlowName(BaseModel):
    """A flow's type and name at some time: where its file was (`flow_file_path`)."""

    model_config = ConfigDict(frozen=True)

    type: str = ""
    """Genesys flow type (`INBOUNDCALL`); empty: the type the flow has now."""
    name: str


class MirrorChange(BaseModel):
    """A flow whose file on `live/<env>` must come to match the org: its published YAML while
    the flow is there, no file once it is gone; `previous` names where its file was before
    (a rename), removed when that is not where it is now."""

    model_config = ConfigDict(frozen=True)

    flow_id: str = Field(min_length=1, max_length=200)
    type: str = ""
    name: str = ""
    """What the flow was when last seen (a flow deleted since can no longer be read)."""
    previous: list[FlowName] = Field(default_factory=list)


def merge_changes(*batches: Sequence[MirrorChange]) -> list[MirrorChange]:
    """One change per flow, in first-seen order; later batches know more about a flow's name."""
    merged: dict[str, MirrorChange] = {}
    for batch in batches:
        for change in batch:
            known = merged.get(change.flow_id)
            if known is None:
                merged[change.flow_id] = change
                continue
            merged[change.flow_id] = MirrorChange(
                flow_id=change.flow_id,
                type=change.type or known.type,
                name=change.name or known.name,
                previous=list(dict.fromkeys([*known.previous, *change.previous])),
            )
    return list(merged.values())


def _removal(where: FlowName, current_type: str, author: tuple[str, str], label: str) -> MirrorFile | None:
    path = flow_file_path(where.type or current_type, where.name)
    if path is None:
        return None
    return MirrorFile(path=path, text=None, author_name=author[0], author_email=author[1], label=label)


def mirror_files(live: GenesysLiveOrg, changes: Sequence[MirrorChange]) -> tuple[list[MirrorFile], list[str]]:
    """The files that make `live/<env>` show the changed flows as they are in the org: each
    present flow's published YAML (release directory layout `flows/<yamlKey>/<slug>.yaml`,
    docs/releases.md) with its publisher as author, and a removal for each flow gone from the
    org and for each file a flow moved away from; and what was skipped (never published, or
    gone without a known name)."""
    flows: list[Flow] = []
    skipped: list[str] = []
    removals: list[MirrorFile] = []
    wanted = merge_changes(changes)
    for change in wanted:
        # One GET per flow (it carries the published version's createdBy); no org listing, so a
        # scan's drift of a few flows in a 20,000-flow org costs a few calls.
        try:
            flow = live.genesys.get_flow(change.flow_id)
        except NotFoundError:
            flow = None
        if flow is not None and not flow.deleted:
            flows.append(flow)
            continue
        gone = [FlowName(type=change.type, name=change.name)] if change.name else []
        label = f"{change.type} {change.name} deleted".strip()
        found = [_removal(where, change.type, DELETED_BY, label) for where in [*gone, *change.previous]]
        if not any(found):
            skipped.append(f"{change.flow_id}: no longer in the org (its name is not known: no file removed)")
        removals.extend(file for file in found if file is not None)
    exported = export_flows(live, flows)
    by_id = {flow.id: flow for flow in flows}
    previous = {change.flow_id: change.previous for change in wanted}
    files: list[MirrorFile] = []
    for item in exported.exported:
        author = author_of(by_id[item.flow_id])
        # A move: the old file goes in the same commit as the new one (same author).
        for where in previous.get(item.flow_id, []):
            moved = _removal(
                where, item.flow_type, author, f"{where.type or item.flow_type} {where.name} moved"
            )
            if moved is not None and moved.path != item.path:
                files.append(moved)
        files.append(
            MirrorFile(
                path=item.path,
                text=item.text,
                author_name=author[0],
                author_email=author[1],
                label=f"{item.flow_type} {item.name} v{item.version}",
            )
        )
    written = {file.path for file in files if file.text is not None}
    # A removal never takes a path another flow of the same commit set is written to.
    files = [file for file in files if file.text is not None or file.path not in written]
    files += [file for file in removals if file.path not in written]
    return files, skipped + exported.skipped


def live_branch(environment: str) -> str:
    return f"live/{environment}"


def release_changes(recorded: Sequence[Mapping[str, Any]]) -> list[MirrorChange]:
    """The flows a release touched, from its run record's `details.flows` (`key` = `TYPE/name`,
    `flow_id` once known): each is mirrored as the org has it after the release, so a flow its
    rollback deleted (a created one) loses its file."""
    changes = []
    for flow in recorded:
        flow_id = str(flow.get("flow_id") or "")
        flow_type, _, name = str(flow.get("key", "")).partition("/")
        if flow_id:
            changes.append(MirrorChange(flow_id=flow_id, type=flow_type, name=name))
    return changes
