"""The publish state machine: validate → snapshot → publish → poll → health check → release,
with automatic rollback to the snapshot on any failure after StartPublish.

Authored with CDK chainables in JSONPath (JSONata does not run locally). State names are the
ones operators see in the console (and the issue names): Validate, SnapshotCurrentVersion,
StartPublish, WaitForPublishJob, CheckPublishJob, RecordRelease, RollbackToPreviousVersion,
WaitForRollback, and the Fail states ValidationFailed, RolledBack, RollbackFailed. The poll that
sees the publish job end health-checks the new version in the same invocation (`$.publish.health`):
one Lambda hop, and the cold start of a function used once per publish, fewer (issue 18).

State layout: `$.run` (run id = execution name), `$.request` (the webhook's input),
`$.validation`, `$.snapshot`, `$.publish` (its `health` once checked), `$.release` / `$.failure` (what a Catch
caught), `$.rollback`, `$.rollback_failure`, `$.record_failure`, `$.outcome`. The flow YAML
itself travels as an S3 key. Genesys 429/5xx/unreachable and throttled stores are retried
(backoff, full jitter);
`Publish.*` errors (validation, job Failure, deadline, health) never are.

Rollback only what changed: RollbackToPreviousVersion first fences a publish job that ran past
its deadline (waits for it to end: it could still change the flow), then compares the flow's
published version with the snapshot: unchanged → RecordNothingChanged → PublishFailed (no page);
changed → a job redeploys the last known-good release, RecordRolledBack verifies the live
version and its content before recording. A release that passed HealthCheck is never rolled
back: RecordRelease failures end in ParkUnrecordedRelease → ReleaseUnrecorded (or Published when
the release was committed after all), and a run found SUCCEEDED by any later step ends Published.
"""

from __future__ import annotations

from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.constructs.functions import FunctionsConstruct
from infra.constructs.storage import StorageConstruct
from infra.constructs.workflow import (
    add_step_functions,
    append_audit,
    describe_outcome,
    execution_timeout,
    invoke_step,
    notify_rollback_failed,
    retry_genesys_calls,
    retry_store_calls,
    rollback_failed_topic,
    start_run,
    step,
    workflow_state_machine,
)
from infra.environment import EnvironmentConfig

# The job deadlines and poll cap a run may use (flowops.publish.models.PublishTiming allows no
# more; tests/infra checks it): the state machine's timeout is derived from them and the steps.
JOB_DEADLINE_SECONDS = 960
MAX_POLL_SECONDS = 30
PUBLISH_STATE_MACHINE_ID = "PublishWorkflow"


