"""The cold-start benchmark's analysis: lazy-import detection and the report (no timing asserted)."""

from __future__ import annotations

from bench.cold_start import (
    ModuleCost,
    first_call_clients,
    format_report,
    handler_modules,
    lazy_import_sites,
    reachable_lazy_sites,
    top_level_imports,
)


def test_graph_building_steps_are_found_importing_networkx_inside_a_function() -> None:
    # Given the scan's lock assembly and the publish validation, which build graphs on call
    # When their modules are searched for function-level imports of the graph package
    # Then the functions doing it are named, and modules importing nothing lazily are not
    assert "flowops.scan.assemble.analyze_and_export" in lazy_import_sites("flowops.scan.assemble")
    assert "flowops.publish.validate._check_cycles" in lazy_import_sites("flowops.publish.validate")
    assert lazy_import_sites("flowops.lock.canonical") == ()
    assert lazy_import_sites("no.such.module") == ()


def test_every_handler_module_is_listed() -> None:
    modules = handler_modules()
    assert "flowops.functions.scan.build_lock" in modules
    assert "flowops.functions.webhook.api" in modules
    assert all(module.startswith("flowops.functions.") for module in modules)


def test_importtime_log_gives_cumulative_seconds_per_top_level_package() -> None:
    # Given a -X importtime log with nested and own modules
    log = "\n".join(
        [
            "import time: self [us] | cumulative | imported package",
            "import time:       500 |       1500 |     networkx.utils",
            "import time:      1000 |     250000 |   networkx",
            "import time:       200 |      90000 | boto3",
            "import time:       100 |     400000 | flowops",
        ]
    )
    # When it is parsed / Then top-level third-party packages come heaviest first
    assert top_level_imports(log) == [("networkx", 0.25), ("boto3", 0.09)]


def test_report_counts_init_time_and_first_call_networkx_separately() -> None:
    # Given one handler importing networkx at init and one importing it on its first call
    costs = [
        ModuleCost(
            module="flowops.functions.scan.report",
            wall_seconds=0.9,
            init_seconds=0.5,
            top_imports=[("networkx", 0.2)],
            init_heavy=["networkx", "aws_xray_sdk"],
            lazy_sites=[],
            first_call_seconds=0.0,
        ),
        ModuleCost(
            module="flowops.functions.scan.build_lock",
            wall_seconds=0.7,
            init_seconds=0.5,
            top_imports=[("boto3", 0.2)],
            init_heavy=["aws_xray_sdk"],
            lazy_sites=["flowops.scan.assemble.analyze_and_export"],
            first_call_seconds=0.2,
        ),
    ]
    # When the report is formatted
    report = format_report(costs, samples=1, top=1)

    # Then networkx at init and networkx on the first call are reported apart
    assert "networkx: imported at init by 1 of 2 handlers: flowops.functions.scan.report" in report
    assert "aws_xray_sdk: imported at init by 2 of 2 handlers" in report
    assert "flowops.functions.scan.build_lock" in report.split("networkx imported lazily")[1]
    assert "+200 ms" in report


def test_only_handlers_that_can_call_a_lazy_site_are_charged_for_it() -> None:
    # Given the modules a publish handler loads, which include the validation module and its
    # function-level networkx import
    loaded = [
        "flowops.functions.publish.validate",
        "flowops.functions.publish.check_job",
        "flowops.functions.publish._wiring",
        "flowops.publish.steps",
        "flowops.publish.validate",
    ]
    # When reachability is followed from each handler's `handler` function
    # Then Validate reaches the cycle check and CheckPublishJob does not
    validate_sites = reachable_lazy_sites("flowops.functions.publish.validate", loaded)
    assert validate_sites == ["flowops.publish.validate._check_cycles"]
    assert reachable_lazy_sites("flowops.functions.publish.check_job", loaded) == []


def test_the_floor_creates_the_clients_the_handlers_calls_create() -> None:
    # Given the modules the publish Start handler and the webhook handler load
    publish_loaded = [
        "flowops.functions._shared",
        "flowops.functions.publish._wiring",
        "flowops.functions.publish.start_publish",
        "flowops.config",
        "flowops.genesys.credentials",
    ]
    webhook_loaded = ["flowops.functions.webhook.api", "flowops.webhook.factory"]
    # When the clients each handler's code can create are collected
    publish_clients = first_call_clients("flowops.functions.publish.start_publish", publish_loaded)
    webhook_clients = first_call_clients("flowops.functions.webhook.api", webhook_loaded)
    # Then the publish step's stores and Genesys secret (behind the lazy Genesys client) are there,
    # and the webhook's routes reach the execution starter
    assert {"dynamodb", "s3", "secretsmanager"} <= set(publish_clients)
    assert {"dynamodb", "stepfunctions", "secretsmanager"} <= set(webhook_clients)
