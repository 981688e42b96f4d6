"""The synthesized dev stack: storage, functions and layer properties, and cdk-nag."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from tests.infra.conftest import SynthesizedApp

pytestmark = pytest.mark.slow  # one synthesis per session (~30-60 s on a busy 2-core machine)


@pytest.fixture(scope="module")
def template(synthesized_with_nag: SynthesizedApp) -> Template:
    return Template.from_json(synthesized_with_nag.template)


def _resources(raw: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {key: value for key, value in raw["Resources"].items() if value["Type"] == resource_type}


def test_artifacts_bucket_is_private_encrypted_versioned_and_logged(template: Template) -> None:
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "VersioningConfiguration": {"Status": "Enabled"},
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": Match.any_value()}}
                ]
            },
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "LoggingConfiguration": {
                "DestinationBucketName": Match.any_value(),
                "LogFilePrefix": "artifacts/",
            },
            "LifecycleConfiguration": {
                "Rules": Match.array_with(
                    [
                        Match.object_like(
                            {"NoncurrentVersionExpiration": {"NoncurrentDays": Match.any_value()}}
                        )
                    ]
                )
            },
        },
    )


def test_every_bucket_denies_insecure_transport(synthesized_with_nag: SynthesizedApp) -> None:
    raw = synthesized_with_nag.template
    buckets = _resources(raw, "AWS::S3::Bucket")
    policies = _resources(raw, "AWS::S3::BucketPolicy")
    protected = set()
    for policy in policies.values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false":
                assert statement["Effect"] == "Deny"
                protected.add(policy["Properties"]["Bucket"]["Ref"])
    assert protected == set(buckets)


def test_tables_have_pk_sk_pitr_and_audit_ttl(synthesized_with_nag: SynthesizedApp) -> None:
    tables = _resources(synthesized_with_nag.template, "AWS::DynamoDB::Table")
    assert len(tables) == 2
    for table in tables.values():
        properties = table["Properties"]
        assert [key["AttributeName"] for key in properties["KeySchema"]] == ["pk", "sk"]
        assert properties["BillingMode"] == "PAY_PER_REQUEST"
        assert properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
        assert properties["SSESpecification"]["SSEEnabled"] is True
        assert table["DeletionPolicy"] == "Delete"  # dev: DESTROY; prod RETAINs (see cdk.json)
    ttls = [t["Properties"].get("TimeToLiveSpecification") for t in tables.values()]
    assert {"AttributeName": "expires_at", "Enabled": True} in ttls


def test_functions_share_one_asset_and_layer_on_arm64_python312(synthesized_with_nag: SynthesizedApp) -> None:
    raw = synthesized_with_nag.template
    functions = {
        key: value
        for key, value in _resources(raw, "AWS::Lambda::Function").items()
        if value["Properties"].get("Runtime", "").startswith("python")
    }
    layers = _resources(raw, "AWS::Lambda::LayerVersion")
    assert len(layers) == 1
    (layer_id,) = layers
    assert layers[layer_id]["Properties"]["CompatibleArchitectures"] == ["arm64"]
    code_keys = set()
    for function in functions.values():
        properties = function["Properties"]
        assert properties["Runtime"] == "python3.12"
        assert properties["Architectures"] == ["arm64"]
        assert properties["TracingConfig"] == {"Mode": "Active"}
        assert properties["Handler"].startswith("flowops.functions.")
        assert properties["Layers"] == [{"Ref": layer_id}]
        variables = properties["Environment"]["Variables"]
        for name in (
            "GENESYS_REGION",
            "GENESYS_SECRET_ID",
            "FLOWOPS_ORG",
            "ARTIFACTS_BUCKET",
            "STATE_TABLE",
            "AUDIT_TABLE",
        ):
            assert name in variables, f"{properties['Handler']} lacks {name}"
        assert variables["GENESYS_SECRET_ID"] == "flowops/dev/genesys"  # a name, never a secret value
        assert "client_secret" not in str(variables).lower()
        code_keys.add(str(properties["Code"]["S3Key"]))
    assert len(code_keys) <= 1  # ONE code asset for all functions


def test_function_log_groups_have_retention(synthesized_with_nag: SynthesizedApp) -> None:
    raw = synthesized_with_nag.template
    groups = _resources(raw, "AWS::Logs::LogGroup")
    functions = _resources(raw, "AWS::Lambda::Function").values()
    function_groups = [function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"] for function in functions]
    assert function_groups
    assert all(groups[group]["Properties"]["RetentionInDays"] == 14 for group in function_groups)


def test_cdk_nag_has_no_unacknowledged_findings(synthesized_with_nag: SynthesizedApp) -> None:
    assert synthesized_with_nag.unacknowledged_findings == []
    assert all(len(line.split(": ", 1)[1]) >= 20 for line in synthesized_with_nag.acknowledged_findings)
