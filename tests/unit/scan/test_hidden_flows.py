"""Consumed flows the listing does not show: another division's (GET 403) vs absent (GET 404)."""

from __future__ import annotations

import json

import pytest

from flowops.graph import analyze
from flowops.lock import parse_lock
from flowops.lock.canonical import canonical_body
from flowops.scan import pages
from tests.unit.scan.fakes import FakeArtifacts, FakeOrg, FakePointers, FakeSource, dependency
from tests.unit.scan.pipeline import run_scan


def hidden_org() -> FakeOrg:
    org = FakeOrg()
    org.hidden_flows.add("other-division")
    # Three pages of one flow each (page_size=1): every page consumes the hidden flow.
    org.add_flow(
        "a", consumes=[dependency("other-division", "INBOUNDCALLFLOW"), dependency("b", "INBOUNDCALLFLOW")]
    )
    org.add_flow("b", consumes=[dependency("other-division", "INBOUNDCALLFLOW")])
    org.add_flow(
        "c",
        consumes=[dependency("other-division", "INBOUNDCALLFLOW"), dependency("ghost", "INBOUNDCALLFLOW")],
    )
    return org


def test_a_flow_of_a_hidden_division_is_not_visible_and_an_absent_one_stays_missing() -> None:
    # Given flows consuming a flow of a division the client cannot see and a flow that does not exist
    source, artifacts = FakeSource(hidden_org()), FakeArtifacts()
    # When the org is scanned one flow per page
    outcome = run_scan(source, artifacts, FakePointers(), scan_id="hidden-1", page_size=1)
    lock = parse_lock(artifacts.objects[outcome.lock_key])
    # Then the hidden flow is recorded as not visible, not missing; the absent one as missing
    hidden, ghost, listed = lock.object("other-division"), lock.object("ghost"), lock.object("b")
    assert hidden is not None and hidden.not_visible is True and not hidden.missing
    assert ghost is not None and ghost.missing and ghost.not_visible is None
    assert listed is not None and not listed.missing and listed.not_visible is None
    # and each unlisted flow was asked for once in the whole scan (cached across pages), no listed one
    gets = [call for call in source.calls if call.startswith("GET /api/v2/flows/")]
    assert sorted(gets) == ["GET /api/v2/flows/ghost", "GET /api/v2/flows/other-division"]
    # and the graph warns about the hidden flow (with a division hint) and errs only on the absent one
    problems = analyze(lock).problems
    by_code = {(problem.code.value, tuple(problem.object_ids)): problem for problem in problems}
    warning = by_code[("REFERENCE_NOT_VISIBLE", ("other-division",))]
    assert warning.severity.value == "warning" and "division" in warning.hint
    assert ("MISSING_REFERENCE", ("ghost",)) in by_code
    assert ("MISSING_REFERENCE", ("other-division",)) not in by_code
    analysis = json.loads(artifacts.objects["scans/dev/hidden-1/analysis.json"])
    assert analysis["missing"] == ["ghost"]


def test_objects_without_the_flag_keep_their_canonical_bytes() -> None:
    # Given a lock with no hidden flow
    org = FakeOrg()
    org.add_flow("a", consumes=[dependency("ghost", "INBOUNDCALLFLOW")])
    artifacts = FakeArtifacts()
    outcome = run_scan(FakeSource(org), artifacts, FakePointers(), scan_id="plain")
    lock = parse_lock(artifacts.objects[outcome.lock_key])
    # Then no object carries a not_visible key (older locks' hashes are unchanged)
    assert all("not_visible" not in item for item in canonical_body(lock)["objects"])


def test_direct_reads_are_bounded_per_page(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given one page consuming two hidden flows and a bound of one direct read per page
    monkeypatch.setattr(pages, "MAX_VISIBILITY_CHECKS", 1)
    org = FakeOrg()
    org.hidden_flows.update({"h1", "h2"})
    org.add_flow("a", consumes=[dependency("h1", "INBOUNDCALLFLOW"), dependency("h2", "INBOUNDCALLFLOW")])
    source, artifacts = FakeSource(org), FakeArtifacts()
    # When it is scanned
    outcome = run_scan(source, artifacts, FakePointers(), scan_id="bounded")
    lock = parse_lock(artifacts.objects[outcome.lock_key])
    # Then one was asked (not visible) and the other stays missing, as without the check
    assert [call for call in source.calls if call.startswith("GET /api/v2/flows/")] == [
        "GET /api/v2/flows/h1"
    ]
    h1, h2 = lock.object("h1"), lock.object("h2")
    assert h1 is not None and h1.not_visible and not h1.missing
    assert h2 is not None and h2.missing and h2.not_visible is None
