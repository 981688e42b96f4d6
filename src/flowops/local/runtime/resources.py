"""Local physical names/ARNs for a synthesized template, and CloudFormation intrinsic resolution.

Every resource type that matters locally gets a deterministic physical name derived from the
stack name and logical id (or its explicit name property), so `Ref`/`Fn::GetAtt`/`Fn::Join`/
`Fn::Sub` in the template — above all in state machine `DefinitionString`s and function
environments — resolve to the resources LocalCloud actually creates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_CDK_HASH_SUFFIX = re.compile(r"[0-9A-F]{8}$")
_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


class TemplateResolutionError(ValueError):
    pass


@dataclass
class LocalResource:
    logical_id: str
    type: str
    properties: dict[str, Any]
    path: str
    """CDK construct path (metadata aws:cdk:path), e.g. `Flowops-dev/Storage/ArtifactsBucket/Resource`."""
    ref: str = ""
    attributes: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.attributes.get("Name", self.ref)

    @property
    def arn(self) -> str:
        return self.attributes.get("Arn", self.ref)

    def matches(self, query: str) -> bool:
        """Logical id, logical id without CDK's hash, a construct-path suffix, or the physical name."""
        construct_path = self.path.removesuffix("/Resource")
        return query in {
            self.logical_id,
            _CDK_HASH_SUFFIX.sub("", self.logical_id),
            self.ref,
            self.name,
        } or construct_path.endswith("/" + query.strip("/"))


