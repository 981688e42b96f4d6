"""The scan state machine: dependency index → pages of flows → lockfile → pointer → report.

Authored with CDK chainables in JSONPath (JSONata does not run locally). Every list that
grows with the org travels as S3 keys: the Map over pages returns one small record per page,
so a 20,000-flow org (100 pages of 200) stays far below the 256 KB state limit.

State names read as sentences in the console. Genesys-calling tasks share one retry policy
(429/5xx/unreachable surface from the client as `Genesys.*` error names); every task is
caught into one Fail state whose cause says the previous lock is still current.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from infra.constructs.functions import FunctionsConstruct
from infra.constructs.storage import StorageConstruct
from infra.environment import EnvironmentConfig
from infra.nag import acknowledge, logical_id

# Errors the Genesys client raises after its own retries are spent; worth a slower retry here.
GENESYS_RETRYABLE_ERRORS = ["Genesys.RateLimited", "Genesys.ServerError", "Genesys.Unavailable"]
STORE_RETRYABLE_ERRORS = ["Store.Throttled", "Store.Unavailable"]
MAP_MAX_CONCURRENCY = 4  # pages read at once; the org's rate limit is shared by all of them
STATE_MACHINE_TIMEOUT = Duration.hours(3)  # index deadline (30 min) + a 20,000-flow org at 300/min


def retry_genesys_calls(task: sfn.TaskStateBase) -> sfn.TaskStateBase:
    """The one retry policy for every Genesys-calling task: backoff with full jitter."""
    task.add_retry(
        errors=GENESYS_RETRYABLE_ERRORS,
        interval=Duration.seconds(5),
        backoff_rate=2.0,
        max_attempts=5,
        max_delay=Duration.seconds(120),
        jitter_strategy=sfn.JitterType.FULL,
    )
    return retry_store_calls(task)


def retry_store_calls(task: sfn.TaskStateBase) -> sfn.TaskStateBase:
    task.add_retry(
        errors=STORE_RETRYABLE_ERRORS,
        interval=Duration.seconds(1),
        backoff_rate=2.0,
        max_attempts=4,
        jitter_strategy=sfn.JitterType.FULL,
    )
    return task


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
    ) -> None:
        super().__init__(scope, construct_id)
        bucket, state, audit = storage.artifacts_bucket, storage.state_table, storage.audit_table

        check_index_fn = functions.add_function(
            "CheckDependencyIndex",
            handler="functions.scan.check_index.handler",
            grants=[],
            calls_genesys=True,
            timeout=Duration.seconds(60),
        )
        list_pages_fn = functions.add_function(
            "ListFlowPages",
            handler="functions.scan.list_pages.handler",
            grants=[state.grant_read_data],
            calls_genesys=True,
            timeout=Duration.seconds(60),
        )
        read_page_fn = functions.add_function(
            "ReadFlowPage",
            handler="functions.scan.read_page.handler",
            grants=[bucket.grant_read_write],
            calls_genesys=True,
            # A page of 200 flows is at most ~200 consumed-resource reads; at a quarter of a
            # 300/min budget that is under 3 minutes. The Lambda maximum leaves ample margin.
            timeout=Duration.minutes(15),
            memory_size=512,
        )
        build_lock_fn = functions.add_function(
            "BuildLock",
            handler="functions.scan.build_lock.handler",
            grants=[bucket.grant_read_write],
            calls_genesys=False,
            timeout=Duration.minutes(5),
            memory_size=1024,
        )
        advance_fn = functions.add_function(
            "AdvanceLockPointer",
            handler="functions.scan.advance_pointer.handler",
            grants=[state.grant_read_write_data],
            calls_genesys=False,
            timeout=Duration.seconds(30),
        )
        report_fn = functions.add_function(
            "ReportScan",
            handler="functions.scan.report.handler",
            grants=[bucket.grant_read_write, audit.grant_write_data],
            calls_genesys=False,
            timeout=Duration.minutes(2),
            memory_size=512,
        )
        self.functions: dict[str, lambda_.IFunction] = {
            "CheckDependencyIndex": check_index_fn,
            "ListFlowPages": list_pages_fn,
            "ReadFlowPage": read_page_fn,
            "BuildLock": build_lock_fn,
            "AdvanceLockPointer": advance_fn,
            "ReportScan": report_fn,
        }

        scan_failed = sfn.Fail(
            self,
            "Scan failed, the previous lock is still current",
            error_path="$.error.Error",
            cause_path="$.error.Cause",
        )
        index_not_operational = sfn.Fail(
            self,
            "Dependency index did not become operational in time",
            error="DependencyIndexNotOperational",
            cause_path="$.index.message",
        )

        def invoke(
            state_name: str, function: lambda_.IFunction, payload: dict[str, object] | None, result_path: str
        ) -> tasks.LambdaInvoke:
            return tasks.LambdaInvoke(
                self,
                state_name,
                lambda_function=function,
                payload=sfn.TaskInput.from_object(payload) if payload is not None else None,
                payload_response_only=True,
                result_path=result_path,
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
        check_index = invoke(
            "Check the dependency index",
            check_index_fn,
            {"scan": sfn.JsonPath.object_at("$.scan"), "index": sfn.JsonPath.object_at("$.index")},
            "$.index",
        )
        wait_for_index = sfn.Wait(
            self,
            "Wait for the dependency index to rebuild",
            time=sfn.WaitTime.seconds_path("$.index.wait_seconds"),
        )
        list_pages = invoke(
            "List the pages of flows", list_pages_fn, {"scan": sfn.JsonPath.object_at("$.scan")}, "$.plan"
        )
        # The Map item is the page task itself; its result (key + counts) is the item's output.
        read_page = invoke("Read one page of flows and their dependencies", read_page_fn, None, "$")
        read_pages = sfn.Map(
            self,
            "Read every page of flows",
            items_path="$.plan.pages",
            max_concurrency=MAP_MAX_CONCURRENCY,
            item_selector={
                "scan": sfn.JsonPath.object_at("$.scan"),
                "page_number": sfn.JsonPath.number_at("$$.Map.Item.Value.page_number"),
                "page_size": sfn.JsonPath.number_at("$.plan.page_size"),
                "previous_lock_key": sfn.JsonPath.string_at("$.plan.previous_lock_key"),
            },
            result_path="$.pages",
        )
        read_pages.item_processor(retry_genesys_calls(read_page))
        build_lock = invoke(
            "Build and store the lockfile",
            build_lock_fn,
            {
                "scan": sfn.JsonPath.object_at("$.scan"),
                "plan": sfn.JsonPath.object_at("$.plan"),
                "pages": sfn.JsonPath.list_at("$.pages"),
                "index": sfn.JsonPath.object_at("$.index"),
            },
            "$.lock",
        )
        advance = invoke(
            "Make the new lock current unless another scan won",
            advance_fn,
            {
                "scan": sfn.JsonPath.object_at("$.scan"),
                "plan": sfn.JsonPath.object_at("$.plan"),
                "lock": sfn.JsonPath.object_at("$.lock"),
            },
            "$.pointer",
        )
        report = invoke(
            "Report drift, metrics and audit",
            report_fn,
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
        for state in (check_index, list_pages, read_pages, build_lock, advance, report):
            state.add_catch(scan_failed, errors=["States.ALL"], result_path="$.error")

        index_ready = (
            sfn.Choice(self, "Is the dependency index operational?")
            .when(sfn.Condition.boolean_equals("$.index.operational", True), list_pages)
            .when(sfn.Condition.boolean_equals("$.index.deadline_exceeded", True), index_not_operational)
            .otherwise(wait_for_index)
        )
        wait_for_index.next(check_index)
        definition = start.next(check_index).next(index_ready)
        list_pages.next(read_pages).next(build_lock).next(advance).next(report).next(done)

        log_group = logs.LogGroup(
            self,
            "ExecutionLogs",
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY,
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            timeout=STATE_MACHINE_TIMEOUT,
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
            comment=f"flowops scan of org {config.org_key}: dependency index, flows, lockfile, drift",
        )
        self._acknowledge_findings()

    def _acknowledge_findings(self) -> None:
        for function in self.functions.values():
            acknowledge(
                self.state_machine,
                f"AwsSolutions-IAM5[Resource::<{logical_id(function)}.Arn>:*]",
                "LambdaInvoke grants invoke on this one scan function's versions and aliases (':*'); the "
                "function ARN itself bounds it.",
            )
        acknowledge(
            self.state_machine,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray tracing and CloudWatch Logs log delivery for Step Functions do not support "
            "resource-level permissions.",
        )
