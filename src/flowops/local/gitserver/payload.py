"""GitHub's push payload for a push received by the local Git server.

Shape: GitHub's `push` event (https://docs.github.com/en/webhooks/webhook-events-and-payloads#push),
every field `@octokit/webhooks-schemas` requires; tests validate it against that schema.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from dulwich.diff_tree import tree_changes
from dulwich.objects import Commit, ObjectID
from dulwich.repo import Repo

ZERO = "0" * 40
MAX_COMMITS = 20  # GitHub lists at most 20 commits


def _user(login: str, base: str) -> dict[str, Any]:
    api = f"{base}/api/users/{login}"
    return {
        "login": login,
        "id": int(hashlib.sha256(login.encode()).hexdigest()[:6], 16),
        "node_id": f"U_{login}",
        "avatar_url": f"{base}/avatars/{login}",
        "gravatar_id": "",
        "url": api,
        "html_url": f"{base}/{login}",
        "followers_url": f"{api}/followers",
        "following_url": f"{api}/following{{/other_user}}",
        "gists_url": f"{api}/gists{{/gist_id}}",
        "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{api}/subscriptions",
        "organizations_url": f"{api}/orgs",
        "repos_url": f"{api}/repos",
        "events_url": f"{api}/events{{/privacy}}",
        "received_events_url": f"{api}/received_events",
        "type": "User",
        "site_admin": False,
    }


def _repository(owner: str, name: str, base: str, clone_url: str, pushed_at: int) -> dict[str, Any]:
    full = f"{owner}/{name}"
    api = f"{base}/api/repos/{full}"
    templated = {
        "keys_url": "/keys{/key_id}",
        "collaborators_url": "/collaborators{/collaborator}",
        "issue_events_url": "/issues/events{/number}",
        "assignees_url": "/assignees{/user}",
        "branches_url": "/branches{/branch}",
        "blobs_url": "/git/blobs{/sha}",
        "git_tags_url": "/git/tags{/sha}",
        "git_refs_url": "/git/refs{/sha}",
        "trees_url": "/git/trees{/sha}",
        "statuses_url": "/statuses/{sha}",
        "commits_url": "/commits{/sha}",
        "git_commits_url": "/git/commits{/sha}",
        "comments_url": "/comments{/number}",
        "issue_comment_url": "/issues/comments{/number}",
        "contents_url": "/contents/{+path}",
        "compare_url": "/compare/{base}...{head}",
        "archive_url": "/{archive_format}{/ref}",
        "issues_url": "/issues{/number}",
        "pulls_url": "/pulls{/number}",
        "milestones_url": "/milestones{/number}",
        "notifications_url": "/notifications{?since,all,participating}",
        "labels_url": "/labels{/name}",
        "releases_url": "/releases{/id}",
    }
    plain = [
        "forks",
        "teams",
        "hooks",
        "events",
        "tags",
        "languages",
        "stargazers",
        "contributors",
        "subscribers",
        "subscription",
        "merges",
        "downloads",
        "deployments",
    ]
    repository: dict[str, Any] = {
        "id": int(hashlib.sha256(full.encode()).hexdigest()[:8], 16),
        "node_id": f"R_{full}",
        "name": name,
        "full_name": full,
        "private": True,
        "owner": _user(owner, base),
        "html_url": f"{base}/{full}",
        "description": None,
        "fork": False,
        "url": api,
        "created_at": pushed_at,
        "updated_at": datetime.fromtimestamp(pushed_at, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "pushed_at": pushed_at,
        "git_url": clone_url.replace("http://", "git://", 1),
        "ssh_url": f"git@127.0.0.1:{full}.git",
        "clone_url": clone_url,
        "svn_url": f"{base}/{full}",
        "homepage": None,
        "size": 0,
        "stargazers_count": 0,
        "watchers_count": 0,
        "language": None,
        "has_issues": False,
        "has_projects": False,
        "has_downloads": False,
        "has_wiki": False,
        "has_pages": False,
        "forks_count": 0,
        "mirror_url": None,
        "archived": False,
        "open_issues_count": 0,
        "license": None,
        "forks": 0,
        "open_issues": 0,
        "watchers": 0,
        "default_branch": "main",
        "is_template": False,
        "web_commit_signoff_required": False,
        "topics": [],
        "visibility": "private",
        "custom_properties": {},
    }
    repository.update({key: f"{api}{suffix}" for key, suffix in templated.items()})
    repository.update({f"{key}_url": f"{api}/{key}" for key in plain})
    return repository


def _person(raw: bytes) -> dict[str, str]:
    text = raw.decode("utf-8", "replace")
    name, _, email = text.partition(" <")
    return {"name": name.strip(), "email": email.rstrip(">").strip()}


def _commit(repo: Repo, commit: Commit, base: str, full: str) -> dict[str, Any]:
    parent_tree = repo[commit.parents[0]].tree if commit.parents else None  # type: ignore[attr-defined]
    added: list[str] = []
    modified: list[str] = []
    removed: list[str] = []
    for change in tree_changes(repo.object_store, parent_tree, commit.tree):
        if change.type == "add" and change.new is not None and change.new.path:
            added.append(change.new.path.decode("utf-8", "replace"))
        elif change.type == "delete" and change.old is not None and change.old.path:
            removed.append(change.old.path.decode("utf-8", "replace"))
        elif change.new is not None and change.new.path:
            modified.append(change.new.path.decode("utf-8", "replace"))
    sha = commit.id.decode("ascii")
    zone = timezone(timedelta(seconds=commit.commit_timezone))
    return {
        "id": sha,
        "tree_id": commit.tree.decode("ascii"),
        "distinct": True,
        "message": commit.message.decode("utf-8", "replace"),
        "timestamp": datetime.fromtimestamp(commit.commit_time, tz=zone).isoformat(),
        "url": f"{base}/{full}/commit/{sha}",
        "author": _person(commit.author),
        "committer": _person(commit.committer),
        "added": added,
        "removed": removed,
        "modified": modified,
    }


def push_payload(
    repo: Repo,
    *,
    owner: str,
    name: str,
    ref: str,
    before: str,
    after: str,
    base: str,
    clone_url: str,
    pusher: str,
    forced: bool,
    now: int,
) -> dict[str, Any]:
    full = f"{owner}/{name}"
    commits: list[dict[str, Any]] = []
    head: dict[str, Any] | None = None
    if after != ZERO:
        exclude = (
            [ObjectID(before.encode())] if before != ZERO and before.encode() in repo.object_store else []
        )
        walker = repo.get_walker(include=[ObjectID(after.encode())], exclude=exclude, max_entries=MAX_COMMITS)
        commits = [_commit(repo, entry.commit, base, full) for entry in walker]
        commits.reverse()  # GitHub lists them oldest first
        head_commit = repo[after.encode()]
        if isinstance(head_commit, Commit):
            head = _commit(repo, head_commit, base, full)
    return {
        "ref": ref,
        "before": before,
        "after": after,
        "repository": _repository(owner, name, base, clone_url, now),
        "pusher": {"name": pusher, "email": f"{pusher}@localhost"},
        "sender": _user(pusher, base),
        "created": before == ZERO,
        "deleted": after == ZERO,
        "forced": forced,
        "base_ref": None,
        "compare": f"{base}/{full}/compare/{before[:12]}...{after[:12]}",
        "commits": commits,
        "head_commit": head,
    }