class LocalResources:
    def __init__(self, template: dict[str, Any], *, stack_name: str, region: str, account_id: str) -> None:
        self.stack_name = stack_name
        self.region = region
        self.account_id = account_id
        self.by_logical_id: dict[str, LocalResource] = {}
        for logical_id, spec in template.get("Resources", {}).items():
            resource = LocalResource(
                logical_id=logical_id,
                type=spec.get("Type", ""),
                properties=spec.get("Properties", {}) or {},
                path=str(spec.get("Metadata", {}).get("aws:cdk:path", logical_id)),
            )
            self._assign_identity(resource)
            self.by_logical_id[logical_id] = resource

    # -- lookups -----------------------------------------------------------------------------

    def of_type(self, resource_type: str) -> list[LocalResource]:
        return [resource for resource in self.by_logical_id.values() if resource.type == resource_type]

    def find(self, resource_type: str, query: str) -> LocalResource:
        candidates = [resource for resource in self.of_type(resource_type) if resource.matches(query)]
        if not candidates:
            # "ScanWorkflow" also finds "ScanWorkflow/StateMachine" when it is the only one there.
            candidates = [
                resource
                for resource in self.of_type(resource_type)
                if f"/{query.strip('/')}/" in resource.path
            ]
        if len(candidates) != 1:
            known = sorted(
                resource.path.removesuffix("/Resource") for resource in self.of_type(resource_type)
            )
            problem = "no" if not candidates else "more than one"
            raise KeyError(f"{problem} {resource_type} matches {query!r}; known: {known}")
        return candidates[0]

    def bucket(self, query: str) -> str:
        return self.find("AWS::S3::Bucket", query).ref

    def table(self, query: str) -> str:
        return self.find("AWS::DynamoDB::Table", query).ref

    def function(self, query: str) -> LocalResource:
        return self.find("AWS::Lambda::Function", query)

    def state_machine(self, query: str) -> LocalResource:
        return self.find("AWS::StepFunctions::StateMachine", query)

    # -- intrinsic functions -----------------------------------------------------------------

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((function, argument),) = value.items()
            if function == "Ref":
                return self._ref(argument)
            if function == "Fn::GetAtt":
                logical_id, attribute = argument.split(".", 1) if isinstance(argument, str) else argument
                return self._get_att(logical_id, attribute)
            if function == "Fn::Join":
                separator, parts = argument
                return separator.join(str(self.resolve(part)) for part in self.resolve(parts))
            if function == "Fn::Sub":
                return self._sub(argument)
            if function == "Fn::Select":
                index, items = argument
                return self.resolve(items)[int(self.resolve(index))]
            if function == "Fn::Split":
                separator, text = argument
                return str(self.resolve(text)).split(separator)
            if function.startswith("Fn::") or function == "Condition":
                raise TemplateResolutionError(f"{function} is not supported by the local runtime")
        return {key: self.resolve(item) for key, item in value.items()}

    def _ref(self, name: str) -> str:
        pseudo = {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": self.stack_name,
            "AWS::StackId": (
                f"arn:aws:cloudformation:{self.region}:{self.account_id}:stack/{self.stack_name}/local"
            ),
            "AWS::NoValue": "",
        }
        if name in pseudo:
            return pseudo[name]
        resource = self.by_logical_id.get(name)
        if resource is None or not resource.ref:
            raise TemplateResolutionError(f"Ref to {name!r}, which the local runtime does not emulate")
        return resource.ref

    def _get_att(self, logical_id: str, attribute: str) -> str:
        resource = self.by_logical_id.get(logical_id)
        if resource is None or attribute not in resource.attributes:
            raise TemplateResolutionError(f"Fn::GetAtt {logical_id}.{attribute} is not emulated locally")
        return resource.attributes[attribute]

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        resolved_variables = {key: str(self.resolve(item)) for key, item in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in resolved_variables:
                return resolved_variables[name]
            if "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                return self._get_att(logical_id, attribute)
            return self._ref(name)

        return _SUB_VARIABLE.sub(replace, text)

    # -- identities --------------------------------------------------------------------------

    def _local_name(self, logical_id: str, max_length: int, lower: bool = False) -> str:
        name = f"{self.stack_name}-{logical_id}"
        name = name.lower() if lower else name
        return name[:max_length]

    def _assign_identity(self, resource: LocalResource) -> None:
        region, account = self.region, self.account_id
        props, logical_id = resource.properties, resource.logical_id

        def explicit(key: str) -> str | None:
            value = props.get(key)
            return value if isinstance(value, str) else None

        kind = resource.type
        if kind == "AWS::S3::Bucket":
            name = explicit("BucketName") or self._local_name(logical_id, 63, lower=True)
            resource.ref = name
            resource.attributes = {
                "Arn": f"arn:aws:s3:::{name}",
                "DomainName": f"{name}.s3.amazonaws.com",
                "RegionalDomainName": f"{name}.s3.{region}.amazonaws.com",
            }
        elif kind == "AWS::DynamoDB::Table":
            name = explicit("TableName") or self._local_name(logical_id, 255)
            resource.ref = name
            resource.attributes = {
                "Arn": f"arn:aws:dynamodb:{region}:{account}:table/{name}",
                "StreamArn": f"arn:aws:dynamodb:{region}:{account}:table/{name}/stream/local",
            }
        elif kind == "AWS::Lambda::Function":
            name = explicit("FunctionName") or self._local_name(logical_id, 64)
            resource.ref = name
            resource.attributes = {"Arn": f"arn:aws:lambda:{region}:{account}:function:{name}"}
        elif kind == "AWS::StepFunctions::StateMachine":
            name = explicit("StateMachineName") or self._local_name(logical_id, 80)
            arn = f"arn:aws:states:{region}:{account}:stateMachine:{name}"
            resource.ref = arn
            resource.attributes = {"Arn": arn, "Name": name}
        elif kind == "AWS::SQS::Queue":
            name = explicit("QueueName") or self._local_name(logical_id, 80)
            resource.ref = f"https://sqs.{region}.amazonaws.com/{account}/{name}"
            resource.attributes = {"Arn": f"arn:aws:sqs:{region}:{account}:{name}", "QueueName": name}
        elif kind == "AWS::SNS::Topic":
            name = explicit("TopicName") or self._local_name(logical_id, 256)
            arn = f"arn:aws:sns:{region}:{account}:{name}"
            resource.ref = arn
            resource.attributes = {"TopicName": name, "TopicArn": arn}
        elif kind == "AWS::IAM::Role":
            name = explicit("RoleName") or self._local_name(logical_id, 64)
            resource.ref = name
            resource.attributes = {
                "Arn": f"arn:aws:iam::{account}:role/{name}",
                "RoleId": f"AROA{logical_id[:16]}",
            }
        elif kind == "AWS::Lambda::LayerVersion":
            name = explicit("LayerName") or self._local_name(logical_id, 64)
            resource.ref = f"arn:aws:lambda:{region}:{account}:layer:{name}:1"
        elif kind == "AWS::Logs::LogGroup":
            name = explicit("LogGroupName") or f"/aws/local/{self._local_name(logical_id, 200)}"
            resource.ref = name
            resource.attributes = {"Arn": f"arn:aws:logs:{region}:{account}:log-group:{name}:*"}
        elif kind == "AWS::Events::Rule":
            name = explicit("Name") or self._local_name(logical_id, 64)
            resource.ref = name
            resource.attributes = {"Arn": f"arn:aws:events:{region}:{account}:rule/{name}"}
        elif kind == "AWS::SecretsManager::Secret":
            name = explicit("Name") or self._local_name(logical_id, 256)
            resource.ref = f"arn:aws:secretsmanager:{region}:{account}:secret:{name}-local"
            resource.attributes = {"Id": resource.ref}
