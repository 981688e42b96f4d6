"""The release state machine: many flows, in dependency waves, all or nothing.

PrepareRelease (plan + validate the whole bundle, leases, snapshots) → PublishWaves (a Map over
waves, one at a time), each wave a child execution of the wave machine (`ReleaseWaveWorkflow`):
DeployWaveFlows (a Map over the wave's flows, `RELEASE_MAX_CONCURRENCY` at once), each flow a
child execution of the flow machine (`ReleaseFlowWorkflow`): StartFlowPublish →
WaitForFlowJob/CheckFlowJob loop → CheckFlowHealth. A flow's failure is caught INSIDE its
execution (FlowFailed), so every job of the wave finishes before RecordWave judges it; a failed
wave raises `Release.WaveFailed` (re-raised in the release as the wave's own error), which the
PublishWaves catch turns into PlanRollback → RollBackWaves (reverse wave order, the same wave and
flow machines with `rollback: true`: StartFlowRollback → Wait/Check → VerifyFlowRestored) →
RecordRolledBack → `RolledBack`, or `RollbackFailed` after NotifyRollbackFailed (SNS). Success
ends in RecordRelease → `Released`. Child executions keep every history bounded whatever the
release's size (docs/decisions.md "Release in nested executions").

State layout: `$.run`, `$.request`, `$.prepared` (waves of small items; YAML travels as S3 keys),
`$.failure`, `$.rollback`, `$.outcome`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from infra.constructs.functions import FunctionsConstruct, Grant
from infra.constructs.storage import StorageConstruct
from infra.constructs.workflow import (
    add_step_functions,
    append_audit,
    describe_outcome,
    execution_timeout,
    invoke_step,
    notify_rollback_failed,
    retry_genesys_calls,
    retry_lambda_errors,
    retry_store_calls,
    rollback_failed_topic,
    start_run,
    step,
    workflow_state_machine,
)
from infra.environment import EnvironmentConfig
from infra.nag import acknowledge, logical_id

APPROVAL_WINDOW = Duration.hours(24)
"""How long a release waits for `flowops approve` (its leases are held that much longer). The
approval task's own timeout: a release nobody decides on ends in RecordNotApproved (recorded,
leases freed, `Release.NotApproved` alarmed), never in the execution timeout."""
PROMOTION_CONTEXT_KEY = "flowops:promotion"
RELEASE_MAX_CONCURRENCY = 4
"""Flows of one wave deployed at once. Each deploy is ~4 calls plus polls; 4 in parallel stays
far below Genesys' 300 requests/minute per client even while a scan runs."""
# The limits a release may ask for (flowops.release.models.ReleaseTiming and
# flowops.release.bundle.MAX_FLOWS allow no more; tests/infra checks it): the state machine's
# timeout is derived from them and the steps.
JOB_DEADLINE_SECONDS = 960
MAX_POLL_SECONDS = 30
MAX_RELEASE_FLOWS = 500
# One flow's deploy (or restore) in a wave Map, and the wave's record after it.
PUBLISH_ROUND_STEPS = ("StartReleaseFlowPublish", "CheckReleaseFlowJob", "CheckReleaseFlowHealth")
ROLLBACK_ROUND_STEPS = ("StartReleaseFlowRollback", "CheckReleaseFlowJob", "VerifyReleaseFlowRestored")
WAVE_STEPS = ("RecordReleaseWave",)
# The longest path around the waves: prepared, then (after the waves failed) planned, rolled
# back and recorded; RecordRelease, RecordNotApproved and the preparation's record are shorter
# ends of the same path.
ONCE_STEPS = ("PrepareRelease", "PlanReleaseRollback", "RecordReleaseRolledBack")


def deploy_rounds(wave_sizes: Sequence[int], concurrency: int = RELEASE_MAX_CONCURRENCY) -> int:
    """Rounds of flow deploys one after another: waves run one at a time, a wave's flows
    `concurrency` at once. At most the number of flows (a chain: one flow per wave)."""
    return sum(math.ceil(size / concurrency) for size in wave_sizes)


# The most rounds any release of at most MAX_RELEASE_FLOWS flows can need (one flow per wave),
# and as many waves: what the state machine's timeout must cover, once deploying and once
# rolling back.
WORST_CASE_ROUNDS = deploy_rounds([1] * MAX_RELEASE_FLOWS)
WORST_CASE_WAVES = MAX_RELEASE_FLOWS


