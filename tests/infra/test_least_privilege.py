"""Each step function may touch exactly the data stores and secrets its step uses.

The expected access below is read off the core steps (flowops.publish.steps, flowops.trace.pipeline,
flowops.scan): a grant that widens without the step needing it fails here. Reuses the one synthesis
of test_production_stack.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from flowops.partitions import rate_schedule_partition
from tests.infra.test_production_stack import SynthesizedEnvironment, synthesized_environments

pytestmark = pytest.mark.slow  # shares the one synthesis of test_production_stack

# What a statement can give: read/write objects, read/write items of each table, read a secret.
OBJECTS_READ, OBJECTS_WRITE, OBJECTS_DELETE = "objects:read", "objects:write", "objects:delete"
STATE_READ, STATE_WRITE, AUDIT_READ, AUDIT_WRITE = "state:read", "state:write", "audit:read", "audit:write"
GENESYS_SECRET, TRACE_WEBHOOK_SECRET = "secret:genesys", "secret:trace-webhook"
GIT_SECRET = "secret:git"
# UpdateItem on the org's one shared rate-limit schedule item of the state table (RATE#<org>) only.
RATE_SCHEDULE = "state:rate-schedule"

# Publish steps append audit events idempotently (a retried step passes its own event id and a
# condition failure is resolved by reading the stored event back): they read the audit table too.
IDEMPOTENT_AUDIT = {AUDIT_READ, AUDIT_WRITE}
RUN_STATE = {STATE_READ, STATE_WRITE}

EXPECTED_ACCESS: dict[str, set[str]] = {
    # publish
    "ValidatePublish": {OBJECTS_READ, OBJECTS_WRITE, *RUN_STATE, *IDEMPOTENT_AUDIT, GENESYS_SECRET},
    "SnapshotFlowVersion": {OBJECTS_READ, OBJECTS_WRITE, *RUN_STATE, GENESYS_SECRET},
    # Notes the job it registered in the run item before uploading (a retry finds it).
    "StartFlowPublish": {OBJECTS_READ, *RUN_STATE, GENESYS_SECRET},
    # Job messages too many for the state are stored in full (flowops.statepayload): write only.
    "CheckFlowJob": {OBJECTS_WRITE, GENESYS_SECRET},
    # The poll that sees the job end reads the deployed YAML to compare the live version's
    # content with it; spills messages.
    "CheckPublishJob": {OBJECTS_READ, OBJECTS_WRITE, GENESYS_SECRET},
    "RecordFlowRelease": {OBJECTS_READ, OBJECTS_WRITE, *RUN_STATE, *IDEMPOTENT_AUDIT, GENESYS_SECRET},
    "RollBackFlow": {OBJECTS_READ, *RUN_STATE, *IDEMPOTENT_AUDIT, GENESYS_SECRET},
    "RecordRolledBack": {OBJECTS_READ, OBJECTS_WRITE, *RUN_STATE, *IDEMPOTENT_AUDIT, GENESYS_SECRET},
    "RecordRollbackFailed": {*RUN_STATE, *IDEMPOTENT_AUDIT, GENESYS_SECRET},
    "RecordPublishFailure": {*RUN_STATE, *IDEMPOTENT_AUDIT},
    "ParkFlowRelease": {*RUN_STATE, *IDEMPOTENT_AUDIT},
    # trace
    "ValidateTraceRequest": {GENESYS_SECRET},
    "QueryFlowInstances": {OBJECTS_WRITE, GENESYS_SECRET},
    "StartExecutionDataJobs": {OBJECTS_READ, GENESYS_SECRET},
    "CheckExecutionDataJobs": {GENESYS_SECRET},
    "AnalyzeExecutions": {OBJECTS_READ, OBJECTS_WRITE, GENESYS_SECRET},
    "DeliverTrace": {TRACE_WEBHOOK_SECRET},
    "RecordTraceOutcome": {AUDIT_WRITE},
    # scan
    "CheckDependencyIndex": {GENESYS_SECRET},
    "ListFlowPages": {STATE_READ, OBJECTS_WRITE, GENESYS_SECRET},
    "ReadFlowPage": {OBJECTS_READ, OBJECTS_WRITE, GENESYS_SECRET},
    "BuildLock": {OBJECTS_READ, OBJECTS_WRITE},
    "AdvanceLockPointer": RUN_STATE,
    "ReportScan": {OBJECTS_READ, OBJECTS_WRITE, AUDIT_WRITE},
    # the unfinished-runs backstop: reads release plans (leases to free), moves run items and
    # frees leases, appends its audit event; no Genesys secret (flowops.unfinished)
    "RecordUnfinishedRun": {OBJECTS_READ, *RUN_STATE, *IDEMPOTENT_AUDIT},
}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _access_of(statement: dict[str, Any], environment: SynthesizedEnvironment) -> set[str]:
    def one(resource_type: str, prefix: str) -> str:
        (key,) = [key for key in environment.resources(resource_type) if key.startswith(prefix)]
        return key

    bucket = one("AWS::S3::Bucket", "StorageArtifacts")
    state = one("AWS::DynamoDB::Table", "StorageState")
    audit = one("AWS::DynamoDB::Table", "StorageAudit")
    actions = set(_as_list(statement["Action"]))
    leading_keys = (
        statement.get("Condition", {}).get("ForAllValues:StringEquals", {}).get("dynamodb:LeadingKeys")
    )
    access: set[str] = set()
    for resource in (json.dumps(item) for item in _as_list(statement.get("Resource", []))):
        if bucket in resource:
            access |= {OBJECTS_READ} if any(a.startswith("s3:GetObject") for a in actions) else set()
            access |= {OBJECTS_WRITE} if "s3:PutObject" in actions else set()
            access |= {OBJECTS_DELETE} if any(a.startswith("s3:DeleteObject") for a in actions) else set()
        for table, read, write in ((state, STATE_READ, STATE_WRITE), (audit, AUDIT_READ, AUDIT_WRITE)):
            if table in resource:
                access |= {read} if "dynamodb:GetItem" in actions else set()
                access |= {write} if "dynamodb:PutItem" in actions else set()
                if "dynamodb:UpdateItem" in actions:
                    schedule_only = (
                        table == state
                        and actions == {"dynamodb:UpdateItem"}
                        and leading_keys == [rate_schedule_partition(environment.name)]
                    )
                    # Any other UpdateItem can change any item of the table: a write.
                    access |= {RATE_SCHEDULE} if schedule_only else {write}
        if "secretsmanager:GetSecretValue" in actions:
            if f"flowops/{environment.name}/genesys" in resource:
                access.add(GENESYS_SECRET)
            if f"flowops/{environment.name}/trace-webhook" in resource:
                access.add(TRACE_WEBHOOK_SECRET)
            if f"flowops/{environment.name}/git" in resource:
                access.add(GIT_SECRET)
    return access


def access_by_function(environment: SynthesizedEnvironment) -> dict[str, set[str]]:
    functions = environment.resources("AWS::Lambda::Function")
    function_of_role = {
        function["Properties"]["Role"]["Fn::GetAtt"][0]: key for key, function in functions.items()
    }
    access: dict[str, set[str]] = {key: set() for key in functions}
    for policy in environment.resources("AWS::IAM::Policy").values():
        for role in (role["Ref"] for role in policy["Properties"]["Roles"]):
            if role in function_of_role:
                for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                    access[function_of_role[role]] |= _access_of(statement, environment)
    return access


@pytest.fixture(scope="module")
def dev() -> SynthesizedEnvironment:
    return synthesized_environments()["dev"]


def test_each_step_function_has_exactly_the_access_its_step_uses(dev: SynthesizedEnvironment) -> None:
    # Given the dev stack, When every function's data-store and secret access is collected
    access = access_by_function(dev)
    # Then each step function has exactly what its step needs, no more and no less
    for function_id, expected in EXPECTED_ACCESS.items():
        (logical_id,) = [key for key in access if re.fullmatch(f"Functions{function_id}[0-9A-F]{{8}}", key)]
        assert access[logical_id] == expected, function_id


def test_no_function_may_delete_artifacts(dev: SynthesizedEnvironment) -> None:
    # Artifacts are content-addressed and immutable, rollback sources included: nothing deletes them.
    for function, access in access_by_function(dev).items():
        assert OBJECTS_DELETE not in access, function


def test_trace_delivery_settings_come_from_the_environment(dev: SynthesizedEnvironment) -> None:
    # Given dev, whose cdk.json entry names no trace webhook
    functions = dev.resources("AWS::Lambda::Function").values()
    (deliver,) = [
        f for f in functions if f["Properties"]["Handler"] == "flowops.functions.trace.deliver.handler"
    ]
    variables = deliver["Properties"]["Environment"]["Variables"]
    # Then the delivery signs with the conventional secret name and has no URL (not_configured)
    assert variables["TRACE_WEBHOOK_SECRET_ID"] == "flowops/dev/trace-webhook"
    assert "TRACE_WEBHOOK_URL" not in variables


def _statements_of(environment: SynthesizedEnvironment, function_id: str) -> list[dict[str, Any]]:
    functions = environment.resources("AWS::Lambda::Function")
    (logical_id,) = [key for key in functions if re.fullmatch(f"Functions{function_id}[0-9A-F]{{8}}", key)]
    role = functions[logical_id]["Properties"]["Role"]["Fn::GetAtt"][0]
    return [
        statement
        for policy in environment.resources("AWS::IAM::Policy").values()
        if role in [r["Ref"] for r in policy["Properties"]["Roles"]]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_the_unfinished_runs_backstop_has_exactly_its_own_grants(dev: SynthesizedEnvironment) -> None:
    # Given the backstop function's policy statements
    statements = _statements_of(dev, "RecordUnfinishedRun")
    by_action: dict[str, list[str]] = {}
    for statement in statements:
        for action in _as_list(statement["Action"]):
            by_action.setdefault(action, []).extend(json.dumps(r) for r in _as_list(statement["Resource"]))
    # Then it describes executions of the four workflow machines only (any execution name: the one
    # it was told ended), publishes to the alarm topic and the two RollbackFailed topics only
    machines = sorted(
        key
        for key in dev.resources("AWS::StepFunctions::StateMachine")
        if key.startswith(("PublishWorkflow", "ReleaseWorkflow", "ScanWorkflow", "TraceWorkflow"))
    )
    described = by_action["states:DescribeExecution"]
    assert sorted(next(m for m in machines if m in resource) for resource in described) == machines
    assert all(resource.endswith(':*"]]}') for resource in described)
    topics = by_action["sns:Publish"]
    assert sorted(re.sub(r"[0-9A-F]{8}\"}$", "", t).split('"')[-1] for t in topics) == [
        "MonitoringAlarmTopic",
        "PublishWorkflowRollbackFailedTopic",
        "ReleaseWorkflowReleaseRollbackFailedTopic",
    ]
    # And its object reads are the release plans only; no secret, no state-machine start, no delete
    object_reads = [resource for resource in by_action["s3:GetObject*"] if "Fn::Join" in resource]
    assert len(object_reads) == 1 and '"/releases/dev/runs/*"' in object_reads[0]
    forbidden = {"secretsmanager:GetSecretValue", "states:StartExecution", "s3:PutObject", "s3:DeleteObject*"}
    assert not forbidden & set(by_action)
    assert set(by_action) - {"xray:PutTraceSegments", "xray:PutTelemetryRecords"} <= {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "s3:GetObject*",
        "s3:GetBucket*",
        "s3:List*",
        "states:DescribeExecution",
        "sns:Publish",
        "kms:Decrypt",
        "kms:GenerateDataKey*",
    }


def assert_every_genesys_caller_follows_the_rate_model(
    environment: SynthesizedEnvironment, *, scope: str, per_minute: int
) -> set[str]:
    """Every function that may read the Genesys secret is told the environment's rate model and,
    when the budget is shared, may update the org's schedule item (and only that item); no other
    function is told or granted either. Returns the Genesys callers' logical ids."""
    access = access_by_function(environment)
    callers = {key for key, granted in access.items() if GENESYS_SECRET in granted}
    assert callers
    for key, function in environment.resources("AWS::Lambda::Function").items():
        variables = function["Properties"]["Environment"]["Variables"]
        told = (variables.get("GENESYS_RATE_SCOPE"), variables.get("GENESYS_RATE_PER_MINUTE"))
        if key in callers:
            assert told == (scope, str(per_minute)), key
            assert (RATE_SCHEDULE in access[key]) == (scope != "token"), key
        else:
            assert told == (None, None), key
            assert RATE_SCHEDULE not in access[key], key
    return callers


