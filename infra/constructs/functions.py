"""Lambda functions of flowops: one code asset, one core layer, one helper to add a function.

Every function: Python 3.12 on arm64, X-Ray tracing, a log group with the environment's
retention, powertools settings, and the reserved environment variables of docs/DEVELOPING.md.
Permissions are least-privilege and chosen by the caller (`grants=[...]`, `calls_genesys=`).
The Genesys secret is referenced by NAME; its value never enters the template or env vars.

`calls_genesys=True` is the ONE place a function gets Genesys access, whichever workflow defines
it: read on the Genesys secret, the environment's rate model (`GENESYS_RATE_SCOPE`,
`GENESYS_RATE_PER_MINUTE`, cdk.json `genesysRateLimit`), and, when that budget is shared (per
OAuth client or per org), UpdateItem on the org's one schedule item `RATE#<org>` of the state
table and nothing else of it, so every Genesys caller (scan, publish, release, trace, Git) reserves
its send slots from the same schedule (docs/genesys-limits.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from flowops.partitions import rate_schedule_partition
from infra.bundling import (
    UNUSED_DOCKER_IMAGE,
    CoreLayerBundling,
    StagedPackage,
    layer_asset_hash,
    refuse_to_deploy_source_only,
)
from infra.constants import (
    CORE_LAYER_ID,
    ENV_ARTIFACTS_BUCKET,
    ENV_AUDIT_TABLE,
    ENV_FLOWOPS_ENVIRONMENT,
    ENV_FLOWOPS_ORG,
    ENV_GENESYS_RATE_PER_MINUTE,
    ENV_GENESYS_RATE_SCOPE,
    ENV_GENESYS_REGION,
    ENV_GENESYS_SECRET_ID,
    ENV_POWERTOOLS_LOG_LEVEL,
    ENV_POWERTOOLS_METRICS_NAMESPACE,
    ENV_POWERTOOLS_SERVICE_NAME,
    ENV_STATE_TABLE,
    FUNCTIONS_SOURCE_DIR,
    LAYER_MODE_BUNDLED,
    LAYER_SOURCE_DIR,
    POWERTOOLS_METRICS_NAMESPACE,
    POWERTOOLS_SERVICE_NAME,
    handler_module_path,
)
from infra.constructs.operations import data_removal_policy, log_retention
from infra.constructs.storage import StorageConstruct
from infra.environment import EnvironmentConfig
from infra.nag import acknowledge, logical_id

RUNTIME = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE = lambda_.Architecture.ARM_64
_HANDLER = re.compile(r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)+$")
_FUNCTION_ID = re.compile(r"^[A-Z][A-Za-z0-9]{2,63}$")

Grant = Callable[[iam.IGrantable], Any]
"""A grant method bound to a resource, e.g. `storage.artifacts_bucket.grant_read`."""


def core_layer(
    scope: Construct, layer_mode: str, *, removal_policy: cdk.RemovalPolicy
) -> lambda_.LayerVersion:
    """The core layer, its asset hashed from its content; a source-only layer's stack refuses to deploy."""
    layer = lambda_.LayerVersion(
        scope,
        CORE_LAYER_ID,
        code=lambda_.Code.from_asset(
            str(LAYER_SOURCE_DIR),
            bundling=cdk.BundlingOptions(
                image=UNUSED_DOCKER_IMAGE, local=CoreLayerBundling(LAYER_SOURCE_DIR, layer_mode)
            ),
            # The content's own hash (sources + uv.lock + mode), so a stale cdk.out asset or an
            # already-uploaded key is never mistaken for this layer.
            asset_hash=layer_asset_hash(LAYER_SOURCE_DIR, layer_mode),
            asset_hash_type=cdk.AssetHashType.CUSTOM,
        ),
        compatible_runtimes=[RUNTIME],
        compatible_architectures=[ARCHITECTURE],
        description="flowops core package (layers/flowops) and its runtime dependencies",
        removal_policy=removal_policy,
    )
    if layer_mode != LAYER_MODE_BUNDLED:
        refuse_to_deploy_source_only(cdk.Stack.of(scope))
    return layer


