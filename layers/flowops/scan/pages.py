"""Steps 2 and 3: plan the pages of flows, then read one page's flows and their dependencies.

Planning costs one API call (the first page tells the page count) plus the pages of the
data-action listing (their current versions, stored in S3 for the lock step), and fixes, for
the whole run, which lock is "previous": every page reuses dependencies from that same lock, and the
pointer step later advances only if that lock is still current.

Reading a page is incremental: a flow whose published version equals the one recorded in
the previous lock keeps its recorded dependencies (a published version is immutable, so its
consumed resources cannot have changed); only new or re-published flows cost a
consumed-resources read. A full scan (`request.full`) re-reads every flow.

A scan degrades, it does not die: a flow whose consumed resources the platform cannot give
(404 for a version the index does not know, a 403 from another division, another 4xx for that
flow alone, a flow the build status lists in `failedObjects`, a flow type dependency tracking
has no object type for) is recorded in the lock as unread with its reason, and the page goes on.
Only what concerns the whole org (auth, the rate limiter exhausted, 5xx after retries) fails
the page, and so the scan. Unread flows are never reused: the next scan asks again.

Only the resource types that matter are asked for (`resourceType=`, see
`flowops.flowtypes.SCANNED_RESOURCE_TYPES`); platform vocabulary (FLOWACTION, FLOWDATATYPE,
...) that a platform returns anyway is dropped on read as well.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from flowops.clock import read_timestamp
from flowops.flowtypes import (
    DEPENDENCY_OBJECT_TYPES,
    PLATFORM_VOCABULARY_TYPES,
    SCANNED_RESOURCE_TYPES,
    dependency_object_type,
    is_flow_object_type,
)
from flowops.lock import (
    LockedDependency,
    LockedFlow,
    Lockfile,
    LockFormatError,
    UnreadDependencies,
    UnreadReason,
    parse_lock,
)
from flowops.lock.incremental import reusable_dependencies as _reusable
from flowops.lock.models import MAX_USER_LABEL
from flowops.scan.errors import (
    EveryReadRefusedError,
    FlowDependenciesUnreadable,
    MalformedDataActionRecordError,
    MalformedFlowRecordError,
    PreviousLockUnreadableError,
    ScanError,
)
from flowops.scan.keys import (
    data_action_versions_key,
    failed_objects_key,
    listed_flow_ids_key,
    listing_key,
    page_key,
)
from flowops.scan.listing import list_all_flows
from flowops.scan.models import (
    MAX_FLOWS_PAGE_SIZE,
    MAX_SCAN_PAGES,
    DataActionVersions,
    FailedObject,
    FailedObjects,
    FlowPagePlan,
    IndexCheckResult,
    ObservedObject,
    PageDescriptor,
    PageFlows,
    PageResult,
    PageTask,
    ScanContext,
)
from flowops.scan.ports import ArtifactWriter, LockPointers, ScanSource
from flowops.scan.shape import PAGE_READERS
from flowops.store.compression import GZIP_CONTENT_TYPE, gzip_bytes
from flowops.store.errors import ArtifactNotFoundError, ChecksumMismatchError

T = TypeVar("T")

# Types outside the SDK's enum are kept in the lock as reported and listed in the scan report:
# the platform adds types, so an unknown one is news, not an error.
KNOWN_OBJECT_TYPES = DEPENDENCY_OBJECT_TYPES


def plan_flow_pages(
    source: ScanSource,
    pointers: LockPointers,
    scan: ScanContext,
    *,
    org: str,
    artifacts: ArtifactWriter | None = None,
    index: IndexCheckResult | None = None,
) -> FlowPagePlan:
    """Count the pages of flows, pin the previous lock for this run and, given `artifacts`,
    store the data actions' current versions for the lock step (stale-snapshot detection) and
    the index's failed objects for the page steps (those flows are recorded as unread).

    Without `artifacts` the data actions are not read: the lock then carries no data-action
    versions and only common-module snapshots can be reported stale.
    """
    calls_before = source.total_api_calls
    page_size = scan.request.page_size
    current = pointers.get_current(org)
    if artifacts is not None:
        # One checked listing for the whole scan (see listing.py): the page steps read their
        # slice of it, so a flow created or deleted meanwhile never shifts one page onto another.
        listing = list_all_flows(source)
        slices = balanced_slices(listing.flows, _fitting_page_size(len(listing.flows), page_size))
        page_size = max((len(records) for records in slices), default=page_size)
        pages = []
        for number, records in enumerate(slices, start=1):
            key = listing_key(org, scan.scan_id, number)
            artifacts.put_json(key, records)
            pages.append(PageDescriptor(page_number=number, listing_key=key))
        artifacts.put_json(
            listed_flow_ids_key(org, scan.scan_id), sorted(str(record.get("id")) for record in listing.flows)
        )
        total_flows, listing_passes, listing_stable = len(listing.flows), listing.passes, listing.stable
    else:
        first = source.flows_page(1, page_size)
        fitting = _fitting_page_size(int(first.total), page_size)
        if fitting != page_size:
            page_size = fitting
            first = source.flows_page(1, page_size)
        pages = [PageDescriptor(page_number=number) for number in range(1, max(0, int(first.page_count)) + 1)]
        total_flows, listing_passes, listing_stable = int(first.total), 1, True
    versions_key = None
    if artifacts is not None:
        # Once per scan, here rather than per page: every page's consumers compare against the
        # same listing, and the Map's page steps never pay for it.
        versions = read_data_action_versions(source)
        versions_key = data_action_versions_key(org, scan.scan_id)
        artifacts.put_json(versions_key, versions.model_dump(mode="json"))
    failed_key = None
    if artifacts is not None and index is not None and index.failed_objects_total:
        failed = list(index.failed_objects)
        if index.failed_objects_total > len(failed):
            # The state carries 50; the page steps need every one, so read the build once more.
            failed = _all_failed_objects(source.dependency_build_status())
        failed_key = failed_objects_key(org, scan.scan_id)
        artifacts.put_json(failed_key, FailedObjects(objects=failed).model_dump(mode="json", by_alias=True))
    return FlowPagePlan(
        data_action_versions_key=versions_key,
        page_size=page_size,
        page_count=len(pages),
        total_flows=total_flows,
        pages=pages,
        listing_passes=listing_passes,
        listing_stable=listing_stable,
        previous_lock_sha=current.sha if current else None,
        previous_lock_key=current.key if current else None,
        failed_objects_key=failed_key,
        api_calls=source.total_api_calls - calls_before,
    )


# Pages are split for balance only down to this many flows each.
MIN_BALANCED_PAGE = 50


def balanced_slices(flows: Sequence[T], page_size: int, readers: int = PAGE_READERS) -> list[Sequence[T]]:
    """`flows` cut into pages of at most `page_size`, as many pages as whole rounds of the Map's
    `readers` need and as equal as they can be (sizes differ by at most one).

    Cut at `page_size` alone, 10 pages for 4 readers leave two readers idle for the last third of the
    Map (a per-token limit then gives 78 % of the rate it allows, bench.scan_deployed); 12 pages of
    the same flows keep every reader busy to the end. The page count stays within MAX_SCAN_PAGES, and
    pages are not cut below MIN_BALANCED_PAGE flows (a tiny org is one Lambda call, not four).
    """
    if not flows:
        return []
    needed = math.ceil(len(flows) / page_size)
    rounded = math.ceil(needed / readers) * readers
    if rounded > MAX_SCAN_PAGES:
        rounded = needed
    count = min(rounded, max(needed, len(flows) // MIN_BALANCED_PAGE))
    base, larger = divmod(len(flows), count)
    slices: list[Sequence[T]] = []
    start = 0
    for number in range(count):
        size = base + (1 if number < larger else 0)
        slices.append(flows[start : start + size])
        start += size
    return slices


def _fitting_page_size(total_flows: int, page_size: int) -> int:
    """`page_size`, raised when the org needs more than MAX_SCAN_PAGES pages of it (one
    execution's history holds that many Map iterations); ScanError when even 500 do not fit."""
    if math.ceil(total_flows / page_size) <= MAX_SCAN_PAGES:
        return page_size
    raised = min(MAX_FLOWS_PAGE_SIZE, math.ceil(total_flows / MAX_SCAN_PAGES))
    if math.ceil(total_flows / raised) > MAX_SCAN_PAGES:
        raise ScanError(
            f"the org has {total_flows} flows: more than {MAX_SCAN_PAGES} pages of "
            f"{MAX_FLOWS_PAGE_SIZE}, the most one scan execution can read"
        )
    return raised


def _all_failed_objects(build: Mapping[str, Any]) -> list[FailedObject]:
    raw = build.get("failedObjects") or []
    if not isinstance(raw, list):
        return []
    return [FailedObject.model_validate(item) for item in raw if isinstance(item, Mapping)]


def load_failed_objects(artifacts: ArtifactWriter, key: str | None) -> dict[str, FailedObject]:
    """The index's failed objects by id (empty without a key)."""
    if key is None:
        return {}
    document = FailedObjects.model_validate(json.loads(artifacts.get_bytes(key)))
    return {item.id: item for item in document.objects if item.id}


def read_data_action_versions(source: ScanSource) -> DataActionVersions:
    """The current version of every data action the org lists (all pages of the listing)."""
    versions: dict[str, str] = {}
    for position, action in enumerate(source.data_actions()):
        where = f"data action {position} of the integrations actions listing"
        if not isinstance(action, Mapping):
            raise MalformedDataActionRecordError(f"{where} is not a JSON object")
        action_id = action.get("id")
        if not isinstance(action_id, str) or not action_id:
            raise MalformedDataActionRecordError(f"{where} has no id (name {action.get('name')!r})")
        version = action.get("version")
        if version is None:
            continue  # nothing to compare with: its consumers cannot be judged stale
        # bool is an int subclass; a boolean version is as wrong as a string one.
        if isinstance(version, bool) or not isinstance(version, int):
            raise MalformedDataActionRecordError(
                f"{where} (id {action_id}) has a version that is not an integer: {version!r}"
            )
        versions[action_id] = str(version)
    return DataActionVersions(versions=versions)


def read_flow_page(source: ScanSource, artifacts: ArtifactWriter, task: PageTask, *, org: str) -> PageResult:
    """Read one page of flows with their dependencies and store the result in S3."""
    calls_before = source.total_api_calls
    previous = None
    if task.previous_lock_key and not task.scan.request.full:
        previous = load_lock(artifacts, task.previous_lock_key)

    entities = _page_entities(source, artifacts, task)
    failed_objects = load_failed_objects(artifacts, task.failed_objects_key)
    keep_vocabulary = task.scan.request.include_platform_vocabulary
    resource_types = None if keep_vocabulary else SCANNED_RESOURCE_TYPES
    # Deleted flags of reused dependencies come from the objects the previous lock recorded.
    recorded_objects = {item.id: item for item in previous.objects} if previous is not None else {}
    flows: list[LockedFlow] = []
    objects: dict[str, ObservedObject] = {}
    unknown_types: set[str] = set()
    seen_ids: set[str] = set()
    reused = read = unread = 0
    for position, entity in enumerate(entities):
        record = _parse_flow_record(entity, task.page_number, position)
        if record.deleted or record.id in seen_ids:
            continue  # deleted: not part of the org's state; a repeat within a page: listed once
        seen_ids.add(record.id)
        dependencies = _reusable(previous, record.id, record.published_version)
        missing_reason: UnreadDependencies | None = None
        if dependencies is not None:
            reused += 1
            for dependency in dependencies:
                recorded = recorded_objects.get(dependency.id)
                _observe(objects, dependency, deleted=bool(recorded is not None and recorded.deleted))
        elif record.published_version is None:
            dependencies = []  # never published: nothing is consumed yet
        elif record.object_type is None:
            dependencies = []
            missing_reason = UnreadDependencies(
                reason=UnreadReason.NO_DEPENDENCY_TYPE,
                detail=f"dependency tracking has no object type for flow type {record.type}",
            )
        elif (failure := _failed(failed_objects, record)) is not None:
            dependencies = []
            missing_reason = UnreadDependencies(
                reason=UnreadReason.INDEX_FAILED,
                detail=(
                    f"the dependency index failed on version {failure.version or '?'}"
                    f" ({failure.error_code or 'no error code'})"
                ),
            )
        else:
            try:
                raw = source.consumed_resources(
                    record.id, record.published_version, record.object_type, resource_types
                )
            except FlowDependenciesUnreadable as error:
                dependencies = []
                missing_reason = UnreadDependencies(reason=UnreadReason(error.reason), detail=error.detail)
            else:
                read += 1
                dependencies = []
                for index, item in enumerate(raw):
                    dependency, deleted = _parse_dependency(item, record.id, index)
                    if not keep_vocabulary and dependency.type in PLATFORM_VOCABULARY_TYPES:
                        continue  # a platform that ignores resourceType: drop it here
                    dependencies.append(dependency)
                    _observe(objects, dependency, deleted=deleted)
        if missing_reason is not None:
            unread += 1
        unknown_types.update(
            dependency.type
            for dependency in dependencies
            if dependency.type not in KNOWN_OBJECT_TYPES and not is_flow_object_type(dependency.type)
        )
        flows.append(
            LockedFlow(
                id=record.id,
                name=record.name,
                type=record.type,
                object_type=record.object_type or "",
                published_version=record.published_version,
                published_by=record.published_by,
                date_published=record.date_published,
                consumes=dependencies,
                unread=missing_reason,
            )
        )

    _refuse_systematic_refusals(flows, read, task.page_number)
    _mark_hidden_flows(source, artifacts, task, org, objects)
    api_calls = source.total_api_calls - calls_before
    document = PageFlows(
        page_number=task.page_number,
        flows=[flow.model_dump(mode="json") for flow in flows],
        objects=sorted(objects.values(), key=lambda item: (item.type, item.id)),
        unknown_object_types=sorted(unknown_types),
        reused=reused,
        read=read,
        unread=unread,
        api_calls=api_calls,
    )
    key = page_key(org, task.scan.scan_id, task.page_number)
    artifacts.put_bytes(key, gzip_bytes(document.model_dump_json().encode("utf-8")), GZIP_CONTENT_TYPE)
    return PageResult(
        page_number=task.page_number,
        key=key,
        flows=len(flows),
        reused=reused,
        read=read,
        unread=unread,
        api_calls=api_calls,
    )


# Fewer refused reads than this on a page may be the flows' own business (REFUSED per flow).
SYSTEMATIC_REFUSALS = 3


def _refuse_systematic_refusals(flows: list[LockedFlow], read: int, page_number: int) -> None:
    """A page where every read was refused (400) and none answered is flowops' own bad request."""
    refused = [
        flow for flow in flows if flow.unread is not None and flow.unread.reason is UnreadReason.REFUSED
    ]
    if read == 0 and len(refused) >= SYSTEMATIC_REFUSALS:
        raise EveryReadRefusedError(
            f"all {len(refused)} consumed-resources reads on page {page_number} were refused, e.g. "
            f"{refused[0].id}: {refused[0].unread.detail if refused[0].unread else ''}"
        )


# Direct reads of consumed flows the listing does not show, at most this many per page; beyond it
# a reference stays "missing" (an error a later scan re-checks), so the step's time stays bounded.
MAX_VISIBILITY_CHECKS = 100
# (scan id, flow id) -> the GET's answer: pages sharing a process (a warm Lambda, the local runtime)
# ask once per scan for a flow many pages consume.
_visibility_cache: dict[tuple[str, str], str] = {}
_visibility_guard = threading.Lock()
_VISIBILITY_CACHE_LIMIT = 10_000


def forget_flow_visibility() -> None:
    """Drop every cached direct read (scan ids are unique per execution; tests reuse them)."""
    with _visibility_guard:
        _visibility_cache.clear()


def _listed_flow_ids(artifacts: ArtifactWriter, task: PageTask, org: str) -> set[str] | None:
    """Every flow id of the plan's listing, or None (no listing was stored for this scan)."""
    try:
        ids = json.loads(artifacts.get_bytes(listed_flow_ids_key(org, task.scan.scan_id)))
    except ArtifactNotFoundError:  # a plan from before this file existed: skip the check
        return None
    if not isinstance(ids, list):
        raise MalformedFlowRecordError("the listed flow ids of the plan are not a list")
    return {str(item) for item in ids}


def _mark_hidden_flows(
    source: ScanSource,
    artifacts: ArtifactWriter,
    task: PageTask,
    org: str,
    objects: dict[str, ObservedObject],
) -> None:
    """Tell a consumed flow in a division this OAuth client cannot see (GET: 403) from one
    that does not exist (404): the listing hides both, dependency tracking is not division-filtered."""
    candidates = [
        item
        for item in objects.values()
        if is_flow_object_type(item.type) and not item.deleted and not item.not_visible
    ]
    if not candidates:
        return
    listed = _listed_flow_ids(artifacts, task, org)
    if listed is None:
        return
    checks = 0
    for item in sorted(candidates, key=lambda candidate: candidate.id):
        if item.id in listed:
            continue
        cache_key = (task.scan.scan_id, item.id)
        with _visibility_guard:
            answer = _visibility_cache.get(cache_key)
        if answer is None:
            if checks >= MAX_VISIBILITY_CHECKS:
                continue
            checks += 1
            answer = source.flow_visibility(item.id)
            with _visibility_guard:
                if len(_visibility_cache) >= _VISIBILITY_CACHE_LIMIT:
                    _visibility_cache.clear()
                _visibility_cache[cache_key] = answer
        item.not_visible = answer == "not_visible"


def _page_entities(source: ScanSource, artifacts: ArtifactWriter, task: PageTask) -> list[Mapping[str, Any]]:
    """This page's flow records: the plan's listing slice, or (no listing) one listing page."""
    if task.listing_key is None:
        return list(source.flows_page(task.page_number, task.page_size).entities)
    records = json.loads(artifacts.get_bytes(task.listing_key))
    if not isinstance(records, list):
        raise MalformedFlowRecordError(f"listing {task.listing_key} is not a list of flow records")
    return records


def _failed(failed_objects: Mapping[str, FailedObject], record: _FlowRecord) -> FailedObject | None:
    """The index's failure for this flow's published version (an older version's does not count)."""
    failure = failed_objects.get(record.id)
    if failure is None or failure.version not in (None, record.published_version):
        return None
    return failure


def reusable_dependencies(
    previous: Lockfile, flow_id: str, published_version: str | None
) -> list[LockedDependency] | None:
    """The recorded dependencies of a flow when they can be reused (see
    `flowops.lock.reusable_dependencies`: same published version, and the flow was read), else None."""
    return _reusable(previous, flow_id, published_version)


class _FlowRecord:
    __slots__ = (
        "date_published",
        "deleted",
        "id",
        "name",
        "object_type",
        "published_by",
        "published_version",
        "type",
    )

    def __init__(self, id: str, name: str, type: str, published_version: str | None, deleted: bool) -> None:
        self.id = id
        self.name = name
        self.type = type
        self.object_type = dependency_object_type(type)
        self.published_version = published_version
        self.deleted = deleted
        self.published_by: str | None = None
        self.date_published: datetime | None = None


def _user_label(user: object) -> str | None:
    """``Name (id)`` of a listing's user reference (the listing often has only the id)."""
    if not isinstance(user, Mapping):
        return None
    name = next((user[key] for key in ("name", "username", "email") if isinstance(user.get(key), str)), None)
    user_id = user.get("id") if isinstance(user.get("id"), str) else None
    label = f"{name} ({user_id})" if name and user_id else name or user_id
    return label[:MAX_USER_LABEL] if label else None


def _parse_flow_record(entity: Mapping[str, Any], page_number: int, position: int) -> _FlowRecord:
    where = f"flow record {position} on page {page_number}"
    if not isinstance(entity, Mapping):
        raise MalformedFlowRecordError(f"{where} is not a JSON object ({type(entity).__name__})")
    flow_id = entity.get("id")
    if not isinstance(flow_id, str) or not flow_id:
        raise MalformedFlowRecordError(f"{where} has no id (name {entity.get('name')!r})")
    flow_type = entity.get("type")
    if not isinstance(flow_type, str) or not flow_type:
        raise MalformedFlowRecordError(f"{where} (id {flow_id}) has no type")
    name = entity.get("name")
    if not isinstance(name, str):
        raise MalformedFlowRecordError(f"{where} (id {flow_id}) has no name")
    published = entity.get("publishedVersion")
    version: str | None = None
    if published is not None:
        if not isinstance(published, Mapping) or not isinstance(published.get("id"), str):
            raise MalformedFlowRecordError(f"{where} (id {flow_id}) has a publishedVersion without an id")
        version = str(published["id"])
    record = _FlowRecord(flow_id, name, flow_type.upper(), version, bool(entity.get("deleted", False)))
    if isinstance(published, Mapping):
        # Who and when, for drift: the version's author, else the flow's publishedBy. Metadata
        # only: a malformed value is left out rather than failing the scan.
        author, publisher = published.get("createdBy"), entity.get("publishedBy")
        if not isinstance(author, Mapping) or (
            # The listing may give the author as a bare id while the flow's publishedBy (the
            # same user) carries the name.
            isinstance(publisher, Mapping)
            and publisher.get("id") == author.get("id")
            and not author.get("name")
        ):
            author = publisher
        # A publish through client credentials (flowops itself) has no user, only its client.
        client = _user_label(published.get("createdByClient"))
        record.published_by = _user_label(author) or (f"client {client}"[:MAX_USER_LABEL] if client else None)
        record.date_published = read_timestamp(published.get("datePublished"))
    return record


def _parse_dependency(item: Mapping[str, Any], flow_id: str, index: int) -> tuple[LockedDependency, bool]:
    """One consumed resource as a lock edge, plus the object's `deleted` flag."""
    where = f"consumed resource {index} of flow {flow_id}"
    if not isinstance(item, Mapping):
        raise MalformedFlowRecordError(f"{where} is not a JSON object")
    object_id, object_type = item.get("id"), item.get("type")
    if not isinstance(object_id, str) or not object_id:
        raise MalformedFlowRecordError(f"{where} has no id")
    if not isinstance(object_type, str) or not object_type:
        raise MalformedFlowRecordError(f"{where} (id {object_id}) has no type")
    version = item.get("version")
    dependency = LockedDependency(
        id=object_id,
        type=object_type.upper(),
        name=str(item.get("name") or ""),
        version=None if version is None else str(version),
    )
    return dependency, bool(item.get("deleted", False))


def _observe(objects: dict[str, ObservedObject], dependency: LockedDependency, *, deleted: bool) -> None:
    seen = objects.get(dependency.id)
    if seen is not None:
        seen.deleted = seen.deleted or deleted
        return
    objects[dependency.id] = ObservedObject(
        id=dependency.id, name=dependency.name, type=dependency.type, deleted=deleted
    )


# Lockfiles are content-addressed and immutable, so a warm Lambda (or the in-process local
# runtime, where the Map's page steps share a process) can keep the last one it parsed.
_lock_cache: dict[str, Lockfile] = {}
_lock_cache_guard = threading.Lock()


def load_lock(artifacts: ArtifactWriter, key: str) -> Lockfile:
    """Read and verify a stored lockfile (its sha256 is re-checked by `parse_lock`), cached."""
    with _lock_cache_guard:
        cached = _lock_cache.get(key)
    if cached is not None:
        return cached
    lock = read_lock(artifacts, key)
    with _lock_cache_guard:
        _lock_cache.clear()
        _lock_cache[key] = lock
    return lock


def read_lock(artifacts: ArtifactWriter, key: str) -> Lockfile:
    """Read and verify a stored lockfile without keeping it (for steps that hold a whole org)."""
    try:
        return parse_lock(artifacts.get_bytes(key))
    except (LockFormatError, ArtifactNotFoundError, ChecksumMismatchError) as error:
        raise PreviousLockUnreadableError(f"lock {key} cannot be read back intact: {error}") from error
