"""Security properties of every synthesized environment: IAM, data stores, secrets, API, cdk-nag."""

from __future__ import annotations

import json
from typing import Any

import pytest

from flowops.local.runtime.cloud import LOCAL_GENESYS_CREDENTIALS
from tests.infra.test_production_stack import SynthesizedEnvironment, synthesized_environments

pytestmark = pytest.mark.slow  # shares the one synthesis of test_production_stack

DATA_STORE_SERVICES = ("s3", "dynamodb", "sqs", "sns", "secretsmanager", "kms", "states")
# Services whose actions AWS does not scope to resources; "*" is the only valid resource for them.
RESOURCELESS_ACTIONS = {
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
}


@pytest.fixture(scope="session")
def environments() -> dict[str, SynthesizedEnvironment]:
    return synthesized_environments()


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _policy_statements(environment: SynthesizedEnvironment) -> list[tuple[str, dict[str, Any]]]:
    """(policy logical id, statement) for every identity policy in the template."""
    statements = []
    for key, policy in environment.resources("AWS::IAM::Policy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            statements.append((key, statement))
    return statements


def _role_of_function(environment: SynthesizedEnvironment) -> dict[str, str]:
    return {
        function["Properties"]["Role"]["Fn::GetAtt"][0]: key
        for key, function in environment.resources("AWS::Lambda::Function").items()
    }


def _policy_roles(policy: dict[str, Any]) -> list[str]:
    return [role["Ref"] for role in policy["Properties"]["Roles"]]


def test_no_policy_grants_every_action_or_any_data_store_action_on_every_resource(
    environments: dict[str, SynthesizedEnvironment],
) -> None:
    for environment in environments.values():
        for policy_id, statement in _policy_statements(environment):
            actions = _as_list(statement["Action"])
            resources = _as_list(statement.get("Resource", []))
            assert "*" not in actions, policy_id
            assert not any(action.endswith(":*") for action in actions), (policy_id, actions)
            if "*" in resources:
                assert set(actions) <= RESOURCELESS_ACTIONS, (environment.name, policy_id, actions)
                assert not any(action.split(":")[0] in DATA_STORE_SERVICES for action in actions)


def test_each_function_reaches_only_the_data_stores_of_its_step(
    environments: dict[str, SynthesizedEnvironment],
) -> None:
    # Given the dev stack, When each function's data-store statements are collected
    dev = environments["dev"]
    function_by_role = _role_of_function(dev)
    reached: dict[str, set[str]] = {}
    for policy in dev.resources("AWS::IAM::Policy").values():
        for role in _policy_roles(policy):
            if role not in function_by_role:
                continue
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                services = {action.split(":")[0] for action in _as_list(statement["Action"])}
                if services & {"s3", "dynamodb"}:
                    reached.setdefault(function_by_role[role], set()).update(
                        json.dumps(resource) for resource in _as_list(statement["Resource"])
                    )
    # Then the scan's index check (Genesys only) reaches no data store at all, and every
    # data-store resource is one of the stack's own buckets/tables (a reference, never a pattern)
    assert not any(key.startswith("FunctionsCheckDependencyIndex") for key in reached)
    own = set(dev.resources("AWS::S3::Bucket")) | set(dev.resources("AWS::DynamoDB::Table"))
    for function, resources in reached.items():
        for resource in resources:
            assert any(logical_id in resource for logical_id in own), (function, resource)


def test_state_machines_may_invoke_only_their_own_functions(
    environments: dict[str, SynthesizedEnvironment],
) -> None:
    for environment in environments.values():
        policies = environment.resources("AWS::IAM::Policy").values()
        for key, machine in environment.resources("AWS::StepFunctions::StateMachine").items():
            definition = json.dumps(machine["Properties"]["DefinitionString"])
            role = machine["Properties"]["RoleArn"]["Fn::GetAtt"][0]
            invoked: set[str] = set()
            for policy in policies:
                if role not in _policy_roles(policy):
                    continue
                for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                    if "lambda:InvokeFunction" in _as_list(statement["Action"]):
                        for resource in _as_list(statement["Resource"]):
                            invoked.add(json.dumps(resource).split('"Fn::GetAtt": ["')[1].split('"')[0])
            used = {
                function
                for function in environment.resources("AWS::Lambda::Function")
                if function in definition
            }
            assert invoked == used, (environment.name, key)


def test_buckets_are_encrypted_private_ssl_only_and_tables_recoverable_in_every_environment(
    environments: dict[str, SynthesizedEnvironment],
) -> None:
    for environment in environments.values():
        policies = environment.resources("AWS::S3::BucketPolicy").values()
        ssl_only = {
            policy["Properties"]["Bucket"]["Ref"]
            for policy in policies
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
            if statement["Effect"] == "Deny"
            and statement.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
        }
        for key, bucket in environment.resources("AWS::S3::Bucket").items():
            properties = bucket["Properties"]
            assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"], key
            assert all(properties["PublicAccessBlockConfiguration"].values()), key
            assert key in ssl_only, key
            if key.startswith("StorageArtifactsBucket"):
                assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
                assert properties["LoggingConfiguration"]["DestinationBucketName"]
        for key, table in environment.resources("AWS::DynamoDB::Table").items():
            recovery = table["Properties"]["PointInTimeRecoverySpecification"]
            assert recovery["PointInTimeRecoveryEnabled"] is True, (environment.name, key)


def test_prod_retains_its_data_when_the_stack_is_deleted_and_dev_does_not(
    environments: dict[str, SynthesizedEnvironment],
) -> None:
    for name, expected in (("prod", "Retain"), ("dev", "Delete")):
        environment = environments[name]
        for resource_type in ("AWS::S3::Bucket", "AWS::DynamoDB::Table"):
            for key, resource in environment.resources(resource_type).items():
                assert resource["DeletionPolicy"] == expected, (name, key)
                assert resource["UpdateReplacePolicy"] == expected, (name, key)


def test_no_template_carries_a_secret_value(environments: dict[str, SynthesizedEnvironment]) -> None:
    # Given the templates of every environment and the local Genesys client secret
    _client_id, client_secret = LOCAL_GENESYS_CREDENTIALS
    for environment in environments.values():
        text = json.dumps(environment.template)
        # Then secrets are referenced by NAME only: no value, no dynamic reference that CloudFormation
        # would resolve into a resource property, no generated secret whose value lives in the stack
        assert client_secret not in text
        assert "{{resolve:secretsmanager" not in text
        assert not environment.resources("AWS::SecretsManager::Secret")
        for key, function in environment.resources("AWS::Lambda::Function").items():
            variables = function["Properties"]["Environment"]["Variables"]
            for variable, value in variables.items():
                if "SECRET" in variable:
                    assert variable.endswith(("_SECRET_ID", "_SECRET_NAME")), (key, variable)
                    assert isinstance(value, str) and value.startswith("flowops/"), (key, variable)
        for output_id, output in environment.template["Outputs"].items():
            assert client_secret not in json.dumps(output), output_id


def test_webhook_api_validates_throttles_and_logs_access(
    environments: dict[str, SynthesizedEnvironment],
) -> None:
    for environment in environments.values():
        stages = environment.resources("AWS::ApiGateway::Stage")
        if not stages:
            pytest.skip("the stack has no API Gateway yet")
        for key, stage in stages.items():
            properties = stage["Properties"]
            assert properties["AccessLogSetting"]["DestinationArn"], key
            (method_settings,) = properties["MethodSettings"]
            assert method_settings["ThrottlingRateLimit"] > 0 and method_settings["ThrottlingBurstLimit"] > 0
        # No gateway request validation on purpose: a missing signature must be the function's 401
        # (a gateway validator would answer 400), and the function validates the body strictly
        # after the HMAC check. The cdk-nag finding is acknowledged with that reason.
        methods = [
            method
            for method in environment.resources("AWS::ApiGateway::Method").values()
            if method["Properties"]["HttpMethod"] != "OPTIONS"
        ]
        # POST /publish and POST /release, nothing else
        verbs = [method["Properties"]["HttpMethod"] for method in methods]
        assert verbs == ["POST", "POST"], environment.name
        assert not any(method["Properties"].get("RequestValidatorId") for method in methods)
        assert any("AwsSolutions-APIG2" in line for line in environment.acknowledged_findings)


def test_cdk_nag_finds_nothing_unacknowledged_in_any_environment(
    environments: dict[str, SynthesizedEnvironment],
) -> None:
    assert set(environments) == {"dev", "test", "prod"}
    for environment in environments.values():
        assert environment.unacknowledged_findings == [], environment.name
        assert all(len(line.split(": ", 1)[1]) >= 20 for line in environment.acknowledged_findings)