class FunctionsConstruct(Construct):
    """Holds the shared code asset and layer; `add_function` defines each Lambda."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        storage: StorageConstruct,
        layer_mode: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self._storage = storage
        self.functions: dict[str, lambda_.Function] = {}

        # ONE asset for every function: the handlers staged as `flowops/functions/…` (no
        # flowops/__init__.py: the layer's `flowops` extends its path over it), so handler paths
        # stay `flowops.functions.<area>.<step>.handler` inside Lambda too.
        self.code = lambda_.Code.from_asset(
            str(FUNCTIONS_SOURCE_DIR),
            bundling=cdk.BundlingOptions(
                image=UNUSED_DOCKER_IMAGE, local=StagedPackage(FUNCTIONS_SOURCE_DIR, under="flowops")
            ),
        )
        self.core_layer = core_layer(self, layer_mode, removal_policy=data_removal_policy(config))
        self.genesys_secret = secretsmanager.Secret.from_secret_name_v2(
            self, "GenesysSecret", config.genesys_secret_name
        )

    def base_environment(self) -> dict[str, str]:
        """The reserved variables every function gets (docs/DEVELOPING.md)."""
        storage = self._storage
        return {
            ENV_GENESYS_REGION: self._config.genesys_region,
            ENV_GENESYS_SECRET_ID: self._config.genesys_secret_name,
            ENV_FLOWOPS_ORG: self._config.org_key,
            ENV_FLOWOPS_ENVIRONMENT: self._config.name,
            ENV_ARTIFACTS_BUCKET: storage.artifacts_bucket.bucket_name,
            ENV_STATE_TABLE: storage.state_table.table_name,
            ENV_AUDIT_TABLE: storage.audit_table.table_name,
            ENV_POWERTOOLS_SERVICE_NAME: POWERTOOLS_SERVICE_NAME,
            ENV_POWERTOOLS_METRICS_NAMESPACE: POWERTOOLS_METRICS_NAMESPACE,
            ENV_POWERTOOLS_LOG_LEVEL: "INFO",
            # Off: handlers build no X-Ray tracer (flowops.observability), saving its cold start.
            "POWERTOOLS_TRACE_DISABLED": "false" if self._config.tracing else "true",
        }

    def add_function(
        self,
        function_id: str,
        *,
        handler: str,
        grants: Sequence[Grant] = (),
        calls_genesys: bool = False,
        timeout: cdk.Duration | None = None,
        memory_size: int = 512,
        environment: Mapping[str, str] | None = None,
        description: str | None = None,
    ) -> lambda_.Function:
        """Define one Lambda running `handler` (a dotted path) with exactly the given permissions."""
        if not _FUNCTION_ID.match(function_id):
            raise ValueError(f"function id {function_id!r} must be PascalCase, e.g. 'CheckDependencyIndex'")
        if function_id in self.functions:
            raise ValueError(f"function {function_id!r} is defined twice")
        if not _HANDLER.match(handler) or not handler_module_path(handler).is_file():
            raise ValueError(
                f"handler {handler!r} must be a dotted path to a function in an existing module "
                f"(looked for {handler_module_path(handler)})"
            )
        reserved = set(self.base_environment()) | set(self.genesys_environment())
        if environment and reserved & set(environment):
            raise ValueError(f"{function_id}: {sorted(reserved & set(environment))} are set by the construct")

        log_group = logs.LogGroup(
            self,
            f"{function_id}Logs",
            retention=log_retention(self._config),
            removal_policy=data_removal_policy(self._config),
        )
        function = lambda_.Function(
            self,
            function_id,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            code=self.code,
            handler=handler,
            layers=[self.core_layer],
            timeout=timeout or cdk.Duration.seconds(60),
            memory_size=memory_size,
            tracing=lambda_.Tracing.ACTIVE if self._config.tracing else lambda_.Tracing.DISABLED,
            log_group=log_group,
            environment={
                **self.base_environment(),
                **(self.genesys_environment() if calls_genesys else {}),
                **(environment or {}),
            },
            description=description or f"flowops {handler}",
        )
        for grant in grants:
            grant(function)
        if calls_genesys:
            self._grant_genesys_access(function)
        self.functions[function_id] = function
        return function

    def genesys_environment(self) -> dict[str, str]:
        """How the org's Genesys budget is counted, for a function that calls Genesys."""
        rate_limit = self._config.genesys_rate_limit
        return {
            ENV_GENESYS_RATE_SCOPE: rate_limit.scope,
            ENV_GENESYS_RATE_PER_MINUTE: str(rate_limit.requests_per_minute),
        }

    def _grant_genesys_access(self, function: lambda_.Function) -> None:
        """Read the Genesys secret; with a shared budget, also reserve slots from the org's ONE
        schedule item (`dynamodb:LeadingKeys` pinned to it: no other item of the state table)."""
        self.genesys_secret.grant_read(function)
        if self._config.genesys_rate_limit.shared:
            iam.Grant.add_to_principal(
                grantee=function,
                actions=["dynamodb:UpdateItem"],
                resource_arns=[self._storage.state_table.table_arn],
                conditions={
                    "ForAllValues:StringEquals": {
                        "dynamodb:LeadingKeys": [rate_schedule_partition(self._config.org_key)]
                    }
                },
            )

    def acknowledge_findings(self) -> None:
        """Acknowledge, per function, the cdk-nag findings its OWN policy raises, each with its
        reason. Call it once every grant is made (the stack does, last): a finding is acknowledged
        only on a function whose policy has it (X-Ray's `*` only where tracing is on, the bucket's
        object wildcard and CDK's action groups only where the function has that grant)."""
        for function in self.functions.values():
            self._acknowledge_findings(function)

    def _policy_statements(self, function: lambda_.Function) -> list[dict[str, Any]]:
        policy = function.role.node.try_find_child("DefaultPolicy") if function.role is not None else None
        if not isinstance(policy, iam.Policy):
            return []
        document = cdk.Stack.of(function).resolve(policy.document.to_json())
        return list(document.get("Statement", [])) if isinstance(document, dict) else []

    def _acknowledge_findings(self, function: lambda_.Function) -> None:
        acknowledge(
            function,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
            "The AWS managed basic execution policy only allows writing this function's CloudWatch logs.",
        )
        acknowledge(
            function,
            "AwsSolutions-L1",
            "flowops pins python3.12: the core layer ships cp312 manylinux2014 aarch64 wheels, and a runtime "
            "upgrade is a deliberate, tested change rather than a default.",
        )
        statements = self._policy_statements(function)
        actions = {
            str(action)
            for statement in statements
            for action in (
                statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            )
        }
        if {"xray:PutTraceSegments", "xray:PutTelemetryRecords"} & actions:
            acknowledge(
                function,
                "AwsSolutions-IAM5[Resource::*]",
                "X-Ray PutTraceSegments/PutTelemetryRecords do not support resource-level permissions.",
            )
        bucket = logical_id(self._storage.artifacts_bucket)
        whole_bucket = {"Fn::Join": ["", [{"Fn::GetAtt": [bucket, "Arn"]}, "/*"]]}
        if any(
            whole_bucket
            in (s.get("Resource") if isinstance(s.get("Resource"), list) else [s.get("Resource")])
            for s in statements
        ):
            acknowledge(
                function,
                f"AwsSolutions-IAM5[Resource::<{bucket}.Arn>/*]",
                "Object-level grants on the artifacts bucket: keys are content-addressed and created at run "
                "time, so they cannot be enumerated; the bucket itself is the boundary.",
            )
        for action in sorted(
            actions & {"s3:GetObject*", "s3:GetBucket*", "s3:List*", "s3:DeleteObject*", "s3:Abort*"}
        ):
            acknowledge(
                function,
                f"AwsSolutions-IAM5[Action::{action}]",
                "CDK's grant_read/grant_read_write action groups on the one artifacts bucket (scoped by "
                "resource to that bucket).",
            )