class PublishWorkflowConstruct(Construct):
    """Functions of the publish steps, the state machine, and the RollbackFailed topic."""

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
        # What each step touches (flowops.publish.steps). Objects are read and written, never
        # deleted. The state table holds the run item, the flow's publish lease and the lock
        # pointer; the audit table is append-only.
        read_objects = [bucket.grant_read]
        read_and_write_objects = [bucket.grant_read, bucket.grant_put]
        # Texts cut from the state are stored in full (`state/<org>/<sha256>.json`): write only.
        spill_objects = [bucket.grant_put]
        run_state = [state.grant_read_write_data]
        # Appends are idempotent by event id: a put that finds its item reads it back to compare.
        audit_appends = [append_audit(audit)]

        self.functions: dict[str, lambda_.Function] = add_step_functions(
            functions,
            "publish",
            [
                # Run item + lease + lock pointer; reads lock, YAML upload, substitutions; writes
                # the report and the substituted YAML; audits a force unlock or a refusal.
                step("ValidatePublish", "validate", 300, *read_and_write_objects, *run_state, *audit_appends),
                # Exports the live version's YAML unless stored; moves the run item to RUNNING.
                step("SnapshotFlowVersion", "snapshot", 420, *read_and_write_objects, *run_state),
                # Reads the YAML to deploy; notes the job in the run item before uploading to it.
                step("StartFlowPublish", "start_publish", 60, *read_objects, *run_state),
                # Polls the rollback job (or the publish job a rollback fences) and the flow;
                # writes the full job messages when they are too many for the state
                # (flowops.statepayload).
                step("CheckFlowJob", "check_job", 60, *spill_objects),
                # Polls the publish job; the poll that sees it end health-checks the new version:
                # reads the flow, exports the live version (content check against the deployed
                # YAML it reads) while a validate job runs, queries execution data; writes the
                # full job or validate-job messages when they are too many for the state.
                step("CheckPublishJob", "check_publish", 300, *read_objects, *spill_objects),
                # Stores the new version's YAML and lock, advances the pointer, run, audit, lease.
                step(
                    "RecordFlowRelease",
                    "record_release",
                    420,
                    *read_and_write_objects,
                    *run_state,
                    *audit_appends,
                ),
                # Moves the run item to ROLLING_BACK and redeploys the snapshot YAML; a run already
                # released instead gets its release announced (audit event, lease).
                step("RollBackFlow", "rollback", 60, *read_objects, *run_state, *audit_appends),
                # Same records as a release, for the restored version.
                step(
                    "RecordRolledBack",
                    "record_rolled_back",
                    300,
                    *read_and_write_objects,
                    *run_state,
                    *audit_appends,
                ),
                # The release is live and verified but could not be recorded: park the run item
                # for repair (never a rollback); run item, lease, audit only.
                step("ParkFlowRelease", "park_release", 60, *run_state, *audit_appends, genesys=False),
                # Reads the live version for the manual-fix note; run item, lease, audit.
                step("RecordRollbackFailed", "record_rollback_failed", 60, *run_state, *audit_appends),
                # Nothing changed in Genesys: run item, lease, audit only (no Genesys secret).
                step("RecordPublishFailure", "record_failure", 60, *run_state, *audit_appends, genesys=False),
            ],
        )
        f = self.functions

        self.rollback_failed_topic = rollback_failed_topic(
            self, "RollbackFailedTopic", "flowops: a publish rollback failed and needs a manual fix"
        )

        run = sfn.JsonPath.object_at("$.run")
        validation = sfn.JsonPath.object_at("$.validation")
        snapshot = sfn.JsonPath.object_at("$.snapshot")

        # -- terminal states -------------------------------------------------------------------
        validation_failed = sfn.Fail(
            self, "ValidationFailed", error="Publish.ValidationFailed", cause_path="$.validation.summary"
        )
        publish_failed = sfn.Fail(
            self, "PublishFailed", error_path="$.outcome.error", cause_path="$.outcome.cause"
        )
        publish_failed_unrecorded = sfn.Fail(
            self,
            "PublishFailedUnrecorded",
            error_path="$.record_failure.Error",
            cause_path="$.record_failure.Cause",
        )
        rolled_back = sfn.Fail(self, "RolledBack", error="Publish.RolledBack", cause_path="$.outcome.cause")
        rollback_failed = sfn.Fail(
            self, "RollbackFailed", error="Publish.RollbackFailed", cause_path="$.outcome.cause"
        )
        published = sfn.Succeed(self, "Published", output_path="$.release")
        release_unrecorded = sfn.Fail(
            self, "ReleaseUnrecorded", error="Publish.ReleaseUnrecorded", cause_path="$.outcome.cause"
        )

        # -- failure before anything changed in Genesys -----------------------------------------
        # The whole state goes to the recorder: `validation` may not exist yet.
        record_failure = invoke_step(
            self, "RecordFailureBeforePublish", f["RecordPublishFailure"], None, "$.outcome"
        )
        retry_store_calls(record_failure)
        record_failure.add_catch(
            publish_failed_unrecorded, errors=["States.ALL"], result_path="$.record_failure"
        )
        record_failure.next(publish_failed)
        # The rollback step found the published version never moved: nothing to undo, no page.
        record_nothing_changed = invoke_step(
            self, "RecordNothingChanged", f["RecordPublishFailure"], None, "$.outcome"
        )
        retry_store_calls(record_nothing_changed)
        record_nothing_changed.add_catch(
            publish_failed_unrecorded, errors=["States.ALL"], result_path="$.record_failure"
        )
        record_nothing_changed.next(publish_failed)

        def published_if_recorded(
            choice_name: str, keep_name: str, *, otherwise: sfn.IChainable
        ) -> sfn.Choice:
            # A recorder that found the run SUCCEEDED (RecordRelease committed after all) answers
            # with the release: keep it and end Published; anything else goes on to `otherwise`.
            return (
                sfn.Choice(self, choice_name)
                .when(
                    sfn.Condition.string_equals("$.outcome.status", "SUCCEEDED"),
                    sfn.Pass(self, keep_name, input_path="$.outcome.release", result_path="$.release").next(
                        published
                    ),
                )
                .otherwise(otherwise)
            )

        # -- a live, verified release whose records could not be written: park it ---------------
        park_release = invoke_step(
            self,
            "ParkUnrecordedRelease",
            f["ParkFlowRelease"],
            {
                "run": run,
                "validation": validation,
                "snapshot": snapshot,
                "publish": sfn.JsonPath.object_at("$.publish"),
                "health": sfn.JsonPath.object_at("$.publish.health"),
                "record_failure": sfn.JsonPath.object_at("$.record_failure"),
            },
            "$.outcome",
        )
        retry_store_calls(park_release)
        describe_parked = describe_outcome(
            self,
            "DescribeUnparkedRelease",
            "Version {} is live and verified, but recording it failed ({}) and so did parking "
            "the run ({}); run a scan to record it.",
            "$.publish.health.published_version",
            "$.record_failure.Error",
            "$.park_failure.Error",
        )
        park_release.add_catch(describe_parked, errors=["States.ALL"], result_path="$.park_failure")
        describe_parked.next(release_unrecorded)
        park_release.next(
            published_if_recorded(
                "WasTheReleaseRecordedBeforeParking",
                "KeepTheReleaseFoundWhenParking",
                otherwise=release_unrecorded,
            )
        )

        # -- rollback failed: record, notify, fail ----------------------------------------------
        notify = notify_rollback_failed(
            self,
            self.rollback_failed_topic,
            "flowops: publish rollback FAILED, manual fix needed",
            {
                "run_id": sfn.JsonPath.string_at("$.run.run_id"),
                "flow": sfn.JsonPath.object_at("$.validation.target"),
                "status": "ROLLBACK_FAILED",
                "cause": sfn.JsonPath.string_at("$.outcome.cause"),
            },
            rollback_failed,
        )
        record_rollback_failed = invoke_step(
            self, "RecordRollbackFailure", f["RecordRollbackFailed"], None, "$.outcome"
        )
        # It reads the live version for the record: a Genesys blip is retried, not recorded.
        retry_genesys_calls(record_rollback_failed)
        describe_unrecorded = describe_outcome(
            self,
            "DescribeUnrecordedRollbackFailure",
            "Rollback failed ({}) and recording it failed too ({}); check the run item and the flow.",
            "$.rollback_failure.Error",
            "$.record_failure.Error",
        )
        record_rollback_failed.add_catch(
            describe_unrecorded, errors=["States.ALL"], result_path="$.record_failure"
        )
        describe_unrecorded.next(notify)
        # The recorder finds the run SUCCEEDED when the error came after RecordRelease committed
        # and the rollback step could not tell: the release stands, the run ends Published.
        record_rollback_failed.next(
            published_if_recorded(
                "WasTheReleaseRecordedAfterAll", "KeepTheReleaseFoundByTheRecorder", otherwise=notify
            )
        )

        # -- rollback --------------------------------------------------------------------------
        rollback = invoke_step(
            self,
            "RollbackToPreviousVersion",
            f["RollBackFlow"],
            {
                "run": run,
                "validation": validation,
                "snapshot": snapshot,
                "failure": sfn.JsonPath.object_at("$.failure"),
            },
            "$.rollback",
        )
        wait_for_rollback = sfn.Wait(
            self, "WaitForRollback", time=sfn.WaitTime.seconds_path("$.rollback.wait_seconds")
        )
        check_rollback = invoke_step(
            self,
            "CheckRollbackJob",
            f["CheckFlowJob"],
            {"run": run, "validation": validation, "progress": sfn.JsonPath.object_at("$.rollback")},
            "$.rollback",
        )
        record_rolled_back = invoke_step(
            self,
            "RecordRolledBack",
            f["RecordRolledBack"],
            {
                "run": run,
                "validation": validation,
                "snapshot": snapshot,
                "failure": sfn.JsonPath.object_at("$.failure"),
                "rollback": sfn.JsonPath.object_at("$.rollback"),
            },
            "$.outcome",
        )
        for task in (rollback, check_rollback, record_rolled_back):
            retry_genesys_calls(task)
            task.add_catch(record_rollback_failed, errors=["States.ALL"], result_path="$.rollback_failure")
        # A run whose release was already recorded is never rolled back (the error came after
        # RecordRelease committed, e.g. an ambiguous conditional write): it ends Published.
        # The rollback step decides: a release already recorded ends Published; a publish job
        # still running is fenced (waited for) before anything is decided; a published version
        # that never moved needs nothing (PublishFailed, no page); else a job restores the last
        # known-good release.
        rollback.next(
            sfn.Choice(self, "IsTheReleaseAlreadyRecorded")
            .when(
                sfn.Condition.boolean_equals("$.rollback.release_recorded", True),
                sfn.Pass(
                    self,
                    "KeepTheRecordedRelease",
                    input_path="$.rollback.recorded_release",
                    result_path="$.release",
                ).next(published),
            )
            .when(sfn.Condition.string_equals("$.rollback.action", "none"), record_nothing_changed)
            .otherwise(wait_for_rollback)
        )
        wait_for_rollback.next(check_rollback).next(
            sfn.Choice(self, "HasTheRollbackFinished")
            .when(
                sfn.Condition.and_(
                    sfn.Condition.boolean_equals("$.rollback.finished", True),
                    sfn.Condition.string_equals("$.rollback.purpose", "fence"),
                ),
                rollback,
            )
            .when(sfn.Condition.boolean_equals("$.rollback.finished", True), record_rolled_back)
            .otherwise(wait_for_rollback)
        )
        record_rolled_back.next(rolled_back)

        # -- the main path ---------------------------------------------------------------------
        start = start_run(self, "StartPublishRun")
        validate = invoke_step(
            self,
            "Validate",
            f["ValidatePublish"],
            {"run": run, "request": sfn.JsonPath.object_at("$.request")},
            "$.validation",
        )
        take_snapshot = invoke_step(
            self,
            "SnapshotCurrentVersion",
            f["SnapshotFlowVersion"],
            {"run": run, "validation": validation},
            "$.snapshot",
        )
        start_publish = invoke_step(
            self, "StartPublish", f["StartFlowPublish"], {"run": run, "validation": validation}, "$.publish"
        )
        wait_for_job = sfn.Wait(
            self, "WaitForPublishJob", time=sfn.WaitTime.seconds_path("$.publish.wait_seconds")
        )
        # The poll that sees the job end health-checks the new version (`$.publish.health`).
        check_job = invoke_step(
            self,
            "CheckPublishJob",
            f["CheckPublishJob"],
            {
                "run": run,
                "validation": validation,
                "snapshot": snapshot,
                "progress": sfn.JsonPath.object_at("$.publish"),
            },
            "$.publish",
        )
        record_release = invoke_step(
            self,
            "RecordRelease",
            f["RecordFlowRelease"],
            {
                "run": run,
                "validation": validation,
                "snapshot": snapshot,
                "publish": sfn.JsonPath.object_at("$.publish"),
                "health": sfn.JsonPath.object_at("$.publish.health"),
            },
            "$.release",
        )
        for task in (validate, take_snapshot, start_publish, check_job, record_release):
            retry_genesys_calls(task)
        for task in (validate, take_snapshot):
            task.add_catch(record_failure, errors=["States.ALL"], result_path="$.failure")
        for task in (start_publish, check_job):
            task.add_catch(rollback, errors=["States.ALL"], result_path="$.failure")
        # After CheckPublishJob verified the live version and its content, nothing rolls it back:
        # a RecordRelease that keeps failing parks the run for repair.
        record_release.add_catch(park_release, errors=["States.ALL"], result_path="$.record_failure")

        is_valid = (
            sfn.Choice(self, "IsThePublishValid")
            .when(sfn.Condition.boolean_equals("$.validation.ok", True), take_snapshot)
            .otherwise(validation_failed)
        )
        has_finished = (
            sfn.Choice(self, "HasThePublishJobFinished")
            .when(sfn.Condition.boolean_equals("$.publish.finished", True), record_release)
            .otherwise(wait_for_job)
        )
        definition = start.next(validate).next(is_valid)
        take_snapshot.next(start_publish).next(wait_for_job).next(check_job).next(has_finished)
        record_release.next(published)

        self.state_machine = workflow_state_machine(
            self,
            config=config,
            workflow="Publish",
            definition=definition,
            # Longest single attempt: the release path to RecordRelease, then a rollback recorded (or
            # failing): each step once, each job polled to its deadline plus one last wait.
            timeout=execution_timeout(
                steps=[
                    f[name]
                    for name in (
                        "ValidatePublish",
                        "SnapshotFlowVersion",
                        "StartFlowPublish",
                        "CheckPublishJob",
                        "RecordFlowRelease",
                        "RollBackFlow",
                        "CheckFlowJob",
                        "RecordRolledBack",
                        "RecordRollbackFailed",
                    )
                ],
                waits_seconds=2 * (JOB_DEADLINE_SECONDS + MAX_POLL_SECONDS),
            ),
            comment=f"flowops publish to org {config.org_key}: validate, snapshot, publish, check, rollback",
            invoked_functions=self.functions.values(),
        )
