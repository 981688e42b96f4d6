"""The scan state machine: dependency index → pages of flows → lockfile → pointer → report.

Authored with CDK chainables in JSONPath (JSONata does not run locally). Every list that
grows with the org travels as S3 keys: the Map over pages returns one small record per page,
so a 20,000-flow org (100 pages of 200) stays far below the 256 KB state limit.

State names read as sentences in the console. Genesys-calling tasks share one retry policy
(429/5xx/unreachable surface from the client as `Genesys.*` error names); every task is
caught into one Fail state whose cause says the previous lock is still current — except the
report, which runs after the pointer step and so fails into a state naming the lock now current.
"""

from __future__ import annotations

import math

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from flowops.scan.shape import MAX_INDEX_DEADLINE_SECONDS, MAX_SCAN_PAGES, index_checks_within
from infra.constants import MAP_MAX_CONCURRENCY
from infra.constructs.functions import FunctionsConstruct
from infra.constructs.storage import StorageConstruct
from infra.constructs.workflow import (
    StepFunction,
    add_step_functions,
    execution_timeout,
    invoke_step,
    retry_genesys_calls,
    retry_store_calls,
    workflow_state_machine,
)
from infra.environment import EnvironmentConfig

SCAN_FAILED = "Scan failed, the previous lock is still current"
REPORT_FAILED_OWN_LOCK = "Scan report failed, this scan's lock is current"
REPORT_FAILED_OTHER_LOCK = "Scan report failed, another scan's lock is current"
GIT_MIRROR_FAILED = "Git.MirrorFailed"  # flowops.git.drift.GitMirrorFailedError
# Lambda memory (MB) of the steps that hold a whole org; bench.step_memory measures each step's
# peak against these (target: at most half, so a denser org does not fail in the last step).
# BuildLock holds the new lock and the previous one while it diffs them (628 MiB at 100k graph
# nodes) and then runs the CPU-bound graph analysis: 1,769 MB is where Lambda gives a function
# one full vCPU, so the size buys the analysis speed as well as the headroom.
STEP_MEMORY_MB = {"ReadFlowPage": 512, "BuildLock": 1769, "ReportScan": 512}


def scan_timeout(functions: dict[str, lambda_.Function], drift_mirror: lambda_.Function | None) -> Duration:
    """The longest single attempt: the dependency index checked until the longest deadline a request
    may give (every check to its Lambda timeout, every wait of the poll policy), the listing, every
    round of the page Map (MAX_SCAN_PAGES pages, MAP_MAX_CONCURRENCY at a time, each page to its
    Lambda timeout), the lock, pointer and report, then the Git drift mirror. With the common margin.

    It is longer than the schedule's interval (a 100,000-flow org read through one shared budget
    takes hours): a scheduled scan may start while one runs; both pin the lock they compare with and
    the pointer's compare-and-set lets only one advance it (docs/decisions.md)."""
    rounds = math.ceil(MAX_SCAN_PAGES / MAP_MAX_CONCURRENCY)
    index_checks = index_checks_within(MAX_INDEX_DEADLINE_SECONDS)
    return execution_timeout(
        steps=[
            *[functions["CheckDependencyIndex"]] * index_checks,
            functions["ListFlowPages"],
            *[functions["ReadFlowPage"]] * rounds,
            functions["BuildLock"],
            functions["AdvanceLockPointer"],
            functions["ReportScan"],
            *([drift_mirror] if drift_mirror is not None else []),
        ],
        waits_seconds=MAX_INDEX_DEADLINE_SECONDS,
    )


