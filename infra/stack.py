"""FlowopsStack: composes one construct per concern; holds no resource definitions itself."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from infra.bundling import refuse_to_deploy
from infra.constants import (
    FUNCTIONS_CONSTRUCT_ID,
    LAYER_MODE_BUNDLED,
    OUTPUT_ARTIFACTS_BUCKET,
    OUTPUT_AUDIT_TABLE,
    OUTPUT_GENESYS_SECRET,
    OUTPUT_STATE_TABLE,
    STORAGE_CONSTRUCT_ID,
)
from infra.constructs.functions import FunctionsConstruct
from infra.constructs.git_drift_mirror import GitDriftMirrorConstruct
from infra.constructs.git_push import GitPushConstruct
from infra.constructs.monitoring import MonitoredResources, MonitoringConstruct, subscribe_people
from infra.constructs.operations import OUTPUT_ALARM_TOPIC, OUTPUT_DASHBOARD, add_stack_outputs
from infra.constructs.publish_workflow import PublishWorkflowConstruct
from infra.constructs.release_workflow import ReleaseWorkflowConstruct
from infra.constructs.scan_workflow import ScanWorkflowConstruct
from infra.constructs.schedule import ScheduleConstruct
from infra.constructs.storage import StorageConstruct
from infra.constructs.trace_workflow import TraceWorkflowConstruct
from infra.constructs.unfinished_runs import (
    RECORDING_WORKFLOW_STATUSES,
    UNRECORDED_WORKFLOW_STATUSES,
    UnfinishedRunsConstruct,
    WatchedWorkflow,
)
from infra.constructs.webhook_api import WebhookApiConstruct, webhook_url_output_value
from infra.environment import EnvironmentConfig


class FlowopsStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        layer_mode: str = LAYER_MODE_BUNDLED,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.config = config
        self.storage = StorageConstruct(self, STORAGE_CONSTRUCT_ID, config=config)
        self.functions = FunctionsConstruct(
            self, FUNCTIONS_CONSTRUCT_ID, config=config, storage=self.storage, layer_mode=layer_mode
        )
        # Workflows (scan / publish / trace state machines) are composed below this line.
        drift_mirror = None
        if config.git is not None and config.git.mirror:
            drift_mirror = GitDriftMirrorConstruct(
                self,
                "GitDriftMirror",
                config=config,
                git=config.git,
                storage=self.storage,
                functions=self.functions,
            ).function
        self.scan_workflow = ScanWorkflowConstruct(
            self,
            "ScanWorkflow",
            config=config,
            storage=self.storage,
            functions=self.functions,
            drift_mirror=drift_mirror,
        )
        ScheduleConstruct(
            self,
            "ScanSchedule",
            state_machine=self.scan_workflow.state_machine,
            schedule_expression=config.scan_schedule,
        )
        self.trace_workflow = TraceWorkflowConstruct(
            self, "TraceWorkflow", config=config, storage=self.storage, functions=self.functions
        )
        self.publish_workflow = PublishWorkflowConstruct(
            self, "PublishWorkflow", config=config, storage=self.storage, functions=self.functions
        )
        self.release_workflow = ReleaseWorkflowConstruct(
            self, "ReleaseWorkflow", config=config, storage=self.storage, functions=self.functions
        )
        self.webhook_api = WebhookApiConstruct(
            self,
            "WebhookApi",
            config=config,
            storage=self.storage,
            functions=self.functions,
            publish_state_machine=self.publish_workflow.state_machine,
            release_state_machine=self.release_workflow.state_machine,
        )
        if config.git is not None:
            GitPushConstruct(
                self,
                "GitPush",
                config=config,
                git=config.git,
                storage=self.storage,
                functions=self.functions,
                api=self.webhook_api.api,
                release_state_machine=self.release_workflow.state_machine,
            )

        # What an execution timeout, a StopExecution or an unrecorded failure leaves behind.
        self.unfinished_runs = UnfinishedRunsConstruct(
            self,
            "UnfinishedRuns",
            config=config,
            storage=self.storage,
            functions=self.functions,
            workflows=[
                WatchedWorkflow("publish", self.publish_workflow.state_machine, RECORDING_WORKFLOW_STATUSES),
                WatchedWorkflow("release", self.release_workflow.state_machine, RECORDING_WORKFLOW_STATUSES),
                WatchedWorkflow("scan", self.scan_workflow.state_machine, UNRECORDED_WORKFLOW_STATUSES),
                WatchedWorkflow("trace", self.trace_workflow.state_machine, UNRECORDED_WORKFLOW_STATUSES),
            ],
            people_topics={
                "publish": self.publish_workflow.rollback_failed_topic,
                "release": self.release_workflow.rollback_failed_topic,
            },
        )

        # Keep LAST among the constructs: it monitors every state machine, function and dead-letter
        # queue composed above (discovered from the tree, so new workflows need no wiring here).
        self.monitoring = MonitoringConstruct(
            self,
            "Monitoring",
            config=config,
            resources=MonitoredResources.discover(self),
            scan_state_machine=self.scan_workflow.state_machine,
            webhook_api=self.webhook_api.api,
        )
        self.unfinished_runs.notify_operations(self.monitoring.topic)
        # Last: each function's cdk-nag findings are known only once every grant is made.
        self.functions.acknowledge_findings()
        # A failed rollback needs a person: the topics carrying its details get the same people.
        for rollback_failed in (self.publish_workflow, self.release_workflow):
            subscribe_people(rollback_failed.rollback_failed_topic, config)
        if config.placeholder_destinations:
            refuse_to_deploy(
                self,
                "RefusePlaceholderDestinations",
                f"environment {config.name!r} sends alarms or traces to placeholder addresses "
                f"({', '.join(config.placeholder_destinations)}): set its alarmEmail / alarmWebhookUrl / "
                "traceWebhookUrl in cdk.json to real ones (docs/deploy.md), then deploy again.",
            )
        if not config.has_alarm_subscribers:
            cdk.Annotations.of(self).add_warning_v2(
                "flowops:no-alarm-subscribers",
                f"environment {config.name!r} has no alarmEmail, alarmTopicArn or alarmWebhookUrl in "
                "cdk.json: its alarms and failed rollbacks reach nobody (docs/deploy.md).",
            )

        self._outputs()

    def _outputs(self) -> None:
        # The CLI finds a deployed stack's resources through these outputs.
        cdk.CfnOutput(self, OUTPUT_ARTIFACTS_BUCKET, value=self.storage.artifacts_bucket.bucket_name)
        cdk.CfnOutput(self, OUTPUT_STATE_TABLE, value=self.storage.state_table.table_name)
        cdk.CfnOutput(self, OUTPUT_AUDIT_TABLE, value=self.storage.audit_table.table_name)
        cdk.CfnOutput(self, OUTPUT_GENESYS_SECRET, value=self.config.genesys_secret_name)
        cdk.CfnOutput(self, OUTPUT_ALARM_TOPIC, value=self.monitoring.topic.topic_arn)
        cdk.CfnOutput(self, OUTPUT_DASHBOARD, value=self.monitoring.dashboard.dashboard_name)
        add_stack_outputs(self, state_machines=MonitoredResources.discover(self).state_machines)
        cdk.CfnOutput(self, "PublishWebhookUrl", value=webhook_url_output_value(self.webhook_api.api))
        cdk.CfnOutput(
            self, "RollbackFailedTopicArn", value=self.publish_workflow.rollback_failed_topic.topic_arn
        )
