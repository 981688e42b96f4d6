"""Environment settings from cdk.json (pure: no synthesis)."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from infra.constants import PROJECT_ROOT
from infra.environment import parse_environments


def test_cdk_json_declares_dev_test_prod_each_with_own_region_and_secret() -> None:
    raw = json.loads((PROJECT_ROOT / "cdk.json").read_text())["context"]["flowops:environments"]
    environments = {environment.name: environment for environment in parse_environments(raw)}
    assert set(environments) == {"dev", "test", "prod"}
    assert len({environment.genesys_secret_name for environment in environments.values()}) == 3
    assert environments["prod"].retain_data and not environments["dev"].retain_data
    assert environments["dev"].stack_name == "Flowops-dev"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"genesysRegion": "eu-west-1", "genesysSecretName": "s"}, "Genesys region key"),
        ({"genesysRegion": "eu_west_1", "genesysSecretName": "s", "scanSchedule": "hourly"}, "rate"),
        ({"genesysRegion": "eu_west_1", "genesysSecretName": "s", "logRetentionDays": 10}, "retention"),
        ({"genesysRegion": "eu_west_1"}, "genesysSecretName"),
    ],
)
def test_bad_environment_settings_are_rejected_clearly(settings: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_environments({"dev": settings})


def test_trace_delivery_is_configured_with_the_other_environment_settings() -> None:
    # Given one environment with a trace webhook and one without
    configured, default = parse_environments(
        {
            "prod": {
                "genesysRegion": "eu_central_1",
                "genesysSecretName": "flowops/prod/genesys",
                "traceWebhookUrl": "https://observability.example.com/hooks/flowops",
                "traceWebhookSecretName": "observability/flowops-signing",
            },
            "dev": {"genesysRegion": "eu_west_1", "genesysSecretName": "flowops/dev/genesys"},
        }
    )
    # Then the configured one delivers there with its own secret, and the other has no URL and
    # the conventional secret name
    assert configured.trace_webhook_url == "https://observability.example.com/hooks/flowops"
    assert configured.trace_webhook_secret == "observability/flowops-signing"
    assert default.trace_webhook_url is None
    assert default.trace_webhook_secret == "flowops/dev/trace-webhook"


def test_trace_webhook_must_be_https() -> None:
    with pytest.raises(ValidationError, match="traceWebhookUrl"):
        parse_environments(
            {
                "dev": {
                    "genesysRegion": "eu_west_1",
                    "genesysSecretName": "s",
                    "traceWebhookUrl": "http://observability.example.com/hooks",
                }
            }
        )


@pytest.mark.parametrize(
    ("settings", "placeholders"),
    [
        ({"alarmEmail": "oncall@example.com"}, ["oncall@example.com"]),
        ({"alarmWebhookUrl": "https://chat.example.org/hooks/x"}, ["https://chat.example.org/hooks/x"]),
        ({"traceWebhookUrl": "https://obs.corp.test/in"}, ["https://obs.corp.test/in"]),
        ({"alarmEmail": "oncall@acme-example.com"}, []),
        ({"alarmEmail": "oncall@acme.com", "alarmWebhookUrl": "https://chat.acme.com/h"}, []),
    ],
)
def test_destinations_on_domains_reserved_for_examples_are_placeholders(
    settings: dict[str, str], placeholders: list[str]
) -> None:
    (config,) = parse_environments(
        {"prod": {"genesysRegion": "eu_west_1", "genesysSecretName": "s", **settings}}
    )
    assert config.placeholder_destinations == placeholders
