"""LocalCloud: the stack's resources in moto, its state machines executed with the real handlers.

    with LocalCloud(template=synth_template(), genesys_base_url=sim.base_url) as cloud:
        result = cloud.start_and_wait("ScanWorkflow", {"org": "dev"}, name="scan-1")

- Resources come from the synthesized template, never from a hand-kept list: S3 buckets,
  DynamoDB tables (keys, TTL), SQS queues, SNS topics, Lambda functions (handler + resolved env)
  and state machines (their `DefinitionString` with every intrinsic resolved to local ARNs),
  plus the Genesys secret the functions name (holding the simulator's credentials).
- Lambda invokes run the real handlers in-process (`flowops.local.runtime.lambdas`), concurrent ones
  side by side, each in an execution environment of its own (a warm worker thread with per-thread
  state: `flowops.local.runtime.environment`, `flowops.local.runtime.isolation`) within the
  function's reserved concurrency, killed at the function's timeout on its own clock (compute at
  real time, accelerated sleeps at their scaled length); Lambda's
  own failures reach Retry/Catch under Lambda's names (`flowops.local.runtime.lambda_errors`); every state's
  input and output is held to 256 KB (`flowops.local.runtime.state_limits`); child executions
  (`startExecution.sync:2`) run as in AWS (`flowops.local.runtime.nested_executions`); Wait/Retry
  delays are recorded, not slept (`flowops.local.runtime.delays`), and an execution times out at its
  `TimeoutSeconds` on the accelerated clock (FLOWOPS_TIME_SCALE between Lambda tasks, the
  functions' clocks during them, plus recorded delays).
- Executions emit Step Functions status-change events to EventBridge's default bus, whose rules
  are the template's `AWS::Events::Rule`s: matched, transformed and delivered to their targets
  (`flowops.local.runtime.eventbridge`, `flowops.local.runtime.execution_lifecycle`); `cloud.events.drain()`
  waits for the deliveries, `cloud.events.put_event(...)` sends any other event.
- While a LocalCloud runs, botocore's parsed service models are shared by every session of the
  process (`flowops.local.runtime.botocore_cache`): each handler call builds fresh sessions, which would
  otherwise re-read the models from disk.
- mode="in-process" (tests, the embedded CLI) uses `mock_aws`; mode="server" (`flowops local up`)
  runs `ThreadedMotoServer` on 127.0.0.1 and every client, including the handlers' boto3
  clients, talks to it through `endpoint_url`.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import threading
import uuid
import zipfile
from collections.abc import Mapping
from typing import Any, Literal
from unittest import mock

import boto3

from flowops.local.runtime import (
    botocore_cache,
    dynamodb_atomicity,
    environment,
    execution_lifecycle,
    lambda_errors,
    nested_executions,
    state_limits,
)
from flowops.local.runtime.delays import DelayRecorder
from flowops.local.runtime.eventbridge import EventDeliveryTimeoutError, LocalEventBus, rules_from_template
from flowops.local.runtime.execution import ExecutionResult, start_and_wait
from flowops.local.runtime.execution_lifecycle import ExecutionClocks
from flowops.local.runtime.lambdas import HandlerRunner, time_scale_of
from flowops.local.runtime.resources import LocalResource, LocalResources

DEFAULT_REGION = "eu-west-1"
DEFAULT_ACCOUNT = "123456789012"  # moto's default account
STOP_DRAIN_SECONDS = 30.0
LOCAL_GENESYS_CREDENTIALS = ("flowops-local-client", "flowops-local-secret")
MOTO_CONFIG: dict[str, Any] = {
    "stepfunctions": {"execute_state_machine": True},
    "lambda": {"use_docker": False},
}
_FAKE_AWS_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
_active_lock = threading.Lock()
_active: LocalCloud | None = None


class LocalCloudError(RuntimeError):
    pass


def _dummy_lambda_zip() -> bytes:
    # moto needs a code package; the real code runs in-process from the working tree.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "flowops local runtime: handlers run in-process\n")
    return buffer.getvalue()


class LocalCloud:
    def __init__(
        self,
        template: Mapping[str, Any] | None = None,
        *,
        stack_name: str = "Flowops-local",
        genesys_base_url: str | None = None,
        genesys_credentials: tuple[str, str] = LOCAL_GENESYS_CREDENTIALS,
        env_overrides: Mapping[str, str] | None = None,
        region: str = DEFAULT_REGION,
        mode: Literal["in-process", "server"] = "in-process",
        port: int = 0,
    ) -> None:
        if template is None:
            from flowops.local.runtime.synth import synth_template

            template = synth_template()
        self.template = dict(template)
        self.region = region
        self.account_id = DEFAULT_ACCOUNT
        self.mode = mode
        self.port = port
        self.endpoint_url: str | None = None
        self.genesys_credentials = genesys_credentials
        self.resources = LocalResources(
            self.template, stack_name=stack_name, region=region, account_id=DEFAULT_ACCOUNT
        )
        overrides = dict(env_overrides or {})
        if genesys_base_url:
            overrides["GENESYS_BASE_URL"] = genesys_base_url
        self.delays = DelayRecorder()
        self.runner = HandlerRunner(overrides)
        self.clocks = ExecutionClocks(
            self.delays.seconds_for, lambda: time_scale_of(self.runner.env_overrides)
        )
        self.delays.after_record = self.clocks.hold_if_expired
        self.runner.execution_clocks = self.clocks
        self.events = LocalEventBus(
            rules_from_template(self.resources), self._deliver, account_id=DEFAULT_ACCOUNT, region=region
        )
        self._mock: Any = None
        self._server: Any = None
        self._patches: list[Any] = []
        self._clients: dict[str, Any] = {}
        self._started = False
        self._botocore_cache_installed = False

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> LocalCloud:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> LocalCloud:
        global _active
        with _active_lock:
            if _active is not None:
                raise LocalCloudError("another LocalCloud is running in this process; stop it first")
            _active = self
        try:
            botocore_cache.install()
            self._botocore_cache_installed = True
            self._start_emulation()
            self.delays.start()
            lambda_errors.install()
            state_limits.install()
            nested_executions.install(self.delays.adopt)
            execution_lifecycle.install(
                emit=self.events.put_event,
                announce=self.events.announce,
                envelope=self.events.event,
                clocks=self.clocks,
            )
            self.runner.start()
            self._create_resources()
        except BaseException:
            self.stop()
            raise
        self._started = True
        return self

    def stop(self) -> None:
        global _active
        if self._started:
            # Deliveries run handlers that call moto: let them finish before moto goes away (a
            # handler outliving the mock would reach for real AWS).
            with contextlib.suppress(EventDeliveryTimeoutError):
                self.events.drain(timeout=STOP_DRAIN_SECONDS)
        self.runner.stop()
        execution_lifecycle.uninstall()
        lambda_errors.uninstall()
        state_limits.uninstall()
        nested_executions.uninstall()
        self.delays.stop()
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        while self._patches:
            self._patches.pop().stop()
        if self._started or _active is self:
            environment.uninstall()
        self._clients.clear()
        if self._botocore_cache_installed:
            botocore_cache.uninstall()
            self._botocore_cache_installed = False
        self._started = False
        with _active_lock:
            if _active is self:
                _active = None

    def _start_emulation(self) -> None:
        # Import moto (and patch its config) before anything creates boto3 clients.
        from moto.core.config import default_user_config

        environment.install()
        self._started = True  # so that stop() undoes install() even if what follows fails
        config_patch = mock.patch.dict(default_user_config, MOTO_CONFIG)
        config_patch.start()
        self._patches.append(config_patch)
        # Conditional writes must be atomic, as in DynamoDB (leases, delivery claims, pointers).
        self._patches.extend(dynamodb_atomicity.atomic_write_patches())
        if self.mode == "in-process":
            from moto import mock_aws

            self._mock = mock_aws(config=MOTO_CONFIG)  # type: ignore[arg-type]
            self._mock.start()
            return
        from moto.server import ThreadedMotoServer

        # One werkzeug access-log line per request drowns the CLI's own output.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)

        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.port = port
        self.endpoint_url = f"http://{host}:{port}"
        # moto's ASL interpreter calls services at localhost:$MOTO_PORT; handlers use AWS_ENDPOINT_URL.
        env_patch = mock.patch.dict(os.environ, {"MOTO_PORT": str(port), **_FAKE_AWS_CREDENTIALS})
        env_patch.start()
        self._patches.append(env_patch)
        self.runner.env_overrides.setdefault("AWS_ENDPOINT_URL", self.endpoint_url)

    # -- clients -----------------------------------------------------------------------------

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = boto3.client(
                service,  # type: ignore[call-overload]
                region_name=self.region,
                endpoint_url=self.endpoint_url,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
                aws_session_token="testing",
            )
        return self._clients[service]

    @property
    def s3(self) -> Any:
        return self.client("s3")

    @property
    def dynamodb(self) -> Any:
        return self.client("dynamodb")

    @property
    def sfn(self) -> Any:
        return self.client("stepfunctions")

    # -- queries -----------------------------------------------------------------------------

    def state_machine_arn(self, query: str) -> str:
        return self.resources.state_machine(query).arn

    def function_environment(self, query: str) -> dict[str, str]:
        """The environment the handler of function `query` sees when invoked (template + overrides)."""
        function = self.client("lambda").get_function(FunctionName=self.resources.function(query).name)
        variables = function["Configuration"].get("Environment", {}).get("Variables", {})
        return {**variables, **self.runner.env_overrides}

    def start_and_wait(
        self, state_machine: str, execution_input: Any, *, name: str | None = None, timeout: float = 60.0
    ) -> ExecutionResult:
        return start_and_wait(self, state_machine, execution_input, name=name, timeout=timeout)

    # -- EventBridge targets -----------------------------------------------------------------

    def _deliver(self, target_arn: str, payload: str) -> str | None:
        """Send `payload` to an EventBridge target as EventBridge would; the error text, if any."""
        parts = target_arn.split(":")
        service = parts[2] if len(parts) > 2 else ""
        if service == "lambda":
            answer = self.client("lambda").invoke(FunctionName=parts[6], Payload=payload.encode("utf-8"))
            if answer.get("FunctionError"):
                return f"{answer['FunctionError']}: {answer['Payload'].read().decode('utf-8', 'replace')}"
            return None
        if service == "states":
            # EventBridge names the execution itself (moto would collide unnamed starts).
            self.sfn.start_execution(stateMachineArn=target_arn, name=str(uuid.uuid4()), input=payload)
            return None
        if service == "sqs":
            url = self.client("sqs").get_queue_url(QueueName=parts[5])["QueueUrl"]
            self.client("sqs").send_message(QueueUrl=url, MessageBody=payload)
            return None
        if service == "sns":
            self.client("sns").publish(TopicArn=target_arn, Message=payload)
            return None
        return f"EventBridge target {target_arn} is not emulated locally"

    # -- resource creation -------------------------------------------------------------------

    def _create_resources(self) -> None:
        resolve = self.resources.resolve
        for bucket in self.resources.of_type("AWS::S3::Bucket"):
            self._create_bucket(bucket, resolve(bucket.properties))
        for table in self.resources.of_type("AWS::DynamoDB::Table"):
            self._create_table(table, resolve(table.properties))
        for queue in self.resources.of_type("AWS::SQS::Queue"):
            attributes = {"FifoQueue": "true"} if queue.properties.get("FifoQueue") else {}
            self.client("sqs").create_queue(QueueName=queue.attributes["QueueName"], Attributes=attributes)
        for topic in self.resources.of_type("AWS::SNS::Topic"):
            self.client("sns").create_topic(Name=topic.attributes["TopicName"])
        role_arn = self._create_execution_role()
        self._create_genesys_secret()
        for function in self.resources.of_type("AWS::Lambda::Function"):
            self._create_function(function, resolve(function.properties), role_arn)
        for machine in self.resources.of_type("AWS::StepFunctions::StateMachine"):
            self._create_state_machine(machine, role_arn)

    def _create_bucket(self, bucket: LocalResource, properties: dict[str, Any]) -> None:
        kwargs: dict[str, Any] = {"Bucket": bucket.ref}
        if self.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        self.s3.create_bucket(**kwargs)
        if properties.get("VersioningConfiguration", {}).get("Status") == "Enabled":
            self.s3.put_bucket_versioning(Bucket=bucket.ref, VersioningConfiguration={"Status": "Enabled"})

    def _create_table(self, table: LocalResource, properties: dict[str, Any]) -> None:
        kwargs: dict[str, Any] = {
            "TableName": table.ref,
            "KeySchema": properties["KeySchema"],
            "AttributeDefinitions": properties["AttributeDefinitions"],
            "BillingMode": properties.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if kwargs["BillingMode"] == "PROVISIONED":
            kwargs["ProvisionedThroughput"] = properties["ProvisionedThroughput"]
        for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            if properties.get(key):
                kwargs[key] = properties[key]
        self.dynamodb.create_table(**kwargs)
        ttl = properties.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            self.dynamodb.update_time_to_live(
                TableName=table.ref,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
            )

    def _create_execution_role(self) -> str:
        # One permissive local role: IAM is not enforced by moto; least privilege is checked in
        # tests/infra against the template instead.
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        role = self.client("iam").create_role(
            RoleName="flowops-local-execution", AssumeRolePolicyDocument=json.dumps(trust)
        )
        return str(role["Role"]["Arn"])

    def _genesys_secret_names(self) -> set[str]:
        names = set()
        for function in self.resources.of_type("AWS::Lambda::Function"):
            variables = function.properties.get("Environment", {}).get("Variables", {})
            if isinstance(variables.get("GENESYS_SECRET_ID"), str):
                names.add(variables["GENESYS_SECRET_ID"])
        secret_output = self.template.get("Outputs", {}).get("GenesysSecretName", {}).get("Value")
        if isinstance(secret_output, str):
            names.add(secret_output)
        return names

    def _create_genesys_secret(self) -> None:
        client_id, client_secret = self.genesys_credentials
        for name in sorted(self._genesys_secret_names()):
            self.client("secretsmanager").create_secret(
                Name=name, SecretString=json.dumps({"client_id": client_id, "client_secret": client_secret})
            )

    def _create_function(self, function: LocalResource, properties: dict[str, Any], role_arn: str) -> None:
        runtime = str(properties.get("Runtime", "python3.12"))
        if not runtime.startswith("python"):
            return  # e.g. CDK's Node.js custom-resource providers: never invoked by flowops workflows
        self.client("lambda").create_function(
            FunctionName=function.ref,
            Runtime=runtime,
            Role=role_arn,
            Handler=properties["Handler"],
            Code={"ZipFile": _dummy_lambda_zip()},
            Environment={
                "Variables": {
                    k: str(v) for k, v in properties.get("Environment", {}).get("Variables", {}).items()
                }
            },
            Timeout=int(properties.get("Timeout", 3)),
            MemorySize=int(properties.get("MemorySize", 128)),
            Architectures=properties.get("Architectures", ["arm64"]),
        )
        reserved = properties.get("ReservedConcurrentExecutions")
        if reserved is not None:
            # Enforced by the runner as Lambda enforces it (`flowops.local.runtime.lambdas`).
            self.client("lambda").put_function_concurrency(
                FunctionName=function.ref, ReservedConcurrentExecutions=int(reserved)
            )

    def _create_state_machine(self, machine: LocalResource, role_arn: str) -> None:
        properties = machine.properties
        if "DefinitionString" in properties:
            definition = str(self.resources.resolve(properties["DefinitionString"]))
        elif "Definition" in properties:
            definition = json.dumps(self.resources.resolve(properties["Definition"]))
        else:
            raise LocalCloudError(f"state machine {machine.logical_id} has no definition in the template")
        for key, value in (
            self.resources.resolve(properties.get("DefinitionSubstitutions", {})) or {}
        ).items():
            definition = definition.replace("${" + key + "}", str(value))
        self.sfn.create_state_machine(
            name=machine.name,
            definition=definition,
            roleArn=role_arn,
            type=str(properties.get("StateMachineType", "STANDARD")),
        )
