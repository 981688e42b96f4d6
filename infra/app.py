"""CDK entry point (`python -m infra.app`, see cdk.json): one FlowopsStack per environment.

Context:
- `flowops:environments` (cdk.json): environments and their settings (infra/environment.py).
- `flowops:environment=<name>`: synthesize only that environment.
- `flowops:layer=bundled|source-only`: build the layer with Lambda wheels (default) or from source only.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk

from infra.constants import (
    CONTEXT_ENVIRONMENTS,
    CONTEXT_LAYER_MODE,
    CONTEXT_ONLY_ENVIRONMENT,
    LAYER_MODE_BUNDLED,
)
from infra.environment import EnvironmentConfig, parse_environments
from infra.nag import apply_aws_solutions_checks
from infra.stack import FlowopsStack


def selected_environments(app: cdk.App) -> list[EnvironmentConfig]:
    environments = parse_environments(app.node.try_get_context(CONTEXT_ENVIRONMENTS))
    only = app.node.try_get_context(CONTEXT_ONLY_ENVIRONMENT)
    if only:
        environments = [environment for environment in environments if environment.name == only]
        if not environments:
            raise ValueError(f"context {CONTEXT_ONLY_ENVIRONMENT}={only!r} names no environment in cdk.json")
    return environments


def build_stack(app: cdk.App, config: EnvironmentConfig, **stack_kwargs: Any) -> FlowopsStack:
    layer_mode = app.node.try_get_context(CONTEXT_LAYER_MODE) or LAYER_MODE_BUNDLED
    env = (
        cdk.Environment(account=config.account, region=config.region)
        if config.account or config.region
        else None
    )
    stack = FlowopsStack(
        app,
        config.stack_name,
        config=config,
        layer_mode=layer_mode,
        env=env,
        description=f"flowops release pipeline for Genesys Cloud Architect flows ({config.name})",
        **stack_kwargs,
    )
    cdk.Tags.of(stack).add("project", "flowops")
    cdk.Tags.of(stack).add("environment", config.name)
    return stack


def main() -> None:
    app = cdk.App()
    apply_aws_solutions_checks(app)
    for config in selected_environments(app):
        build_stack(app, config)
    app.synth()


if __name__ == "__main__":
    main()