class ScanWorkflowConstruct(Construct):
    """Functions of the scan steps and the state machine that runs them."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        storage: StorageConstruct,
        functions: FunctionsConstruct,
        drift_mirror: lambda_.Function | None = None,
    ) -> None:
        """`drift_mirror`: the Git step (infra/constructs/git_drift_mirror.py) run after the report
        when published flows changed; None (no Git mirror configured): the report ends the scan."""
        super().__init__(scope, construct_id)
        bucket, state, audit = storage.artifacts_bucket, storage.state_table, storage.audit_table
        # Objects are written (content-addressed locks, page results, reports) and read, never deleted.
        read_and_write_objects = [bucket.grant_read, bucket.grant_put]
        self.functions: dict[str, lambda_.IFunction] = dict(
            add_step_functions(
                functions,
                "scan",
                [
                    # Genesys only: the index status lives in Genesys, nothing is stored.
                    StepFunction(
                        "CheckDependencyIndex",
                        "check_index",
                        Duration.seconds(60),
                        calls_genesys=True,
                    ),
                    # Reads the lock pointer to plan an incremental scan; stores the data actions' versions
                    # and one checked listing of every flow (2+ passes of 500 per call: 80+ calls and
                    # ~40 MB for 20,000 flows), hence minutes rather than seconds.
                    StepFunction(
                        "ListFlowPages",
                        "list_pages",
                        Duration.minutes(5),
                        grants=[state.grant_read_data, bucket.grant_put],
                        calls_genesys=True,
                    ),
                    # A page of 200 flows is at most ~200 consumed-resource reads; at a quarter of a
                    # shared 300/min budget that is under 3 minutes. The Lambda maximum leaves ample margin.
                    StepFunction(
                        "ReadFlowPage",
                        "read_page",
                        Duration.minutes(15),
                        grants=read_and_write_objects,
                        calls_genesys=True,
                        memory_size=STEP_MEMORY_MB["ReadFlowPage"],
                    ),
                    StepFunction(
                        "BuildLock",
                        "build_lock",
                        Duration.minutes(5),
                        grants=read_and_write_objects,
                        memory_size=STEP_MEMORY_MB["BuildLock"],
                    ),
                    StepFunction(
                        "AdvanceLockPointer",
                        "advance_pointer",
                        Duration.seconds(30),
                        grants=[state.grant_read_write_data],
                    ),
                    StepFunction(
                        "ReportScan",
                        "report",
                        Duration.minutes(2),
                        grants=[*read_and_write_objects, audit.grant_write_data],
                        memory_size=STEP_MEMORY_MB["ReportScan"],
                    ),
                ],
            )
        )
        f = self.functions

        scan_failed = sfn.Fail(
            self,
            SCAN_FAILED,
            error_path="$.error.Error",
            cause_path="$.error.Cause",
        )
        index_not_operational = sfn.Fail(
            self,
            "Dependency index did not become operational in time",
            error="DependencyIndexNotOperational",
            cause_path="$.index.message",
        )

        start = sfn.Pass(
            self,
            "Start the scan",
            parameters={
                "scan": {
                    "scan_id": sfn.JsonPath.string_at("$$.Execution.Name"),
                    "started_at": sfn.JsonPath.string_at("$$.Execution.StartTime"),
                    "request": sfn.JsonPath.entire_payload,
                },
                "index": {"attempt": 0, "waited_seconds": 0, "rebuild_requested": False},
            },
        )
        check_index = invoke_step(
            self,
            "Check the dependency index",
            f["CheckDependencyIndex"],
            {"scan": sfn.JsonPath.object_at("$.scan"), "index": sfn.JsonPath.object_at("$.index")},
            "$.index",
        )
        wait_for_index = sfn.Wait(
            self,
            "Wait for the dependency index to rebuild",
            time=sfn.WaitTime.seconds_path("$.index.wait_seconds"),
        )
        list_pages = invoke_step(
            self,
            "List the pages of flows",
            f["ListFlowPages"],
            {"scan": sfn.JsonPath.object_at("$.scan"), "index": sfn.JsonPath.object_at("$.index")},
            "$.plan",
        )
        # The Map item is the page task itself; its result (key + counts) is the item's output.
        read_page = invoke_step(
            self, "Read one page of flows and their dependencies", f["ReadFlowPage"], None, "$"
        )
        read_pages = sfn.Map(
            self,
            "Read every page of flows",
            items_path="$.plan.pages",
            max_concurrency=MAP_MAX_CONCURRENCY,
            item_selector={
                "scan": sfn.JsonPath.object_at("$.scan"),
                "page_number": sfn.JsonPath.number_at("$$.Map.Item.Value.page_number"),
                # The page's slice of the plan's one listing (no re-listing: see scan/listing.py).
                "listing_key": sfn.JsonPath.string_at("$$.Map.Item.Value.listing_key"),
                "page_size": sfn.JsonPath.number_at("$.plan.page_size"),
                "previous_lock_key": sfn.JsonPath.string_at("$.plan.previous_lock_key"),
                # Flows the index failed on are recorded as unread without a read.
                "failed_objects_key": sfn.JsonPath.string_at("$.plan.failed_objects_key"),
            },
            result_path="$.pages",
        )
        read_pages.item_processor(retry_genesys_calls(read_page))
        build_lock = invoke_step(
            self,
            "Build and store the lockfile",
            f["BuildLock"],
            {
                "scan": sfn.JsonPath.object_at("$.scan"),
                "plan": sfn.JsonPath.object_at("$.plan"),
                "pages": sfn.JsonPath.list_at("$.pages"),
                "index": sfn.JsonPath.object_at("$.index"),
            },
            "$.lock",
        )
        advance = invoke_step(
            self,
            "Make the new lock current unless another scan won",
            f["AdvanceLockPointer"],
            {
                "scan": sfn.JsonPath.object_at("$.scan"),
                "plan": sfn.JsonPath.object_at("$.plan"),
                "lock": sfn.JsonPath.object_at("$.lock"),
            },
            "$.pointer",
        )
        report = invoke_step(
            self,
            "Report drift, metrics and audit",
            f["ReportScan"],
            {
                "scan": sfn.JsonPath.object_at("$.scan"),
                "plan": sfn.JsonPath.object_at("$.plan"),
                "lock": sfn.JsonPath.object_at("$.lock"),
                "pointer": sfn.JsonPath.object_at("$.pointer"),
            },
            "$.outcome",
        )
        done = sfn.Succeed(self, "Scan complete", output_path="$.outcome")

        retry_genesys_calls(check_index)
        retry_genesys_calls(list_pages)
        for task in (build_lock, advance, report):
            retry_store_calls(task)
        for step in (check_index, list_pages, read_pages, build_lock, advance):
            step.add_catch(scan_failed, errors=["States.ALL"], result_path="$.error")
        # After the pointer step the previous lock may no longer be current: the failure names
        # the pointer's actual state (it is in $.pointer, kept beside $.error).
        report_failed_own_lock = sfn.Fail(
            self,
            REPORT_FAILED_OWN_LOCK,
            error_path="$.error.Error",
            cause_path="$.error.Cause",
        )
        report_failed_other_lock = sfn.Fail(
            self,
            REPORT_FAILED_OTHER_LOCK,
            error_path="$.error.Error",
            cause_path="$.error.Cause",
        )
        pointer_state = (
            sfn.Choice(self, "Which lock does the pointer name?")
            .when(
                sfn.Condition.or_(
                    sfn.Condition.boolean_equals("$.pointer.advanced", True),
                    sfn.Condition.boolean_equals("$.pointer.unchanged", True),
                ),
                report_failed_own_lock,
            )
            .otherwise(report_failed_other_lock)
        )
        report.add_catch(pointer_state, errors=["States.ALL"], result_path="$.error")

        index_ready = (
            sfn.Choice(self, "Is the dependency index operational?")
            .when(sfn.Condition.boolean_equals("$.index.operational", True), list_pages)
            .when(sfn.Condition.boolean_equals("$.index.deadline_exceeded", True), index_not_operational)
            .otherwise(wait_for_index)
        )
        wait_for_index.next(check_index)
        definition = start.next(check_index).next(index_ready)
        list_pages.next(read_pages).next(build_lock).next(advance).next(report)
        if drift_mirror is None:
            report.next(done)
        else:
            report.next(self._mirror_drift(drift_mirror, done))

        self.state_machine = workflow_state_machine(
            self,
            config=config,
            workflow="Scan",
            definition=definition,
            timeout=scan_timeout(self.functions, drift_mirror),
            comment=f"flowops scan of org {config.org_key}: dependency index, flows, lockfile, drift",
            invoked_functions=[*self.functions.values(), *([drift_mirror] if drift_mirror else [])],
        )

    def _mirror_drift(self, function: lambda_.IFunction, done: sfn.Succeed) -> sfn.Choice:
        """Choice → commit the drift to Git → done. The lock is current by then: a repository that
        keeps refusing is retried, then recorded in the outcome (`git_mirror_error`), and the
        scan still succeeds (the Lambda error alarm reports the refusal)."""
        mirror = invoke_step(
            self,
            "Commit the changed flows to Git",
            function,
            {
                "scan_id": sfn.JsonPath.string_at("$.outcome.scan_id"),
                "report_key": sfn.JsonPath.string_at("$.outcome.report_key"),
                "compared_with_sha": sfn.JsonPath.string_at("$.outcome.drift.compared_with_sha"),
                "drift_key": sfn.JsonPath.string_at("$.lock.drift_key"),
            },
            "$.outcome.git_mirror",
        )
        retry_genesys_calls(mirror)
        mirror.add_retry(
            errors=[GIT_MIRROR_FAILED],
            interval=Duration.seconds(30),
            backoff_rate=2,
            max_attempts=2,
            jitter_strategy=sfn.JitterType.FULL,
        )
        not_committed = sfn.Pass(self, "Changed flows not committed to Git")
        mirror.add_catch(not_committed, errors=["States.ALL"], result_path="$.outcome.git_mirror_error")
        mirror.next(done)
        not_committed.next(done)
        # Every scan with a lock to compare with: besides its own drift (flows added, re-versioned,
        # renamed, removed), an earlier failed mirror may be pending; the step answers at once
        # when there is neither. A first scan is a baseline and commits nothing.
        compared = sfn.Condition.is_string("$.outcome.drift.compared_with_sha")
        return sfn.Choice(self, "Is there a lock to compare with?").when(compared, mirror).otherwise(done)
