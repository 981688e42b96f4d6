"""`flowops lock show|diff`: the org's lockfiles, read through the same store code the functions use.

A lock is named by a file path, a sha256 (or an unambiguous prefix of at least 8 hex digits)
of a lock stored under `locks/<org>/`, or `current` (the org's lock pointer). Diffs by id show
drift inside one org; `--by-name` compares two environments (dev vs prod), whose ids differ,
by type and name. `diff` exits 1 when the locks differ, like diff(1).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from flowops.cli import exit_codes
from flowops.cli.names import label_of, names_by_id
from flowops.cli.terminal import echo, echo_lines, fail

lock_app = typer.Typer(help="Lockfiles: show the current one, diff two.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document (for scripts).")]
OrgOption = Annotated[
    str | None, typer.Option("--org", help="Org key (default: the connected stack's FLOWOPS_ORG).")
]
SHA_PREFIX = re.compile(r"^[0-9a-f]{8,64}$")
LIST_SHOWN = 50  # entries per list in the text output; --json has them all
RECENT_SHOWN = 10  # most recent publishes in `lock show`'s text output; --json has them all


class LockCommandError(Exception):
    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def _connection(org: str | None) -> Any:
    from flowops.cli.local_cloud import CloudUnavailableError, connect

    try:
        connection = connect()
    except CloudUnavailableError as error:
        raise LockCommandError(str(error), exit_codes.UNREACHABLE) from None
    return connection.model_copy(update={"org": org}) if org else connection


def _stores(connection: Any) -> tuple[Any, Any]:
    from flowops.store import ArtifactStore, LockPointerStore

    return (
        ArtifactStore(connection.artifacts_bucket, connection.client("s3")),
        LockPointerStore(connection.state_table, connection.client("dynamodb")),
    )


def _store_call(action: Any) -> Any:
    from flowops.store import ArtifactNotFoundError, ChecksumMismatchError, StoreAccessDeniedError, StoreError

    try:
        return action()
    except ArtifactNotFoundError as error:
        raise LockCommandError(str(error), exit_codes.USAGE_ERROR) from None
    except ChecksumMismatchError as error:
        raise LockCommandError(
            f"stored lock failed its checksum: {error}", exit_codes.FAILURE_FOUND
        ) from None
    except StoreAccessDeniedError as error:
        raise LockCommandError(f"access denied: {error}", exit_codes.USAGE_ERROR) from None
    except StoreError as error:
        raise LockCommandError(f"cannot read the store: {error}", exit_codes.UNREACHABLE) from None


class LoadedLock:
    def __init__(self, lock: Any, sha: str, source: str, pointer: Any = None) -> None:
        self.lock, self.sha, self.source, self.pointer = lock, sha, source, pointer


def load_lock(reference: str, org: str | None) -> LoadedLock:
    """A lock from a file path, a stored sha (or prefix), or `current`."""
    from flowops.bounded import LOCK_JSON_LIMITS, InputTooLargeError
    from flowops.cli._files import read_bounded_bytes
    from flowops.lock import LockFormatError, lock_sha256, parse_lock
    from flowops.store import lock_key

    path = Path(reference)
    if path.is_file():
        try:
            lock = parse_lock(read_bounded_bytes(path, LOCK_JSON_LIMITS.max_bytes, "lock file"))
        except OSError as error:
            raise LockCommandError(
                f"cannot read {path}: {error.strerror or error}", exit_codes.USAGE_ERROR
            ) from None
        except (LockFormatError, InputTooLargeError) as error:
            raise LockCommandError(
                f"{path} is not a readable lock: {error}", exit_codes.USAGE_ERROR
            ) from None
        return LoadedLock(lock, lock_sha256(lock), str(path))
    if reference != "current" and not SHA_PREFIX.match(reference.lower()):
        raise LockCommandError(
            f"{reference!r} is neither a lock file, a sha256 (8+ hex digits) nor 'current'",
            exit_codes.USAGE_ERROR,
        )
    try:
        connection = _connection(org)
    except LockCommandError:
        if reference != "current":
            raise
        from flowops.cli.graph import kept_embedded_lock

        kept = kept_embedded_lock()
        if kept is None:
            raise
        return LoadedLock(kept, lock_sha256(kept), f"{kept.org}@{lock_sha256(kept)[:12]} (embedded, kept)")
    artifacts, pointers = _stores(connection)
    pointer = None
    if reference == "current":
        pointer = _store_call(lambda: pointers.get_current(connection.org))
        if pointer is None:
            raise LockCommandError(
                f"org {connection.org!r} has no current lock yet: run `flowops scan` first",
                exit_codes.USAGE_ERROR,
            )
        sha = pointer.sha
    else:
        sha = _resolve_sha(artifacts, connection.org, reference.lower())
    body = _store_call(lambda: artifacts.get_bytes(lock_key(connection.org, sha)))
    try:
        lock = parse_lock(body, expected_sha256=sha)
    except LockFormatError as error:
        raise LockCommandError(
            f"stored lock {sha} is not readable: {error}", exit_codes.FAILURE_FOUND
        ) from None
    return LoadedLock(lock, sha, f"{connection.org}@{sha[:12]}", pointer)


def _resolve_sha(artifacts: Any, org: str, prefix: str) -> str:
    if len(prefix) == 64:
        return prefix
    keys = _store_call(lambda: artifacts.list_keys(f"locks/{org}/{prefix}"))
    shas = sorted(
        {Path(key).name.split(".")[0] for key in keys if key.endswith(".json") and ".meta." not in key}
    )
    if not shas:
        raise LockCommandError(f"no lock of org {org!r} starts with {prefix}", exit_codes.USAGE_ERROR)
    if len(shas) > 1:
        raise LockCommandError(
            f"{prefix} is ambiguous: {', '.join(s[:12] for s in shas)}", exit_codes.USAGE_ERROR
        )
    return shas[0]


def when(moment: datetime | None) -> str:
    """A lock's publish date as the operator reads it: minutes, in UTC."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment is not None else ""


