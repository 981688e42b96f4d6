"""`flowops scan` says what its `live/<env>` mirror did, and what waits after a failed push."""

from __future__ import annotations

from flowops.cli.scan import git_mirror_lines


def repository(**fields: object) -> dict[str, object]:
    return {"repository": "acme/flows", "branch": "live/prod", "commits": 0, "error": "", **fields}


def test_a_scan_without_git_prints_no_git_line() -> None:
    assert git_mirror_lines({}) == []
    # And one with Git but nothing to commit says so
    nothing = {"git_mirror": {"flows": 0, "reason": "no flow's published content changed"}}
    assert git_mirror_lines(nothing) == ["git      no flow's published content changed"]


def test_a_landed_mirror_names_its_head_and_what_it_carried() -> None:
    lines = git_mirror_lines(
        {"git_mirror": {"repositories": [repository(commits=2, commit="c0ffee" * 7, carried_in=3)]}}
    )
    assert lines == [
        "git      acme/flows live/prod: 2 commit(s), head c0ffeec0ffee, 3 carried from a failed mirror"
    ]


def test_a_refused_push_says_how_many_flows_wait_and_since_when() -> None:
    refused = repository(
        failed=True, error="live/prod: push rejected 4 times", pending=5, pending_since="2026-12-02T15:00:00Z"
    )
    (line,) = git_mirror_lines({"git_mirror": {"repositories": [refused]}})
    assert "NOT committed (live/prod: push rejected 4 times)" in line
    assert "5 flow(s) pending since 2026-12-02T15:00:00Z, retried by the next scan or release" in line
    # And when the step failed after its retries, the recorded error is printed
    failed = {"git_mirror_error": {"Error": "Git.MirrorFailed", "Cause": "acme/flows live/prod: refused"}}
    assert git_mirror_lines(failed) == [
        "git      mirror step failed: Git.MirrorFailed: acme/flows live/prod: refused"
    ]