def test_with_a_per_token_limit_genesys_callers_pace_themselves_and_share_nothing(
    dev: SynthesizedEnvironment,
) -> None:
    # Given dev, whose cdk.json entry keeps the documented per-token budget
    callers = assert_every_genesys_caller_follows_the_rate_model(dev, scope="token", per_minute=300)
    # Then scan, publish, release and trace functions are all among those told so
    handlers = {dev.template["Resources"][key]["Properties"]["Handler"].split(".")[2] for key in callers}
    assert handlers == {"scan", "publish", "release", "trace"}


def test_with_a_shared_rate_limit_every_genesys_caller_may_update_only_the_orgs_schedule_item() -> None:
    # Given prod, whose cdk.json entry counts the Genesys budget per OAuth client
    prod = synthesized_environments()["prod"]
    # Then every function with Genesys credentials (scan, publish, release, trace) is told so and
    # may update the org's one schedule item, and no other function may
    callers = assert_every_genesys_caller_follows_the_rate_model(prod, scope="client", per_minute=300)
    handlers = {prod.template["Resources"][key]["Properties"]["Handler"].split(".")[2] for key in callers}
    assert handlers == {"scan", "publish", "release", "trace"}
    # and everything else is as in dev
    access = access_by_function(prod)
    for function_id, expected in EXPECTED_ACCESS.items():
        (logical_id,) = [key for key in access if re.fullmatch(f"Functions{function_id}[0-9A-F]{{8}}", key)]
        shared = {RATE_SCHEDULE} if GENESYS_SECRET in expected else set()
        assert access[logical_id] == expected | shared, function_id
