"""FlowopsStack: composes one construct per concern; holds no resource definitions itself."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

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
from infra.constructs.scan_workflow import ScanWorkflowConstruct
from infra.constructs.schedule import ScheduleConstruct
from infra.constructs.storage import StorageConstruct
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
        self.scan_workflow = ScanWorkflowConstruct(
            self, "ScanWorkflow", config=config, storage=self.storage, functions=self.functions
        )
        ScheduleConstruct(
            self,
            "ScanSchedule",
            state_machine=self.scan_workflow.state_machine,
            schedule_expression=config.scan_schedule,
        )

        self._outputs()

    def _outputs(self) -> None:
        # The CLI finds a deployed stack's resources through these outputs.
        cdk.CfnOutput(self, OUTPUT_ARTIFACTS_BUCKET, value=self.storage.artifacts_bucket.bucket_name)
        cdk.CfnOutput(self, OUTPUT_STATE_TABLE, value=self.storage.state_table.table_name)
        cdk.CfnOutput(self, OUTPUT_AUDIT_TABLE, value=self.storage.audit_table.table_name)
        cdk.CfnOutput(self, OUTPUT_GENESYS_SECRET, value=self.config.genesys_secret_name)
