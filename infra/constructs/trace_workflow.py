"""The trace state machine: request → instances → execution-data jobs → analysis → delivery.

    ValidateTraceRequest → QueryInstances → (no runs? → Succeed "No flow runs in the window")
    → StartExecutionDataJob → WaitForExecutionData ⇄ CheckExecutionData (backoff, deadline)
    → AnalyzeExecutions → DeliverTrace → RecordTraceOutcome → Succeed
                          └ after the last retry → ParkUndeliveredTrace (SQS) → MarkDeadLettered ┘

Authored with CDK chainables in JSONPath (JSONata does not run locally). Instance ids travel as
an S3 key, never in the state. Genesys-calling tasks share the scan's retry helper (429/5xx/
unreachable surface as `Genesys.*`); every way a trace can end early is its own Fail state whose
name says what happened (storage disabled, unknown flow, bad window, job Failed, deadline).

Delivery is configured with the environment's other settings (cdk.json `flowops:environments`,
`traceWebhookUrl` and `traceWebhookSecretName`, see infra/environment.py). The secret (the HMAC
key, plain text or {"secret": "..."}) must already exist; only its NAME is in the template.
Without a URL, traces still write their report and say delivery `not_configured`.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from infra.constructs.functions import FunctionsConstruct
from infra.constructs.operations import data_removal_policy
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
from infra.nag import acknowledge

DELIVERY_FAILED_ERROR = "Trace.DeliveryFailed"
DELIVERY_RETRY_INTERVAL = Duration.seconds(5)
DELIVERY_RETRY_BACKOFF = 2.0
DELIVERY_RETRIES = 3  # 5 s, 10 s, 20 s, then the dead-letter queue
# The longest job deadline a trace request may give (flowops.trace.request; tests/infra checks it)
# and the longest wait between two checks of the jobs.
MAX_JOB_DEADLINE_SECONDS = 7200
MAX_JOB_POLL_SECONDS = 60


class TraceWorkflowConstruct(Construct):
    """Functions of the trace steps, the delivery dead-letter queue and the state machine."""

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
        bucket, audit = storage.artifacts_bucket, storage.audit_table

        # Undelivered traces wait here (14 days, the SQS maximum) until `flowops trace redrive`.
        self.dead_letter_queue = sqs.Queue(
            self,
            "DeliveryDeadLetterQueue",
            retention_period=Duration.days(14),
            visibility_timeout=Duration.seconds(60),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            removal_policy=data_removal_policy(config),
        )
        acknowledge(
            self.dead_letter_queue,
            "AwsSolutions-SQS3",
            "This queue IS the dead-letter queue of trace deliveries; messages leave it only through the "
            "redrive function, which deletes them after the webhook accepted them.",
        )
        self.webhook_secret = secretsmanager.Secret.from_secret_name_v2(
            self, "WebhookSecret", config.trace_webhook_secret
        )
        delivery_environment = {"TRACE_WEBHOOK_SECRET_ID": config.trace_webhook_secret}
        if config.trace_webhook_url:
            delivery_environment["TRACE_WEBHOOK_URL"] = config.trace_webhook_url

        # Trace artifacts are written once per trace (instances, report) and read back; never deleted.
        step_functions = add_step_functions(
            functions,
            "trace",
            [
                StepFunction(
                    "ValidateTraceRequest", "validate_request", Duration.seconds(60), calls_genesys=True
                ),
                # Writes the instance ids (`instances.json`); reads nothing back.
                StepFunction(
                    "QueryFlowInstances",
                    "query_instances",
                    Duration.minutes(5),
                    grants=[bucket.grant_put],
                    calls_genesys=True,
                ),
                StepFunction(
                    "StartExecutionDataJobs",
                    "start_jobs",
                    Duration.minutes(2),
                    grants=[bucket.grant_read],
                    calls_genesys=True,
                ),
                StepFunction(
                    "CheckExecutionDataJobs", "check_jobs", Duration.seconds(60), calls_genesys=True
                ),
                # Downloads are sequential and paced by the org's rate limit; 2,000 runs fit comfortably.
                StepFunction(
                    "AnalyzeExecutions",
                    "analyze",
                    Duration.minutes(15),
                    grants=[bucket.grant_read, bucket.grant_put],
                    calls_genesys=True,
                    memory_size=1024,
                ),
                StepFunction(
                    "DeliverTrace",
                    "deliver",
                    Duration.seconds(30),
                    grants=[self.webhook_secret.grant_read],
                    environment=delivery_environment,
                ),
                StepFunction(
                    "RecordTraceOutcome",
                    "record_outcome",
                    Duration.seconds(30),
                    grants=[audit.grant_write_data],
                ),
            ],
        )
        self.functions: dict[str, lambda_.IFunction] = dict(step_functions)
        # Not a step of the state machine: operators run it (`flowops trace redrive`).
        self.redrive_function = add_step_functions(
            functions,
            "trace",
            [
                StepFunction(
                    "RedriveTraceDeliveries",
                    "redrive",
                    Duration.minutes(5),
                    grants=[
                        self.webhook_secret.grant_read,
                        self.dead_letter_queue.grant_consume_messages,
                        audit.grant_write_data,
                    ],
                    environment={
                        **delivery_environment,
                        "TRACE_DEAD_LETTER_QUEUE_URL": self.dead_letter_queue.queue_url,
                    },
                )
            ],
        )["RedriveTraceDeliveries"]
        f = self.functions
        trace = sfn.JsonPath.object_at("$.trace")
        plan = sfn.JsonPath.object_at("$.plan")

        # -- ways to end early, each saying what happened ---------------------------------------
        trace_failed = sfn.Fail(
            self,
            "Trace failed before a report was written",
            error_path="$.error.Error",
            cause_path="$.error.Cause",
        )
        storage_disabled = sfn.Fail(
            self,
            "Execution data storage is disabled for this org",
            error="Trace.StorageDisabled",
            cause_path="$.error.Cause",
        )
        unknown_flow = sfn.Fail(
            self, "The flow to trace does not exist", error="Trace.UnknownFlow", cause_path="$.error.Cause"
        )
        invalid_request = sfn.Fail(
            self,
            "The trace request is invalid or outside the 10-day retention",
            error="Trace.InvalidRequest",
            cause_path="$.error.Cause",
        )
        job_failed = sfn.Fail(
            self, "The execution data jobs failed", error="Trace.JobFailed", cause_path="$.jobs.message"
        )
        job_deadline = sfn.Fail(
            self,
            "Execution data was not ready before the deadline",
            error="Trace.JobDeadlineExceeded",
            cause_path="$.jobs.message",
        )
        not_parked = sfn.Fail(
            self,
            "The trace could be neither delivered nor parked in the dead-letter queue",
            error_path="$.park_error.Error",
            cause_path="$.park_error.Cause",
        )

        # -- the steps ---------------------------------------------------------------------------
        start = sfn.Pass(
            self,
            "Start the trace",
            parameters={
                "trace": {
                    "trace_id": sfn.JsonPath.string_at("$$.Execution.Name"),
                    "submitted_at": sfn.JsonPath.string_at("$$.Execution.StartTime"),
                    "request": sfn.JsonPath.entire_payload,
                }
            },
        )
        validate = invoke_step(
            self, "ValidateTraceRequest", f["ValidateTraceRequest"], {"trace": trace}, "$.plan"
        )
        query = invoke_step(
            self, "QueryInstances", f["QueryFlowInstances"], {"trace": trace, "plan": plan}, "$.instances"
        )
        empty_window = sfn.Pass(
            self,
            "Report the empty window",
            parameters={
                "trace_id": sfn.JsonPath.string_at("$.trace.trace_id"),
                "status": "EMPTY_WINDOW",
                "runs_analyzed": 0,
                "message": sfn.JsonPath.string_at("$.instances.message"),
                "instances_key": sfn.JsonPath.string_at("$.instances.instances_key"),
            },
            result_path="$.outcome",
        )
        no_runs = sfn.Succeed(self, "No flow runs in the window: nothing to analyze", output_path="$.outcome")
        start_jobs = invoke_step(
            self,
            "StartExecutionDataJob",
            f["StartExecutionDataJobs"],
            {"trace": trace, "instances": sfn.JsonPath.object_at("$.instances")},
            "$.jobs",
        )
        wait = sfn.Wait(self, "WaitForExecutionData", time=sfn.WaitTime.seconds_path("$.jobs.wait_seconds"))
        check = invoke_step(
            self,
            "CheckExecutionData",
            f["CheckExecutionDataJobs"],
            {"trace": trace, "plan": plan, "jobs": sfn.JsonPath.object_at("$.jobs")},
            "$.jobs",
        )
        analyze = invoke_step(
            self,
            "AnalyzeExecutions",
            f["AnalyzeExecutions"],
            {
                "trace": trace,
                "plan": plan,
                "instances": sfn.JsonPath.object_at("$.instances"),
                "jobs": sfn.JsonPath.object_at("$.jobs"),
            },
            "$.report",
        )
        deliver = invoke_step(
            self,
            "DeliverTrace",
            f["DeliverTrace"],
            {"trace": trace, "payload": sfn.JsonPath.object_at("$.report.delivery_payload")},
            "$.delivery",
        )
        park = tasks.SqsSendMessage(
            self,
            "ParkUndeliveredTrace",
            queue=self.dead_letter_queue,
            message_body=sfn.TaskInput.from_object(
                {
                    "trace_id": sfn.JsonPath.string_at("$.trace.trace_id"),
                    "report_key": sfn.JsonPath.string_at("$.report.report_key"),
                    "payload": sfn.JsonPath.object_at("$.report.delivery_payload"),
                    "error": sfn.JsonPath.string_at("$.delivery_error.Error"),
                    "cause": sfn.JsonPath.string_at("$.delivery_error.Cause"),
                }
            ),
            result_path="$.dead_letter",
        )
        mark_dead_lettered = sfn.Pass(
            self,
            "MarkDeliveryDeadLettered",
            parameters={
                "outcome": "dead_lettered",
                "message_id": sfn.JsonPath.string_at("$.dead_letter.MessageId"),
                "error": sfn.JsonPath.string_at("$.delivery_error.Cause"),
            },
            result_path="$.delivery",
        )
        record = invoke_step(
            self,
            "RecordTraceOutcome",
            f["RecordTraceOutcome"],
            {
                "trace": trace,
                "report": sfn.JsonPath.object_at("$.report"),
                "delivery": sfn.JsonPath.object_at("$.delivery"),
            },
            "$.outcome",
        )
        done = sfn.Succeed(self, "Trace reported", output_path="$.outcome")

        # -- retries and catches -----------------------------------------------------------------
        for task in (validate, query, start_jobs, check, analyze):
            retry_genesys_calls(task)
        retry_store_calls(record)
        deliver.add_retry(
            errors=[DELIVERY_FAILED_ERROR],
            interval=DELIVERY_RETRY_INTERVAL,
            backoff_rate=DELIVERY_RETRY_BACKOFF,
            max_attempts=DELIVERY_RETRIES,
        )
        validate.add_catch(storage_disabled, errors=["Trace.StorageDisabled"], result_path="$.error")
        validate.add_catch(unknown_flow, errors=["Trace.UnknownFlow"], result_path="$.error")
        validate.add_catch(invalid_request, errors=["Trace.InvalidRequest"], result_path="$.error")
        for task in (validate, query, start_jobs, check, analyze, record):
            task.add_catch(trace_failed, errors=["States.ALL"], result_path="$.error")
        # Whatever stopped the delivery, the payload must not be lost.
        deliver.add_catch(park, errors=["States.ALL"], result_path="$.delivery_error")
        park.add_catch(not_parked, errors=["States.ALL"], result_path="$.park_error")

        # -- the chain ---------------------------------------------------------------------------
        any_runs = (
            sfn.Choice(self, "Did the window hold any runs?")
            .when(sfn.Condition.number_equals("$.instances.runs", 0), empty_window.next(no_runs))
            .otherwise(start_jobs)
        )
        data_ready = (
            sfn.Choice(self, "Is the execution data ready?")
            .when(sfn.Condition.boolean_equals("$.jobs.ready", True), analyze)
            .when(sfn.Condition.boolean_equals("$.jobs.failed", True), job_failed)
            .when(sfn.Condition.boolean_equals("$.jobs.deadline_exceeded", True), job_deadline)
            .otherwise(wait)
        )
        definition = start.next(validate).next(query).next(any_runs)
        start_jobs.next(wait)
        wait.next(check).next(data_ready)
        analyze.next(deliver).next(record).next(done)
        park.next(mark_dead_lettered).next(record)

        self.state_machine = workflow_state_machine(
            self,
            config=config,
            workflow="Trace",
            definition=definition,
            # Longest single attempt: every step once (the delivery with all its retries), the jobs
            # polled to the longest deadline a request may give, plus one last wait.
            timeout=execution_timeout(
                steps=[
                    *step_functions.values(),
                    *[step_functions["DeliverTrace"]] * DELIVERY_RETRIES,
                ],
                waits_seconds=MAX_JOB_DEADLINE_SECONDS
                + MAX_JOB_POLL_SECONDS
                + sum(
                    DELIVERY_RETRY_INTERVAL.to_seconds() * DELIVERY_RETRY_BACKOFF**retry
                    for retry in range(DELIVERY_RETRIES)
                ),
            ),
            comment=f"flowops trace of org {config.org_key}: execution data → bottlenecks → webhook",
            invoked_functions=self.functions.values(),
        )