def by_and_at(published_by: str | None, date_published: datetime | None) -> str:
    """ " by Ana (u-1) at 2026-12-01 14:03 UTC", or the half the lock recorded, or nothing."""
    return (f" by {published_by}" if published_by else "") + (
        f" at {when(date_published)}" if date_published is not None else ""
    )


def _publishes(lock: Any) -> list[dict[str, Any]]:
    """Who published each flow's live version and when (the scan reads them from the version's
    createdBy / datePublished), newest first; flows whose lock records neither are left out."""
    known = [
        flow
        for flow in lock.flows
        if flow.published_version is not None and (flow.published_by or flow.date_published)
    ]
    oldest = datetime.min.replace(tzinfo=UTC)
    known.sort(key=lambda flow: (flow.date_published or oldest, flow.id), reverse=True)
    return [
        {
            "flow_id": flow.id,
            "name": flow.name,
            "version": flow.published_version,
            "published_by": flow.published_by,
            "date_published": flow.date_published.astimezone(UTC).isoformat()
            if flow.date_published
            else None,
        }
        for flow in known
    ]


def lock_summary(loaded: LoadedLock) -> dict[str, Any]:
    lock = loaded.lock
    publishes = _publishes(lock)
    document: dict[str, Any] = {
        "org": lock.org,
        "lock_sha256": loaded.sha,
        "source": loaded.source,
        "schema_version": lock.schema_version,
        "flows": len(lock.flows),
        "objects": len(lock.objects),
        "edges": sum(len(flow.consumes) for flow in lock.flows),
        "flows_by_type": dict(sorted(Counter(flow.type for flow in lock.flows).items())),
        "unpublished_flows": sorted(flow.id for flow in lock.flows if flow.published_version is None),
        "missing_objects": sorted(o.id for o in lock.objects if o.missing),
        "deleted_objects": sorted(o.id for o in lock.objects if o.deleted),
        "failed_objects": [f.model_dump(mode="json") for f in lock.failed_objects],
        "publishes": publishes,
        "publisher_unknown": sum(1 for flow in lock.flows if flow.published_version is not None)
        - len(publishes),
        "pointer": None,
    }
    if loaded.pointer is not None:
        document["pointer"] = loaded.pointer.model_dump(mode="json")
    return document


def _shown(items: list[str]) -> str:
    text = ", ".join(items[:LIST_SHOWN])
    return text + (f" (+{len(items) - LIST_SHOWN} more)" if len(items) > LIST_SHOWN else "")


