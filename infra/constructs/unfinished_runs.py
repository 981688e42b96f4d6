"""The backstop for runs a state machine could not finish (flowops.unfinished).

Step Functions cannot catch its own execution timeout, a StopExecution, or a failure of the step
that records a failure. One EventBridge rule per workflow matches that workflow's machine's
"Step Functions Execution Status Change" events with those statuses and invokes
RecordUnfinishedRun (asynchronously: Lambda retries it twice, and its Errors alarm pages).

- publish, release: TIMED_OUT, ABORTED, FAILED (a FAILED run whose machine recorded its end is
  recognized by its run item and left alone; only its leases are freed if still held).
- scan, trace: TIMED_OUT, ABORTED. Their FAILED ends are Fail states the machine reached itself
  (error and cause in the execution, alarmed by ExecutionsFailed); they hold no lease or run item.

The function may: describe the executions of these four machines (states:DescribeExecution on
`<machine name>:*`), read/write run and lease items of the state table (Get/Put/Update/Delete:
create a missing run item, move it, free leases with a conditional delete), append audit events,
read release plans (`releases/<org>/runs/*`), and publish to the alarm topic and the two
RollbackFailed topics. Nothing else: no Genesys secret, no other objects.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as events_targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.constructs.functions import FunctionsConstruct
from infra.constructs.storage import StorageConstruct
from infra.constructs.workflow import append_audit, grant_describe_executions
from infra.environment import EnvironmentConfig
from infra.nag import acknowledge, logical_id

UNFINISHED_FUNCTION_ID = "RecordUnfinishedRun"
STATUS_CHANGE = "Step Functions Execution Status Change"
RECORDING_WORKFLOW_STATUSES = ("TIMED_OUT", "ABORTED", "FAILED")
UNRECORDED_WORKFLOW_STATUSES = ("TIMED_OUT", "ABORTED")


@dataclass(frozen=True)
class WatchedWorkflow:
    """A workflow whose unfinished executions the backstop finishes."""

    name: str
    """`publish`, `release`, `scan`, `trace` (flowops.unfinished.Workflow)."""
    state_machine: sfn.IStateMachine
    statuses: Sequence[str]


class UnfinishedRunsConstruct(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        storage: StorageConstruct,
        functions: FunctionsConstruct,
        workflows: Sequence[WatchedWorkflow],
        people_topics: Mapping[str, sns.ITopic],
    ) -> None:
        super().__init__(scope, construct_id)
        bucket, state, audit = storage.artifacts_bucket, storage.state_table, storage.audit_table
        plans = f"releases/{config.org_key}/runs/*"
        self.function: lambda_.Function = functions.add_function(
            UNFINISHED_FUNCTION_ID,
            handler="flowops.functions.unfinished.record_unfinished_run.handler",
            grants=[
                lambda grantee: state.grant(
                    grantee,
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                    "dynamodb:DeleteItem",
                ),
                append_audit(audit),
                lambda grantee: bucket.grant_read(grantee, plans),
            ],
            timeout=Duration.seconds(60),
            environment={
                f"{workflow.upper()}_PEOPLE_TOPIC_ARN": topic.topic_arn
                for workflow, topic in people_topics.items()
            },
            description="flowops: records, frees and notifies runs whose execution ended unfinished",
        )
        for topic in people_topics.values():
            topic.grant_publish(self.function)
        acknowledge(
            self.function,
            f"AwsSolutions-IAM5[Resource::<{logical_id(bucket)}.Arn>/{plans}]",
            "Reads only the release plans (releases/<org>/runs/<runId>/plan.json) to free the leases of "
            "the flows an unfinished release took; run ids are execution names made at run time.",
        )
        self.rules: dict[str, events.Rule] = {}
        for workflow in workflows:
            finding = grant_describe_executions(self.function, workflow.state_machine, "")
            acknowledge(
                self.function,
                finding,
                f"DescribeExecution of any execution of the {workflow.name} state machine: the one it "
                "was told ended (names are made at run time); the machine's name bounds it.",
            )
            self.rules[workflow.name] = events.Rule(
                self,
                f"{workflow.name.capitalize()}Ended",
                description=f"flowops: a {workflow.name} execution ended {', '.join(workflow.statuses)}",
                event_pattern=events.EventPattern(
                    source=["aws.states"],
                    detail_type=[STATUS_CHANGE],
                    detail={
                        "stateMachineArn": [workflow.state_machine.state_machine_arn],
                        "status": list(workflow.statuses),
                    },
                ),
                targets=[
                    events_targets.LambdaFunction(
                        self.function,
                        event=events.RuleTargetInput.from_object(
                            {
                                "workflow": workflow.name,
                                "execution_arn": events.EventField.from_path("$.detail.executionArn"),
                                "status": events.EventField.from_path("$.detail.status"),
                            }
                        ),
                    )
                ],
            )

    def notify_operations(self, alarm_topic: sns.ITopic) -> None:
        """Send the operational notifications (nothing left changed) to the stack's alarm topic."""
        self.function.add_environment("ALARM_TOPIC_ARN", alarm_topic.topic_arn)
        alarm_topic.grant_publish(self.function)
        if alarm_topic.master_key is not None:
            acknowledge(
                self.function,
                "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
                "Publishing to the alarm topic encrypts with its own KMS key (CDK's grant_publish): "
                "kms:GenerateDataKey* on that one key, which only this topic uses.",
            )
