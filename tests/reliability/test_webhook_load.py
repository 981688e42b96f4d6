"""Load on the webhook: 100 deliveries (20 distinct publishes, each delivered 5 times, shuffled)
from parallel senders start exactly 20 executions, and every repeat names its delivery's one.

Lambda runs concurrent invocations in separate processes ("containers"), each one request at a
time, all sharing DynamoDB and Step Functions. The test models that faithfully: every container
is a thread with its OWN `PublishWebhook`, built by the handler's factory from the handler's
settings, handling its share of deliveries one after another while the others run in parallel.
(The handler module itself holds a powertools resolver whose `current_event` is per process, so
calling `handler` from several threads of ONE process is not what Lambda does; the threaded local
webhook server therefore lets one request at a time into the function, see
tests/integration/local_webhook/test_server.py.)
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.integration.webhook.conftest import WebhookCloud, publish_document, webhook_cloud

__all__ = ["webhook_cloud"]  # the fixture, imported so pytest finds it here

pytestmark = pytest.mark.slow  # moto + fixture set-up alone take ~10 s on this machine

DISTINCT_PUBLISHES = 20
DELIVERIES_EACH = 5
CONTAINERS = 20


def deliveries_in_random_order(webhook_cloud: WebhookCloud) -> tuple[dict[str, dict[str, Any]], list[str]]:
    events = {
        f"delivery-{index:02d}": webhook_cloud.signed_event(
            publish_document(reason=f"release {index}", version=f"{index + 3}.0"),
            delivery_id=f"delivery-{index:02d}",
        )
        for index in range(DISTINCT_PUBLISHES)
    }
    order = [delivery for delivery in events for _ in range(DELIVERIES_EACH)]
    random.Random(14).shuffle(order)
    return events, order


def test_a_hundred_parallel_deliveries_of_twenty_publishes_start_exactly_twenty_executions(
    webhook_cloud: WebhookCloud,
) -> None:
    from aws_lambda_powertools.utilities.data_classes.api_gateway_proxy_event import APIGatewayProxyEvent

    from flowops.functions.webhook.api import raw_body
    from flowops.webhook.factory import build_publish_webhook
    from flowops.webhook.settings import WebhookSettings

    # Given 20 different signed publish requests, each delivered 5 times, shuffled over 20 containers
    events, order = deliveries_in_random_order(webhook_cloud)
    shares = [order[index::CONTAINERS] for index in range(CONTAINERS)]

    # When every container accepts its deliveries one by one, all containers at once
    def container(deliveries: list[str]) -> list[tuple[str, dict[str, Any]]]:
        webhook = build_publish_webhook(WebhookSettings())  # type: ignore[call-arg]
        answers = []
        for delivery_id in deliveries:
            event = APIGatewayProxyEvent(events[delivery_id])
            accepted = webhook.accept(raw_body(event), dict(event.headers or {}))
            answers.append((delivery_id, json.loads(accepted.model_dump_json(by_alias=True))))
        return answers

    with ThreadPoolExecutor(max_workers=CONTAINERS) as pool:
        answers = [answer for share in pool.map(container, shares) for answer in share]

    # Then all 100 were accepted, and the repeats of one delivery all name one execution,
    # started by exactly one of them
    assert len(answers) == DISTINCT_PUBLISHES * DELIVERIES_EACH
    by_delivery: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for delivery_id, body in answers:
        by_delivery[delivery_id].append(body)
    for delivery_id, bodies in by_delivery.items():
        assert len({body["executionArn"] for body in bodies}) == 1, delivery_id
        assert sum(not body["replayed"] for body in bodies) == 1, delivery_id
        assert delivery_id in bodies[0]["executionName"], (delivery_id, bodies[0])
    # and Step Functions holds exactly 20 executions, one per distinct publish
    started = {body["executionArn"] for bodies in by_delivery.values() for body in bodies}
    assert len(started) == DISTINCT_PUBLISHES
    assert {execution["executionArn"] for execution in webhook_cloud.executions()} == started