def release_timeout(functions: dict[str, lambda_.Function]) -> Duration:
    """The longest single attempt: prepared, approved at the end of the approval window, every
    round of the worst-case release deployed (each step to its Lambda timeout, each job polled
    to its deadline plus one last wait) with its wave recorded, then the last wave fails and
    every round is restored the same way, and the rollback recorded. With the common margin."""
    rounds = [functions[name] for name in PUBLISH_ROUND_STEPS + ROLLBACK_ROUND_STEPS] * WORST_CASE_ROUNDS
    waves = [functions[name] for name in WAVE_STEPS] * (2 * WORST_CASE_WAVES)
    return execution_timeout(
        steps=[*(functions[name] for name in ONCE_STEPS), *rounds, *waves],
        waits_seconds=APPROVAL_WINDOW.to_seconds()
        + 2 * WORST_CASE_ROUNDS * (JOB_DEADLINE_SECONDS + MAX_POLL_SECONDS),
    )


def flow_timeout(functions: dict[str, lambda_.Function]) -> Duration:
    """One flow's child execution: its deploy (or restore) steps each to their Lambda timeout,
    its job polled to the deadline plus one last wait. With the common margin."""
    steps = max(PUBLISH_ROUND_STEPS, ROLLBACK_ROUND_STEPS, key=lambda names: _seconds(functions, names))
    return execution_timeout(
        steps=[functions[name] for name in steps], waits_seconds=JOB_DEADLINE_SECONDS + MAX_POLL_SECONDS
    )


def wave_timeout(functions: dict[str, lambda_.Function]) -> Duration:
    """One wave's child execution: the largest wave (every flow of the release) in rounds of
    `RELEASE_MAX_CONCURRENCY` flow executions, each to its own timeout, then the wave's record."""
    rounds = deploy_rounds([MAX_RELEASE_FLOWS])
    flow_seconds = flow_timeout(functions).to_seconds()
    return execution_timeout(
        steps=[functions[name] for name in WAVE_STEPS], waits_seconds=rounds * flow_seconds
    )


def _seconds(functions: dict[str, lambda_.Function], names: Sequence[str]) -> float:
    return sum(functions[name].timeout.to_seconds() for name in names if functions[name].timeout)


def child_execution(
    scope: Construct, state_name: str, machine: sfn.IStateMachine, payload: dict[str, object]
) -> tasks.StepFunctionsStartExecution:
    """Run `machine` as a child execution and wait for it (`startExecution.sync:2`); its output is
    this state's result. A child that fails re-raises ITS error and cause here (not Step
    Functions' `States.TaskFailed` wrapper), so the catches above it see what they always saw."""
    task = tasks.StepFunctionsStartExecution(
        scope,
        state_name,
        state_machine=machine,
        integration_pattern=sfn.IntegrationPattern.RUN_JOB,
        input=sfn.TaskInput.from_object(payload),
        associate_with_parent=True,
        output_path="$.Output",
    )
    unwrap = sfn.Pass(
        scope,
        f"Unwrap{state_name}Failure",
        parameters={"execution": sfn.JsonPath.string_to_json(sfn.JsonPath.string_at("$.failure.Cause"))},
    )
    unwrap.next(
        sfn.Fail(
            scope,
            f"{state_name}Failed",
            error_path="$.execution.Error",
            cause_path="$.execution.Cause",
        )
    )
    task.add_catch(unwrap, errors=["States.TaskFailed"], result_path="$.failure")
    return task


def acknowledge_child_executions(machine: sfn.StateMachine, child: sfn.StateMachine, workflow: str) -> None:
    # CDK's `sync` grant names the child's executions through the name part of its ARN.
    child_name = json.dumps(
        {"Fn::Select": [6, {"Fn::Split": [":", {"Ref": logical_id(child)}]}]}, separators=(",", ":")
    )
    acknowledge(
        machine,
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:"
        f"execution:{child_name}*]",
        f"startExecution.sync:2 lets the {workflow.lower()} machine describe and stop only the "
        "executions of its one child machine (named by that machine's name).",
    )


