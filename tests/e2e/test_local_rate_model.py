"""A local cloud is as strict as the environment's real org: cdk.json's `genesysRateLimit` of the
environment it serves reaches both the simulator and the functions (docs/genesys-limits.md).

Here the environment counts its budget per OAuth client at 30 requests a simulated minute: the
simulator's tokens share that one budget, and the functions (a scan's concurrent pages, a publish
beside a scan) reserve their send slots from the org's one schedule item, so none of them meets a
429.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flowops.cli import local_cloud
from flowops.cli.local_cloud import EmbeddedCloud, EmbeddedCloudError, embedded_cloud
from flowops.local.packaged import cdk_context
from flowops.local.runtime.cloud import LOCAL_GENESYS_CREDENTIALS
from flowops.local.simulator.state import RATE_WINDOW_SECONDS
from flowops.partitions import rate_schedule_partition
from flowops.store.rate_schedule import SCHEDULE_SORT_KEY
from tests.e2e.publish_helpers import (
    ENVIRONMENT,
    ORG_DOCUMENT,
    PUBLISH_STATE_MACHINE,
    SCAN_STATE_MACHINE,
    TIME_SCALE,
    PublishWorld,
)
from tests.helpers.simulator import bearer_session

pytestmark = pytest.mark.slow

RATE_PER_MINUTE = 30
CLIENT_SCOPED = {"scope": "client", "requestsPerMinute": RATE_PER_MINUTE}
RATE_LIMITED = "429 rate limited"
FILLER_FLOWS = 40
FULL_SCAN = {"full": True, "page_size": 10}  # re-reads every flow, several pages per Map reader


def context_with(environment: str, rate_limit: Any) -> dict[str, Any]:
    context = copy.deepcopy(cdk_context())
    context["flowops:environments"][environment]["genesysRateLimit"] = rate_limit
    return context


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedCloud]:
    # Given cdk.json's test environment counting its Genesys budget per OAuth client, and an org
    # of the publish tests' flows plus enough others for several pages
    org = copy.deepcopy(ORG_DOCUMENT)
    org["flows"] += [
        {
            "id": f"f-filler-{number:02d}",
            "name": f"Filler {number:02d}",
            "type": "INBOUNDCALL",
            "publishedVersion": 1,
            "consumes": [{"id": "q-support", "type": "QUEUE"}],
        }
        for number in range(FILLER_FLOWS)
    ]
    org_file = tmp_path_factory.mktemp("org") / "org.json"
    org_file.write_text(json.dumps(org))
    context = context_with(ENVIRONMENT, CLIENT_SCOPED)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(local_cloud, "cdk_context", lambda: context)
        # When a local cloud serves that environment
        with embedded_cloud(org_file=org_file, environment=ENVIRONMENT, time_scale=TIME_SCALE) as embedded:
            yield embedded


def schedule_item(cloud: EmbeddedCloud) -> dict[str, Any] | None:
    item = cloud.cloud.dynamodb.get_item(
        TableName=cloud.connection.state_table,
        Key={"pk": {"S": rate_schedule_partition(cloud.connection.org)}, "sk": {"S": SCHEDULE_SORT_KEY}},
    ).get("Item")
    return dict(item) if item else None


def test_the_simulator_and_the_genesys_callers_are_told_the_environments_model(cloud: EmbeddedCloud) -> None:
    # Then the simulator counts per OAuth client at the configured rate
    settings = cloud.simulator.state.settings
    assert (settings.rate_limit_scope, settings.rate_limit_per_minute) == ("client", RATE_PER_MINUTE)
    # and every function that calls Genesys is told the same, none that does not
    for caller in (
        "ReadFlowPage",
        "ListFlowPages",
        "ValidatePublish",
        "QueryFlowInstances",
        "PrepareRelease",
    ):
        variables = cloud.cloud.function_environment(caller)
        assert (variables["GENESYS_RATE_SCOPE"], variables["GENESYS_RATE_PER_MINUTE"]) == ("client", "30"), (
            caller
        )
    for other in ("BuildLock", "RecordPublishFailure"):
        assert "GENESYS_RATE_SCOPE" not in cloud.cloud.function_environment(other), other


def test_a_scan_with_concurrent_pages_shares_the_schedule_and_meets_no_429(cloud: EmbeddedCloud) -> None:
    before = cloud.simulator.counters().get(RATE_LIMITED, 0)
    # When a full scan reads its pages four at a time
    result = cloud.cloud.start_and_wait(
        SCAN_STATE_MACHINE, FULL_SCAN, name=f"scan-{uuid.uuid4().hex[:8]}", timeout=300
    )
    # Then it succeeds with every flow, through several concurrent pages, without one 429
    assert result.status == "SUCCEEDED", result.cause
    assert sum(1 for event in result.events if event["type"] == "MapIterationStarted") >= 4
    assert cloud.simulator.counters().get(RATE_LIMITED, 0) == before
    # because its Genesys calls reserved their slots from the org's one schedule item
    assert schedule_item(cloud) is not None


def test_a_publish_beside_a_scan_shares_one_budget_and_meets_no_429(cloud: EmbeddedCloud) -> None:
    # Given a scanned org (the publish compares with its lock) and the environment's substitutions
    world = PublishWorld(cloud.simulator, cloud.cloud)
    world.put_substitutions()
    world.scan()
    before = cloud.simulator.counters().get(RATE_LIMITED, 0)
    slot_before = float(schedule_item(cloud)["next_slot_at"]["N"])  # type: ignore[index]
    # When a publish and a full scan (every flow re-read) run at the same time
    sfn = cloud.cloud.sfn
    scan = sfn.start_execution(
        stateMachineArn=cloud.cloud.state_machine_arn(SCAN_STATE_MACHINE),
        name=f"scan-{uuid.uuid4().hex[:8]}",
        input=json.dumps(FULL_SCAN),
    )["executionArn"]
    name = f"publish-{uuid.uuid4().hex[:8]}"
    publish = sfn.start_execution(
        stateMachineArn=cloud.cloud.state_machine_arn(PUBLISH_STATE_MACHINE),
        name=name,
        input=json.dumps(world.request(name)),
    )["executionArn"]
    from flowops.local.runtime.execution import wait_for_execution

    published = wait_for_execution(cloud.cloud, publish, timeout=300)
    scanned = wait_for_execution(cloud.cloud, scan, timeout=300)
    # Then both succeed, their runs overlapped, and neither met a 429 on the shared budget
    assert published.status == "SUCCEEDED", published.cause
    assert scanned.status == "SUCCEEDED", scanned.cause
    runs = [sfn.describe_execution(executionArn=arn) for arn in (scan, publish)]
    assert max(run["startDate"] for run in runs) < min(run["stopDate"] for run in runs)
    assert cloud.simulator.counters().get(RATE_LIMITED, 0) == before
    # and their calls moved the one schedule on
    assert float(schedule_item(cloud)["next_slot_at"]["N"]) > slot_before  # type: ignore[index]


def test_the_simulators_tokens_of_one_client_share_one_budget(
    cloud: EmbeddedCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"{cloud.simulator.url}/api/v2/flows"
    first, second = (bearer_session(cloud.simulator, *LOCAL_GENESYS_CREDENTIALS) for _ in range(2))
    # Given a rate window that stays open for the whole burst: the simulator's time stands still
    # (a simulated minute is 1 s of real time here, which a loaded machine may not fit 31 requests
    # in), and it starts a window of its own (the tests before may have opened the client's)
    state = cloud.simulator.state
    frozen = state.now() + RATE_WINDOW_SECONDS
    monkeypatch.setattr(state, "now", lambda: frozen)
    # When one token spends the client's budget
    statuses = [first.get(url, timeout=10).status_code for _ in range(RATE_PER_MINUTE + 1)]
    assert statuses[:RATE_PER_MINUTE] == [200] * RATE_PER_MINUTE and statuses[-1] == 429
    # Then the client's other token is refused with the normalized 429 too
    answer = second.get(url, timeout=10)
    assert answer.status_code == 429
    assert answer.json()["code"] == "too.many.requests.retry.after"
    assert int(answer.headers["Retry-After"]) >= 0


def test_a_malformed_rate_model_is_refused_before_anything_starts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Given an environment whose cdk.json entry names a scope Genesys has no budget for
    context = context_with(ENVIRONMENT, {"scope": "tenant"})
    monkeypatch.setattr(local_cloud, "cdk_context", lambda: context)
    # Then starting its local cloud is refused with a fixable usage error
    with pytest.raises(EmbeddedCloudError) as refused, embedded_cloud(flows=1, environment=ENVIRONMENT):
        pass
    assert refused.value.exit_code == 2
    assert "genesysRateLimit of environment 'test': scope 'tenant' is not one of token, client, org" in str(
        refused.value
    )
