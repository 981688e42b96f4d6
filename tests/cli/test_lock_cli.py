"""`flowops lock show|diff`: from files, from the stored locks of the local cloud, and errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from flowops.cli import app, exit_codes
from flowops.lock import LockedFlow, Lockfile, canonical_bytes, lock_document_bytes, lock_sha256
from flowops.store import ArtifactStore, LockPointerStore, lock_key
from tests.unit.lock.org_files import load_org_lock


def _write(path: Path, lock: Lockfile) -> str:
    path.write_bytes(lock_document_bytes(lock))
    return str(path)


def _republished(lock: Lockfile, flow_id: str, version: str) -> Lockfile:
    flows = [
        flow.model_copy(update={"published_version": version}) if flow.id == flow_id else flow
        for flow in lock.flows
    ]
    return Lockfile(org=lock.org, flows=flows, objects=lock.objects)


def test_show_a_lock_file_as_json(tmp_path: Path, no_cloud: None) -> None:
    # Given a lock file of the diamond org
    lock = load_org_lock("diamond")
    path = _write(tmp_path / "diamond.lock.json", lock)

    # When it is shown as JSON
    result = CliRunner().invoke(app, ["lock", "show", path, "--json"])

    # Then its hash and counts are those of the lock
    assert result.exit_code == exit_codes.OK, result.output
    document = json.loads(result.stdout)
    assert document["lock_sha256"] == lock_sha256(lock)
    assert document["flows"] == len(lock.flows)
    assert document["edges"] == sum(len(flow.consumes) for flow in lock.flows)
    assert sum(document["flows_by_type"].values()) == len(lock.flows)


def test_diff_of_files_exits_1_when_they_differ_and_0_when_identical(tmp_path: Path, no_cloud: None) -> None:
    # Given a lock and the same org after one flow was republished
    before = load_org_lock("diamond")
    after = _republished(before, "flow-top", "9.0")
    old, new = _write(tmp_path / "old.json", before), _write(tmp_path / "new.json", after)

    # When they are diffed
    differs = CliRunner().invoke(app, ["lock", "diff", old, new, "--json"])
    same = CliRunner().invoke(app, ["lock", "diff", old, old])

    # Then the diff names the republished flow and says so with exit code 1
    assert differs.exit_code == exit_codes.FAILURE_FOUND, differs.output
    document = json.loads(differs.stdout)
    assert document["changed_flow_ids"] == ["flow-top"]
    assert document["flows_reversioned"][0]["new_version"] == "9.0"
    assert document["differs"] is True
    assert same.exit_code == exit_codes.OK and "identical" in same.stdout


def test_diff_by_name_matches_flows_across_environments(tmp_path: Path, no_cloud: None) -> None:
    # Given dev and prod locks where the same flows have different ids, prod one version behind
    def one_flow(org: str, flow_id: str, version: str) -> Lockfile:
        flow = LockedFlow(id=flow_id, name="Main", type="INBOUNDCALL", published_version=version)
        return Lockfile(org=org, flows=[flow])

    dev, prod = one_flow("dev", "d-1", "3.0"), one_flow("prod", "p-9", "2.0")
    source, target = _write(tmp_path / "dev.json", dev), _write(tmp_path / "prod.json", prod)

    # When they are compared by name
    result = CliRunner().invoke(app, ["lock", "diff", source, target, "--by-name"])

    # Then the flows are matched and the version difference is reported
    assert result.exit_code == exit_codes.FAILURE_FOUND, result.output
    assert "matched 1 flows" in result.stdout
    assert "INBOUNDCALLFLOW Main: 3.0 vs 2.0" in result.stdout


def _published(
    flow_id: str, name: str, version: str | None, by: str | None, at: datetime | None
) -> LockedFlow:
    return LockedFlow(
        id=flow_id,
        name=name,
        type="INBOUNDCALL",
        published_version=version,
        published_by=by,
        date_published=at,
    )


def test_show_prints_who_published_what_and_when_newest_first(tmp_path: Path, no_cloud: None) -> None:
    # Given a lock of four flows: two with publisher and date (one given in UTC+2), one with a
    # publisher only, one with neither, and one never published
    lock = Lockfile(
        org="dev",
        flows=[
            _published("f-old", "Old IVR", "2.0", "Ana (u-1)", datetime(2026, 11, 3, 9, 15, tzinfo=UTC)),
            _published(
                "f-new",
                "New IVR",
                "5.0",
                "Ben (u-2)",
                datetime(2026, 12, 1, 16, 4, tzinfo=timezone(timedelta(hours=2))),
            ),
            _published("f-undated", "Undated", "1.0", "client flowops", None),
            _published("f-unknown", "Unknown", "3.0", None, None),
            _published("f-draft", "Draft", None, None, None),
        ],
    )
    path = _write(tmp_path / "who.lock.json", lock)

    # When it is shown, as text and as JSON
    text = CliRunner().invoke(app, ["lock", "show", path])
    document = json.loads(CliRunner().invoke(app, ["lock", "show", path, "--json"]).stdout)

    # Then the publishes are listed newest first (16:04 at UTC+2 is 14:04 UTC), the undated one last,
    # and the published flow with no publisher recorded is counted, not listed
    assert text.exit_code == exit_codes.OK, text.output
    recent = text.stdout.splitlines()[-4:]
    assert recent == [
        "recent   3 latest of 3 publishes (1 more with no publisher recorded):",
        "  2026-12-01 14:04 UTC  New IVR (f-new) 5.0 by Ben (u-2)",
        "  2026-11-03 09:15 UTC  Old IVR (f-old) 2.0 by Ana (u-1)",
        "  (date unknown)        Undated (f-undated) 1.0 by client flowops",
    ]
    assert [entry["flow_id"] for entry in document["publishes"]] == ["f-new", "f-old", "f-undated"]
    assert document["publishes"][0] == {
        "flow_id": "f-new",
        "name": "New IVR",
        "version": "5.0",
        "published_by": "Ben (u-2)",
        "date_published": "2026-12-01T14:04:00+00:00",
    }
    assert document["publisher_unknown"] == 1


def test_diff_says_who_republished_and_added_flows_and_when(tmp_path: Path, no_cloud: None) -> None:
    # Given a lock, and the next one where Ben republished Main and Ana added Survey
    main_before = _published("f-main", "Main", "2.0", "Ana (u-1)", datetime(2026, 11, 3, 9, 15, tzinfo=UTC))
    main_after = _published("f-main", "Main", "3.0", "Ben (u-2)", datetime(2026, 12, 1, 14, 4, tzinfo=UTC))
    survey = _published("f-survey", "Survey", "1.0", "Ana (u-1)", datetime(2026, 12, 2, 8, 0, tzinfo=UTC))
    old = _write(tmp_path / "old.json", Lockfile(org="dev", flows=[main_before]))
    new = _write(tmp_path / "new.json", Lockfile(org="dev", flows=[main_after, survey]))

    # When they are diffed
    result = CliRunner().invoke(app, ["lock", "diff", old, new])

    # Then each change names its publisher and the minute, in UTC
    assert result.exit_code == exit_codes.FAILURE_FOUND, result.output
    lines = result.stdout.splitlines()
    assert "  Survey (f-survey) by Ana (u-1) at 2026-12-02 08:00 UTC" in lines
    assert "  Main (f-main) 2.0 -> 3.0 by Ben (u-2) at 2026-12-01 14:04 UTC" in lines


def test_diff_by_name_says_who_published_each_side(tmp_path: Path, no_cloud: None) -> None:
    # Given dev (3.0 by Ben) and prod (2.0 by Ana, no date recorded)
    dev = Lockfile(
        org="dev",
        flows=[_published("d-1", "Main", "3.0", "Ben (u-2)", datetime(2026, 12, 1, 14, 4, tzinfo=UTC))],
    )
    prod = Lockfile(org="prod", flows=[_published("p-9", "Main", "2.0", "Ana (u-1)", None)])
    source, target = _write(tmp_path / "dev.json", dev), _write(tmp_path / "prod.json", prod)

    # When they are compared by name
    result = CliRunner().invoke(app, ["lock", "diff", source, target, "--by-name"])

    # Then both sides say who published their version
    assert result.exit_code == exit_codes.FAILURE_FOUND, result.output
    assert (
        "  INBOUNDCALLFLOW Main: 3.0 by Ben (u-2) at 2026-12-01 14:04 UTC vs 2.0 by Ana (u-1)"
        in result.stdout.splitlines()
    )


def test_show_and_diff_stored_locks_through_the_pointer(cli_cloud: Any) -> None:
    # Given two locks stored by content address and the pointer on the newer one
    environment = cli_cloud.function_environment("CheckDependencyIndex")
    org = environment.get("FLOWOPS_ORG", "dev")
    artifacts = ArtifactStore(environment["ARTIFACTS_BUCKET"], cli_cloud.s3)
    pointers = LockPointerStore(environment["STATE_TABLE"], cli_cloud.dynamodb)
    first = load_org_lock("nested_cycles", org=org)
    second = _republished(first, "flow-entry", "7.0")
    for lock in (first, second):
        artifacts.put_immutable(lock_key(org, lock_sha256(lock)), canonical_bytes(lock))
    pointers.advance(org, lock_sha256(first), None, key=lock_key(org, lock_sha256(first)), scan_id="s1")
    pointers.advance(
        org, lock_sha256(second), lock_sha256(first), key=lock_key(org, lock_sha256(second)), scan_id="s2"
    )

    # When the current lock is shown
    shown = CliRunner().invoke(app, ["lock", "show", "--json"])

    # Then it is the pointer's lock, with the pointer's history
    assert shown.exit_code == exit_codes.OK, shown.output
    document = json.loads(shown.stdout)
    assert document["lock_sha256"] == lock_sha256(second)
    assert document["pointer"]["previous_sha"] == lock_sha256(first)
    assert document["pointer"]["scan_id"] == "s2"

    # When the first lock (by a 10-digit prefix) is diffed with the current one
    diffed = CliRunner().invoke(app, ["lock", "diff", lock_sha256(first)[:10], "current"])

    # Then the drift is the republished flow
    assert diffed.exit_code == exit_codes.FAILURE_FOUND, diffed.output
    assert "republished (1):" in diffed.stdout and "flow-entry" in diffed.stdout


def test_errors_are_one_line_with_the_documented_exit_code(tmp_path: Path, cli_cloud: Any) -> None:
    runner = CliRunner()
    # A reference that is neither a file, a sha nor 'current' is a usage error
    bad = runner.invoke(app, ["lock", "show", "not-a-lock"])
    assert bad.exit_code == exit_codes.USAGE_ERROR and "neither a lock file" in bad.stderr
    # A file that is not a lock is a usage error
    junk = tmp_path / "junk.json"
    junk.write_text("{not json", encoding="utf-8")
    unreadable = runner.invoke(app, ["lock", "show", str(junk)])
    assert unreadable.exit_code == exit_codes.USAGE_ERROR and "not a readable lock" in unreadable.stderr
    # No current lock yet (scan first) and an unknown sha are usage errors, not problems found
    no_lock = runner.invoke(app, ["lock", "show"])
    assert no_lock.exit_code == exit_codes.USAGE_ERROR and "run `flowops scan` first" in no_lock.stderr
    unknown = runner.invoke(app, ["lock", "show", "deadbeefdeadbeef"])
    assert unknown.exit_code == exit_codes.USAGE_ERROR and "starts with deadbeefdeadbeef" in unknown.stderr
    for result in (bad, unreadable, no_lock, unknown):
        assert "Traceback" not in result.output


def test_stored_locks_without_a_cloud_are_unreachable(no_cloud: None) -> None:
    result = CliRunner().invoke(app, ["lock", "show"])
    assert result.exit_code == exit_codes.UNREACHABLE and "flowops local up" in result.stderr
