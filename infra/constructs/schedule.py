"""The EventBridge rule that starts a scan on a schedule (rate(...) or cron(...) from cdk.json)."""

from __future__ import annotations

from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.constants import SCHEDULED_SCAN_INPUT


class ScheduleConstruct(Construct):
    """Starts `state_machine` with a fixed input on `schedule_expression`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        state_machine: sfn.IStateMachine,
        schedule_expression: str,
        enabled: bool = True,
    ) -> None:
        super().__init__(scope, construct_id)
        self.rule = events.Rule(
            self,
            "Rule",
            description=f"Scheduled flowops scan ({schedule_expression})",
            schedule=events.Schedule.expression(schedule_expression),
            enabled=enabled,
        )
        # A fixed input rather than the scheduled event: the scan reads only fields it knows, and
        # an explicit trigger shows up in the report.
        self.rule.add_target(
            targets.SfnStateMachine(
                state_machine, input=events.RuleTargetInput.from_object(SCHEDULED_SCAN_INPUT)
            )
        )
