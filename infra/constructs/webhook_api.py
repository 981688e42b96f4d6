"""The CI-facing REST API: `POST /publish` → the webhook function → a publish execution, and
`POST /release` → the same function → a release execution (same signature, replay and claim).

Only the documented route exists (no proxy resource): anything else is answered by API
Gateway itself with 403 and never reaches the function. Authentication is the HMAC
signature the function checks (shared secret in Secrets Manager), so the method has no IAM or
Cognito authorizer. The body size limit is enforced by the function (API Gateway's own limit
is 10 MB); throttling and JSON access logs are on the stage.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from infra.constructs.functions import FunctionsConstruct
from infra.constructs.operations import api_gateway_account, data_removal_policy, log_retention
from infra.constructs.storage import StorageConstruct
from infra.constructs.workflow import grant_describe_executions
from infra.environment import EnvironmentConfig
from infra.nag import acknowledge, logical_id

# Every execution the webhook starts is named `publish-…` (flowops.webhook.replay.execution_name_for).
EXECUTION_PREFIX = "publish-"

PUBLISH_ROUTE = "publish"
RELEASE_ROUTE = "release"
MAX_BODY_BYTES = 256 * 1024
THROTTLE_RATE_PER_SECOND = 10  # CI pushes, not user traffic: a burst of merges at most
THROTTLE_BURST = 20
# Shorter than the webhook's claim lease (120 s): a claim outlives any invocation holding it.
FUNCTION_TIMEOUT = Duration.seconds(30)


class WebhookApiConstruct(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        storage: StorageConstruct,
        functions: FunctionsConstruct,
        publish_state_machine: sfn.IStateMachine,
        release_state_machine: sfn.IStateMachine,
    ) -> None:
        super().__init__(scope, construct_id)
        self._bucket = storage.artifacts_bucket
        secret = secretsmanager.Secret.from_secret_name_v2(self, "WebhookSecret", config.webhook_secret)
        self.function = functions.add_function(
            "PublishWebhook",
            handler="flowops.functions.webhook.api.handler",
            grants=[storage.state_table.grant_read_write_data],
            calls_genesys=False,
            timeout=FUNCTION_TIMEOUT,
            environment={
                "WEBHOOK_SECRET_ID": config.webhook_secret,
                "PUBLISH_STATE_MACHINE_ARN": publish_state_machine.state_machine_arn,
                "RELEASE_STATE_MACHINE_ARN": release_state_machine.state_machine_arn,
                "WEBHOOK_MAX_BODY_BYTES": str(MAX_BODY_BYTES),
            },
            description="flowops: signed CI webhook that starts publish executions",
        )
        secret.grant_read(self.function)
        publish_state_machine.grant_start_execution(self.function)
        release_state_machine.grant_start_execution(self.function)
        # Only when a name is taken: is that execution this delivery's, or an earlier use's?
        self._describe_executions = [
            grant_describe_executions(self.function, machine, EXECUTION_PREFIX)
            for machine in (publish_state_machine, release_state_machine)
        ]
        # An inline release is stored as its bundle (content-addressed, immutable) before it starts.
        storage.artifacts_bucket.grant_read(self.function, "releases/*/bundles/*")
        storage.artifacts_bucket.grant_put(self.function, "releases/*/bundles/*")
        # The lock (to resolve flow names) and per-environment substitutions: read-only, two prefixes.
        storage.artifacts_bucket.grant_read(self.function, "locks/*")
        storage.artifacts_bucket.grant_read(self.function, "config/*")

        access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=log_retention(config),
            removal_policy=data_removal_policy(config),
        )
        self.api = apigw.RestApi(
            self,
            "Api",
            rest_api_name=f"flowops-{config.name}-webhook",
            description="flowops: POST /publish (HMAC-signed by the CI)",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            # The account-level CloudWatch role is `api_gateway_account`'s, retained on destroy.
            cloud_watch_role=False,
            deploy_options=apigw.StageOptions(
                stage_name="v1",
                throttling_rate_limit=THROTTLE_RATE_PER_SECOND,
                throttling_burst_limit=THROTTLE_BURST,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=False,
                ),
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,  # bodies carry flow YAML: never log them
                tracing_enabled=config.tracing,
            ),
        )
        self.api_gateway_account = api_gateway_account(self)
        self.api.deployment_stage.node.add_dependency(self.api_gateway_account)
        # No API Gateway request validation: a missing signature must be the function's 401 (not a
        # gateway 400), and the body is validated strictly by the function after the HMAC check.
        for route in (PUBLISH_ROUTE, RELEASE_ROUTE):
            self.api.root.add_resource(route).add_method(
                "POST",
                apigw.LambdaIntegration(self.function, proxy=True),
                authorization_type=apigw.AuthorizationType.NONE,
            )
        self.web_acl = self._per_client_rate_limit(config)
        self._acknowledge_findings()

    def _per_client_rate_limit(self, config: EnvironmentConfig) -> wafv2.CfnWebACL:
        """A WAF rate rule per source IP: junk traffic from one client is blocked at the edge while
        the stage-wide throttle (THROTTLE_*) keeps room for the CI's deliveries."""
        web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_waf_visibility(f"flowops-{config.name}-webhook"),
            rules=[
                wafv2.CfnWebACL.RuleProperty(
                    name="RequestsPerClient",
                    priority=0,
                    action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                            aggregate_key_type="IP",
                            limit=config.webhook_requests_per_client,
                            evaluation_window_sec=300,
                        )
                    ),
                    visibility_config=_waf_visibility(f"flowops-{config.name}-webhook-per-client"),
                )
            ],
        )
        wafv2.CfnWebACLAssociation(
            self,
            "WebAclAssociation",
            resource_arn=self.api.deployment_stage.stage_arn,
            web_acl_arn=web_acl.attr_arn,
        )
        return web_acl

    def _acknowledge_findings(self) -> None:
        for finding in self._describe_executions:
            acknowledge(
                self.function,
                finding,
                "DescribeExecution on the publish and release machines' webhook-started executions only "
                "(names are derived from delivery ids, unknown in advance); read-only.",
            )
        acknowledge(
            self.function,
            f"AwsSolutions-IAM5[Resource::<{logical_id(self._bucket)}.Arn>/releases/*/bundles/*]",
            "Release bundles are content-addressed under releases/<org>/bundles/: the webhook stores an "
            "inline release there and checks a referenced one exists; the prefix bounds it.",
        )
        for prefix in ("locks", "config"):
            acknowledge(
                self.function,
                f"AwsSolutions-IAM5[Resource::<{logical_id(self._bucket)}.Arn>/{prefix}/*]",
                f"Read-only access to the '{prefix}/' prefix of the artifacts bucket (the current lock, "
                "per-environment substitutions); the prefix bounds it.",
            )
        acknowledge(
            self.api,
            "AwsSolutions-APIG2",
            "The body is HMAC-verified and then validated strictly (pydantic, unknown fields refused) by "
            "the function; gateway validation would answer a missing signature with 400 instead of 401.",
        )
        acknowledge(
            self.api,
            "AwsSolutions-APIG4",
            "The webhook authenticates every request by its HMAC-SHA256 signature (shared secret in "
            "Secrets Manager, checked in constant time, replays refused); CI systems cannot sign with IAM.",
        )
        acknowledge(
            self.api,
            "AwsSolutions-COG4",
            "CI webhooks (GitHub, GitLab, Bitbucket) cannot present Cognito tokens; the HMAC signature is "
            "the authentication.",
        )


def _waf_visibility(metric_name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=metric_name, sampled_requests_enabled=True
    )


def webhook_url_output_value(api: apigw.RestApi) -> str:
    """The invoke URL of `POST /publish` (stack output for the CLI)."""
    return f"{api.url}{PUBLISH_ROUTE}"


__all__ = [
    "MAX_BODY_BYTES",
    "PUBLISH_ROUTE",
    "RELEASE_ROUTE",
    "WebhookApiConstruct",
    "webhook_url_output_value",
]
