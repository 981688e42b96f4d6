"""One running local webhook endpoint for the whole package (starting a LocalCloud takes seconds)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.local_webhook.endpoint import WebhookEndpoint, running_webhook_endpoint


@pytest.fixture(scope="package")
def endpoint() -> Iterator[WebhookEndpoint]:
    with running_webhook_endpoint() as running:
        yield running