def flow_loop(
    scope: Construct, f: dict[str, lambda_.Function], prefix: str, *, rollback: bool
) -> sfn.IChainable:
    """One flow's deploy (or restore): start the job, poll it, then check the flow. Any failure
    ends the flow's execution in a `{key, ok: false, error, cause}` result, never a failed one."""
    noun = "Rollback" if rollback else "Publish"
    start = invoke_step(
        scope,
        f"StartFlow{noun}",
        f["StartReleaseFlowRollback" if rollback else "StartReleaseFlowPublish"],
        {
            "run": sfn.JsonPath.object_at("$.run"),
            "item": sfn.JsonPath.object_at("$.item"),
            "timing": sfn.JsonPath.object_at("$.timing"),
        },
        "$.progress",
    )
    wait = sfn.Wait(scope, f"WaitForFlow{noun}Job", time=sfn.WaitTime.seconds_path("$.progress.wait_seconds"))
    check = invoke_step(
        scope,
        f"CheckFlow{noun}Job",
        f["CheckReleaseFlowJob"],
        {
            "progress": sfn.JsonPath.object_at("$.progress"),
            "timing": sfn.JsonPath.object_at("$.timing"),
            "rollback": rollback,
        },
        "$.progress",
    )
    verify = invoke_step(
        scope,
        "VerifyFlowRestored" if rollback else "CheckFlowHealth",
        f["VerifyReleaseFlowRestored" if rollback else "CheckReleaseFlowHealth"],
        {
            "item": sfn.JsonPath.object_at("$.item"),
            "progress": sfn.JsonPath.object_at("$.progress"),
            "timing": sfn.JsonPath.object_at("$.timing"),
        },
        "$.result",
    )
    failed = sfn.Pass(
        scope,
        f"Flow{noun}Failed",
        parameters={
            "key": sfn.JsonPath.string_at("$.item.key"),
            "ok": False,
            "error": sfn.JsonPath.string_at("$.failure.Error"),
            "cause": sfn.JsonPath.string_at("$.failure.Cause"),
        },
    )
    done = sfn.Succeed(scope, f"Flow{noun}Done", output_path="$.result")
    for task in (start, check, verify):
        retry_genesys_calls(task)
        task.add_catch(failed, errors=["States.ALL"], result_path="$.failure")
    finished = (
        sfn.Choice(scope, f"Has{prefix}JobFinished")
        .when(sfn.Condition.boolean_equals("$.progress.finished", True), verify)
        .otherwise(wait)
    )
    start.next(finished)
    wait.next(check).next(finished)
    verify.next(done)
    return start


def wave_definition(
    scope: Construct, f: dict[str, lambda_.Function], flow_machine: sfn.IStateMachine
) -> sfn.IChainable:
    """One wave: its flows, each in a child execution (`RELEASE_MAX_CONCURRENCY` at once), every
    one finished before RecordWave judges the wave (and raises `Release.WaveFailed`)."""
    flows = sfn.Map(
        scope,
        "DeployWaveFlows",
        items_path="$.wave.flows",
        max_concurrency=RELEASE_MAX_CONCURRENCY,
        item_selector={
            "run": sfn.JsonPath.object_at("$.run"),
            "item": sfn.JsonPath.object_at("$$.Map.Item.Value"),
            "timing": sfn.JsonPath.object_at("$.timing"),
            "rollback": sfn.JsonPath.object_at("$.rollback"),
        },
        result_path="$.results",
    )
    deploy = tasks.StepFunctionsStartExecution(
        scope,
        "DeployFlow",
        state_machine=flow_machine,
        integration_pattern=sfn.IntegrationPattern.RUN_JOB,
        input=sfn.TaskInput.from_object(
            {
                "run": sfn.JsonPath.object_at("$.run"),
                "item": sfn.JsonPath.object_at("$.item"),
                "timing": sfn.JsonPath.object_at("$.timing"),
                "rollback": sfn.JsonPath.object_at("$.rollback"),
            }
        ),
        associate_with_parent=True,
        output_path="$.Output",
    )
    # A flow execution that ended uncaught (its timeout) is that flow's failure, like any other.
    deploy.add_catch(
        sfn.Pass(
            scope,
            "FlowExecutionFailed",
            parameters={
                "key": sfn.JsonPath.string_at("$.item.key"),
                "ok": False,
                "error": sfn.JsonPath.string_at("$.failure.Error"),
                "cause": sfn.JsonPath.string_at("$.failure.Cause"),
            },
        ),
        errors=["States.ALL"],
        result_path="$.failure",
    )
    flows.item_processor(deploy)
    record = invoke_step(
        scope,
        "RecordWave",
        f["RecordReleaseWave"],
        {
            "run": sfn.JsonPath.object_at("$.run"),
            "wave": sfn.JsonPath.number_at("$.wave.index"),
            "results": sfn.JsonPath.list_at("$.results"),
            "rollback": sfn.JsonPath.object_at("$.rollback"),
        },
        sfn.JsonPath.DISCARD,
    )
    retry_store_calls(record)
    return flows.next(record)