@lock_app.command("show")
def show_command(
    reference: Annotated[
        str, typer.Argument(help="'current' (default), a stored lock's sha256 or prefix, or a lock file.")
    ] = "current",
    org: OrgOption = None,
    as_json: JsonOption = False,
) -> None:
    """Summarize a lock: hash, pointer, counts by flow type, unpublished flows, missing/deleted objects."""
    try:
        loaded = load_lock(reference, org)
    except LockCommandError as error:
        raise fail(str(error), error.exit_code) from None
    document = lock_summary(loaded)
    if as_json:
        typer.echo(json.dumps(document, indent=2, sort_keys=True))
        return
    lines = [
        f"lock     {document['lock_sha256']}  (org {document['org']}, {document['source']})",
        f"flows    {document['flows']}   objects {document['objects']}   edges {document['edges']}",
        "types    " + ", ".join(f"{name} {count}" for name, count in document["flows_by_type"].items()),
    ]
    pointer = document["pointer"]
    if pointer:
        lines.append(
            f"pointer  current since {pointer.get('updated_at')} (scan {pointer.get('scan_id')}, "
            f"previous {str(pointer.get('previous_sha') or '—')[:12]})"
        )
    names = names_by_id(loaded.lock)
    for label, key in (
        ("unpublished", "unpublished_flows"),
        ("missing", "missing_objects"),
        ("deleted", "deleted_objects"),
    ):
        if document[key]:
            shown = _shown([label_of(identifier, names) for identifier in document[key]])
            lines.append(f"{label + ' ':<9}{len(document[key])}: {shown}")
    if document["failed_objects"]:
        lines.append(f"index    {len(document['failed_objects'])} objects the dependency index failed on")
    lines += _recent_lines(loaded.lock, document)
    echo_lines(lines)


def _recent_lines(lock: Any, document: dict[str, Any]) -> list[str]:
    """The most recent publishes, one line each: when, flow, version, who."""
    publishes: list[dict[str, Any]] = document["publishes"]
    if not publishes:
        return []
    unknown = document["publisher_unknown"]
    lines = [
        f"recent   {min(len(publishes), RECENT_SHOWN)} latest of {len(publishes)} publishes"
        + (f" ({unknown} more with no publisher recorded)" if unknown else "")
        + ":"
    ]
    for entry in publishes[:RECENT_SHOWN]:
        flow = lock.flow(entry["flow_id"])
        lines.append(
            f"  {when(flow.date_published) or '(date unknown)':<20}  {flow.name} ({flow.id}) "
            f"{flow.published_version}" + (f" by {flow.published_by}" if flow.published_by else "")
        )
    return lines


def _section_lines(sections: list[tuple[str, list[str]]]) -> list[str]:
    """Each non-empty section as a titled, counted list, cut at LIST_SHOWN items."""
    lines: list[str] = []
    for title, items in sections:
        if items:
            lines.append(f"{title} ({len(items)}):")
            lines += [f"  {item}" for item in items[:LIST_SHOWN]]
            if len(items) > LIST_SHOWN:
                lines.append(f"  ... {len(items) - LIST_SHOWN} more (use --json)")
    return lines


def _diff_lines(diff: Any) -> list[str]:
    lines = [f"{len(diff.changed_flow_ids())} flows changed"]
    sections: list[tuple[str, list[str]]] = [
        (
            "flows added",
            [f"{f.name} ({f.id}){by_and_at(f.published_by, f.date_published)}" for f in diff.flows_added],
        ),
        ("flows removed", [f"{f.name} ({f.id})" for f in diff.flows_removed]),
        (
            "republished",
            [
                f"{c.name} ({c.flow_id}) {c.old_version or '—'} -> {c.new_version or '—'}"
                f"{by_and_at(c.published_by, c.date_published)}"
                for c in diff.flows_reversioned
            ],
        ),
        ("renamed", [f"{c.flow_id}: {c.old_name} -> {c.new_name}" for c in diff.flows_renamed]),
        ("retyped", [f"{c.name} ({c.flow_id}): {c.old_type} -> {c.new_type}" for c in diff.flows_retyped]),
        (
            "consumes added",
            [
                f"{e.flow_name} -> {e.dependency.type} {e.dependency.name or e.dependency.id}"
                for e in diff.edges_added
            ],
        ),
        (
            "consumes removed",
            [
                f"{e.flow_name} -> {e.dependency.type} {e.dependency.name or e.dependency.id}"
                for e in diff.edges_removed
            ],
        ),
        ("objects added", [f"{o.type} {o.name or o.id}" for o in diff.objects_added]),
        ("objects removed", [f"{o.type} {o.name or o.id}" for o in diff.objects_removed]),
        (
            "objects changed",
            [
                f"{c.new.type} {c.new.name or c.new.id}: {', '.join(c.changed_fields)}"
                for c in diff.objects_changed
            ],
        ),
    ]
    return lines + _section_lines(sections)


