"""The release benchmark's inputs and report (its runs are real executions: `python -m bench.release`)."""

from __future__ import annotations

from bench.release import format_report, release_files


def test_release_files_are_a_module_and_its_callers_with_one_environment() -> None:
    # Given the files of a 5-flow release
    files = release_files(5, "v1")
    # Then there is one module, four callers and the dev environment's options file
    flows = sorted(path for path in files if path.startswith("flows/"))
    assert flows[0] == "flows/commonModule/bench-menu.yaml"
    assert len(flows) == 5 and all(b"Bench Menu" in files[path] for path in flows)
    assert files["environments/dev.yaml"] == b"substitutions:\n  queue: Support\n"


def test_report_compares_each_release_with_n_single_publishes() -> None:
    # Given a release that took 100 calls and 60 s, and single publishes of 20 calls and 30 s each
    sample = {"status": "SUCCEEDED", "flows_changed": 10, "api_calls": 100, "simulated_seconds": 60.0}
    report = {
        "flows": 10,
        "release": sample,
        "release_with_rollback": {**sample, "status": "Release.RolledBack", "api_calls": 150},
        "single_publish": {"measured": 2, "api_calls_for_all": 200, "simulated_seconds_for_all": 300.0},
    }
    # When it is formatted
    lines = format_report(report).splitlines()
    # Then each run shows its ratio to the baseline (calls 0.50, time 0.20) and the baseline is 1
    assert lines[1].split()[-2:] == ["0.50", "0.20"]
    assert lines[2].split()[-2:] == ["0.75", "0.20"]
    assert lines[3].split()[-3:] == ["5.00", "1.00", "1.00"]