class ReleaseWorkflowConstruct(Construct):
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
        objects: list[Grant] = [bucket.grant_read, bucket.grant_put]
        records = [state.grant_read_write_data]
        audit_appends = [append_audit(audit)]

        promotion = self.node.try_get_context(PROMOTION_CONTEXT_KEY) or {}
        approval_required = config.name in (promotion.get("approval") or [])
        chain = list(promotion.get("chain") or [])
        promotes_from = chain[chain.index(config.name) - 1] if config.name in chain[1:] else ""

        self.functions: dict[str, lambda_.Function] = add_step_functions(
            functions,
            "release",
            [
                # Reads the bundle and the lock; plans against the org (exports); writes plan,
                # YAML and snapshots; the record, leases and audit.
                step(
                    "PrepareRelease",
                    "prepare",
                    900,
                    *objects,
                    *records,
                    *audit_appends,
                    FLOWOPS_APPROVAL_REQUIRED=str(approval_required).lower(),
                    FLOWOPS_PROMOTES_FROM=promotes_from,
                ),
                # Frees the leases a failed PrepareRelease took (found from its stored plan).
                step(
                    "RecordReleasePreparationFailed",
                    "record_preparation_failed",
                    60,
                    *objects,
                    *records,
                    *audit_appends,
                    genesys=False,
                ),
                # Read and write the job claim (releases/<org>/runs/<id>/jobs/) around each upload.
                step("StartReleaseFlowPublish", "start_publish", 120, *objects),
                step("CheckReleaseFlowJob", "check_job", 60),
                step("CheckReleaseFlowHealth", "health_check", 300, *objects),
                step("RecordReleaseWave", "record_wave", 60, *objects, genesys=False),
                step(
                    "RecordReleaseOutcome",
                    "record_release",
                    120,
                    *objects,
                    *records,
                    *audit_appends,
                    genesys=False,
                ),
                step("PlanReleaseRollback", "plan_rollback", 300, *objects, *records, *audit_appends),
                step("StartReleaseFlowRollback", "start_rollback", 120, *objects),
                step("VerifyReleaseFlowRestored", "verify_restored", 300, *objects),
                step(
                    "RecordReleaseRolledBack",
                    "record_rolled_back",
                    120,
                    *objects,
                    *records,
                    *audit_appends,
                    genesys=False,
                ),
                # Keeps the approval's task token in the state table; audit.
                step(
                    "RequestReleaseApproval", "request_approval", 30, *records, *audit_appends, genesys=False
                ),
                step(
                    "RecordReleaseNotApproved",
                    "record_not_approved",
                    60,
                    *objects,
                    *records,
                    *audit_appends,
                    genesys=False,
                ),
            ],
        )
        f = self.functions
        self.rollback_failed_topic = rollback_failed_topic(
            self, "ReleaseRollbackFailedTopic", "flowops: a release rollback failed and needs a manual fix"
        )
        run = sfn.JsonPath.object_at("$.run")
        prepared = sfn.JsonPath.object_at("$.prepared")
        requester = sfn.JsonPath.string_at("$.request.requester")

        # -- terminal states -------------------------------------------------------------------
        released = sfn.Succeed(self, "Released", output_path="$.outcome")
        nothing = sfn.Succeed(self, "NothingToRelease", output_path="$.prepared")
        invalid = sfn.Fail(self, "ReleaseInvalid", error="Release.Invalid", cause_path="$.prepared.summary")
        preparation_failed = sfn.Fail(
            self, "PreparationFailed", error_path="$.failure.Error", cause_path="$.failure.Cause"
        )
        unrecorded = sfn.Fail(
            self, "ReleaseUnrecorded", error_path="$.failure.Error", cause_path="$.failure.Cause"
        )
        rolled_back = sfn.Fail(self, "RolledBack", error="Release.RolledBack", cause_path="$.outcome.cause")
        rollback_failed = sfn.Fail(
            self, "RollbackFailed", error="Release.RollbackFailed", cause_path="$.outcome.cause"
        )

        # -- child executions: one per wave, one per flow of a wave ---------------------------
        # A release's flows deploy in executions of their own so that no history grows with the
        # release (25,000 events each; docs/decisions.md "Release in nested executions"): the
        # parent holds a bounded number of events per wave, a wave per flow.
        flow_scope = Construct(scope, "ReleaseFlowWorkflow")
        flow_definition = (
            sfn.Choice(flow_scope, "IsItARestore")
            .when(
                sfn.Condition.boolean_equals("$.rollback", True),
                flow_loop(flow_scope, f, "TheFlowRollback", rollback=True),
            )
            .otherwise(flow_loop(flow_scope, f, "TheFlowPublish", rollback=False))
        )
        flow_functions = [f[name] for name in {*PUBLISH_ROUND_STEPS, *ROLLBACK_ROUND_STEPS}]
        self.flow_state_machine = workflow_state_machine(
            flow_scope,
            config=config,
            workflow="ReleaseFlow",
            definition=flow_definition,
            timeout=flow_timeout(self.functions),
            comment=f"flowops release to org {config.org_key}: one flow deployed or restored",
            invoked_functions=flow_functions,
        )
        wave_scope = Construct(scope, "ReleaseWaveWorkflow")
        self.wave_state_machine = workflow_state_machine(
            wave_scope,
            config=config,
            workflow="ReleaseWave",
            definition=wave_definition(wave_scope, f, self.flow_state_machine),
            timeout=wave_timeout(self.functions),
            comment=f"flowops release to org {config.org_key}: one wave's flows, then its record",
            invoked_functions=[f["RecordReleaseWave"]],
        )
        acknowledge_child_executions(self.wave_state_machine, self.flow_state_machine, "ReleaseWave")

        def wave_map(name: str, items_path: str, *, rollback: bool) -> sfn.Map:
            waves = sfn.Map(
                self,
                f"{name}s",
                items_path=items_path,
                max_concurrency=1,  # waves strictly one after another
                item_selector={
                    "run": run,
                    "wave": sfn.JsonPath.object_at("$$.Map.Item.Value"),
                    "timing": sfn.JsonPath.object_at("$.prepared.timing"),
                },
                result_path=sfn.JsonPath.DISCARD,
            )
            waves.item_processor(
                child_execution(
                    self,
                    f"Deploy{name}",
                    self.wave_state_machine,
                    {
                        "run": sfn.JsonPath.object_at("$.run"),
                        "wave": sfn.JsonPath.object_at("$.wave"),
                        "timing": sfn.JsonPath.object_at("$.timing"),
                        "rollback": rollback,
                    },
                )
            )
            return waves

        # -- rollback --------------------------------------------------------------------------
        notify = notify_rollback_failed(
            self,
            self.rollback_failed_topic,
            "flowops: release rollback FAILED, manual fix needed",
            {
                "run_id": sfn.JsonPath.string_at("$.run.run_id"),
                "environment": sfn.JsonPath.string_at("$.request.environment"),
                "status": "ROLLBACK_FAILED",
                "cause": sfn.JsonPath.string_at("$.outcome.cause"),
            },
            rollback_failed,
        )
        describe_unfinished = describe_outcome(
            self,
            "DescribeUnfinishedRollback",
            "The rollback itself failed ({}: {}); check every flow of the release.",
            "$.rollback_failure.Error",
            "$.rollback_failure.Cause",
        )
        describe_unfinished.next(notify)
        plan_rollback = invoke_step(
            self,
            "PlanRollback",
            f["PlanReleaseRollback"],
            {
                "run": run,
                "prepared": prepared,
                "failure": sfn.JsonPath.object_at("$.failure"),
                "requester": requester,
            },
            "$.rollback",
        )
        rollback_waves = wave_map("RollBackWave", "$.rollback.waves", rollback=True)
        record_rolled_back = invoke_step(
            self,
            "RecordRolledBack",
            f["RecordReleaseRolledBack"],
            {
                "run": run,
                "prepared": prepared,
                "rollback": sfn.JsonPath.object_at("$.rollback"),
                "requester": requester,
            },
            "$.outcome",
        )
        retry_genesys_calls(plan_rollback)
        retry_store_calls(record_rolled_back)
        for task in (plan_rollback, rollback_waves, record_rolled_back):
            task.add_catch(describe_unfinished, errors=["States.ALL"], result_path="$.rollback_failure")
        plan_rollback.next(rollback_waves).next(record_rolled_back).next(
            sfn.Choice(self, "WasEveryFlowRestored")
            .when(sfn.Condition.string_equals("$.outcome.status", "ROLLED_BACK"), rolled_back)
            .otherwise(notify)
        )

        # -- the main path ---------------------------------------------------------------------
        start = start_run(self, "StartRelease")
        prepare = invoke_step(
            self,
            "PrepareRelease",
            f["PrepareRelease"],
            {"run": run, "request": sfn.JsonPath.object_at("$.request")},
            "$.prepared",
        )
        retry_genesys_calls(prepare)
        # A crashed or failed preparation may hold leases: free them (fenced by this run's id)
        # instead of leaving every flow of the release blocked until the leases expire.
        record_preparation_failed = invoke_step(
            self,
            "FreePreparationLeases",
            f["RecordReleasePreparationFailed"],
            {
                "run": run,
                "request": sfn.JsonPath.object_at("$.request"),
                "failure": sfn.JsonPath.object_at("$.failure"),
            },
            sfn.JsonPath.DISCARD,
        )
        retry_store_calls(record_preparation_failed)
        record_preparation_failed.add_catch(
            preparation_failed, errors=["States.ALL"], result_path="$.record_failure"
        )
        record_preparation_failed.next(preparation_failed)
        prepare.add_catch(record_preparation_failed, errors=["States.ALL"], result_path="$.failure")
        publish_waves = wave_map("PublishWave", "$.prepared.waves", rollback=False)
        publish_waves.add_catch(plan_rollback, errors=["States.ALL"], result_path="$.failure")
        record_release = invoke_step(
            self,
            "RecordRelease",
            f["RecordReleaseOutcome"],
            {"run": run, "prepared": prepared, "requester": requester},
            "$.outcome",
        )
        retry_store_calls(record_release)
        # Everything is published: a recording failure must not roll a good release back.
        record_release.add_catch(unrecorded, errors=["States.ALL"], result_path="$.failure")
        # -- approval (environments listed in cdk.json flowops:promotion.approval) ---------------
        wait_for_approval = tasks.LambdaInvoke(
            self,
            "WaitForApproval",
            lambda_function=f["RequestReleaseApproval"],
            integration_pattern=sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
            payload=sfn.TaskInput.from_object(
                {"run": run, "prepared": prepared, "requester": requester, "token": sfn.JsonPath.task_token}
            ),
            retry_on_service_exceptions=False,
            task_timeout=sfn.Timeout.duration(APPROVAL_WINDOW),
            result_path="$.approval",
        )
        retry_lambda_errors(wait_for_approval)
        record_not_approved = invoke_step(
            self,
            "RecordNotApproved",
            f["RecordReleaseNotApproved"],
            {
                "run": run,
                "prepared": prepared,
                "requester": requester,
                "failure": sfn.JsonPath.object_at("$.failure"),
            },
            "$.outcome",
        )
        retry_store_calls(record_not_approved)
        not_approved = sfn.Fail(
            self, "ReleaseNotApproved", error="Release.NotApproved", cause_path="$.outcome.cause"
        )
        record_not_approved.add_catch(not_approved, errors=["States.ALL"], result_path="$.record_failure")
        record_not_approved.next(not_approved)
        wait_for_approval.add_catch(record_not_approved, errors=["States.ALL"], result_path="$.failure")
        wait_for_approval.next(publish_waves)

        definition = start.next(prepare).next(
            sfn.Choice(self, "IsTheReleaseValid")
            .when(sfn.Condition.boolean_equals("$.prepared.ok", False), invalid)
            .when(sfn.Condition.boolean_equals("$.prepared.nothing_to_do", True), nothing)
            .when(sfn.Condition.boolean_equals("$.prepared.approval_required", True), wait_for_approval)
            .otherwise(publish_waves)
        )
        publish_waves.next(record_release).next(released)

        self.state_machine = workflow_state_machine(
            self,
            config=config,
            workflow="Release",
            definition=definition,
            timeout=release_timeout(self.functions),
            comment=f"flowops release to org {config.org_key}: plan, waves, all-or-nothing rollback",
            invoked_functions=self.functions.values(),
        )
        acknowledge_child_executions(self.state_machine, self.wave_state_machine, "Release")