def _environment_lines(diff: Any) -> list[str]:
    lines = [f"matched {diff.matched_flows} flows and {diff.matched_objects} objects by type and name"]
    sections: list[tuple[str, list[str]]] = [
        ("flows only in source", [f"{r.type} {r.name}" for r in diff.flows_only_in_source]),
        ("flows only in target", [f"{r.type} {r.name}" for r in diff.flows_only_in_target]),
        (
            "flow versions differ",
            [
                f"{d.type} {d.name}: {d.source_version or '—'}"
                f"{by_and_at(d.source_published_by, d.source_date_published)} vs {d.target_version or '—'}"
                f"{by_and_at(d.target_published_by, d.target_date_published)}"
                for d in diff.flow_version_differences
            ],
        ),
        (
            "consumes only in source",
            [f"{e.flow_name} -> {e.dependency_type} {e.dependency_name}" for e in diff.edges_only_in_source],
        ),
        (
            "consumes only in target",
            [f"{e.flow_name} -> {e.dependency_type} {e.dependency_name}" for e in diff.edges_only_in_target],
        ),
        (
            "consumed versions differ",
            [
                f"{d.edge.flow_name} -> {d.edge.dependency_name}: "
                f"{d.source_version or '—'} vs {d.target_version or '—'}"
                for d in diff.edge_version_differences
            ],
        ),
        ("objects only in source", [f"{r.type} {r.name}" for r in diff.objects_only_in_source]),
        ("objects only in target", [f"{r.type} {r.name}" for r in diff.objects_only_in_target]),
        (
            "objects differ",
            [f"{d.type} {d.name}: {', '.join(d.changed_fields)}" for d in diff.object_differences],
        ),
        (
            "ambiguous names (not compared)",
            [f"{a.side} {a.kind} {a.type} {a.name}: {len(a.ids)} ids" for a in diff.ambiguous_names],
        ),
    ]
    return lines + _section_lines(sections)


@lock_app.command("diff")
def diff_command(
    old: Annotated[
        str, typer.Argument(help="Base lock: file path, stored sha256 (or 8+ digit prefix), or 'current'.")
    ],
    new: Annotated[str, typer.Argument(help="Lock to compare with the base (same forms).")],
    by_name: Annotated[
        bool,
        typer.Option(
            "--by-name", help="Cross-environment diff: match flows/objects by type and name, not id."
        ),
    ] = False,
    org: OrgOption = None,
    as_json: JsonOption = False,
) -> None:
    """What changed from OLD to NEW. Exit code 0 when they are the same, 1 when they differ."""
    from flowops.lock import diff_environments, diff_locks

    try:
        base, other = load_lock(old, org), load_lock(new, org)
    except LockCommandError as error:
        raise fail(str(error), error.exit_code) from None
    if by_name:
        environment_diff = diff_environments(base.lock, other.lock)
        differs = not environment_diff.is_equivalent
        document: dict[str, Any] = {"source": base.source, "target": other.source, "by_name": True}
        document |= environment_diff.model_dump(mode="json")
        lines = [f"{base.source} (source) vs {other.source} (target)", *_environment_lines(environment_diff)]
    else:
        if base.lock.org != other.lock.org:
            echo(
                f"warning: the locks are of different orgs ({base.lock.org} vs {other.lock.org}); "
                "ids differ between orgs, use --by-name",
                err=True,
            )
        lock_diff = diff_locks(base.lock, other.lock)
        differs = not lock_diff.is_empty
        document = {"source": base.source, "target": other.source, "by_name": False}
        document |= lock_diff.model_dump(mode="json")
        document["changed_flow_ids"] = lock_diff.changed_flow_ids()
        lines = [
            f"{base.sha[:12]} -> {other.sha[:12]}",
            *(_diff_lines(lock_diff) if differs else ["identical"]),
        ]
    document["differs"] = differs
    if as_json:
        typer.echo(json.dumps(document, indent=2, sort_keys=True))
    else:
        echo_lines(lines)
    if differs:
        raise typer.Exit(exit_codes.FAILURE_FOUND)


def register(app: typer.Typer) -> None:
    app.add_typer(lock_app, name="lock")
