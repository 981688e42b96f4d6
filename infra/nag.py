"""cdk-nag (v3: CDK policy-validation plugin) wiring and the one acknowledgment helper.

Acknowledgments are made next to the resource they concern, each with its justification.
"""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct


def apply_aws_solutions_checks(app: cdk.App) -> None:
    """Register the AwsSolutions pack; call it BEFORE adding stacks (plugins apply to later constructs)."""
    # write_suppressions_to_cloud_formation keeps the acknowledgments visible in the template
    # (Metadata.cdk_nag), where reviewers and other tooling can read the justifications.
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True))


def acknowledge(construct: IConstruct, rule_id: str, reason: str) -> None:
    """Accept one cdk-nag finding on `construct` (and its children) for a stated reason."""
    if len(reason) < 20:
        raise ValueError(f"acknowledging {rule_id} needs a real justification, got {reason!r}")
    # The validation report names findings `<plugin>::<rule>[<finding>]`.
    plugin, _, _ = rule_id.partition("-")
    qualified = rule_id if "::" in rule_id else f"{plugin}::{rule_id}"
    cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=qualified, reason=reason))


def logical_id(construct: IConstruct) -> str:
    """The CloudFormation logical id of an L2 construct's default L1 resource."""
    default_child = construct.node.default_child
    if not isinstance(default_child, cdk.CfnElement):
        raise TypeError(f"{construct.node.path} has no CloudFormation resource as its default child")
    stack = cdk.Stack.of(construct)
    return str(stack.resolve(default_child.logical_id))
