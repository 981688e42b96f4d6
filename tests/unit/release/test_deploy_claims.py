"""A release's per-flow deploy (publish or rollback) when an answer is lost or the step repeats:
the job is claimed before its upload, and a repeat polls it instead of deploying again (issue 12's
protections applied to releases)."""

from __future__ import annotations

from typing import Any

import pytest

from flowops.genesys.errors import GenesysUnavailableError, WriteOutcomeUnknownError
from flowops.genesys.models import ArchitectJobRegistration
from flowops.release.models import ReleaseTiming, RollbackItem, RunRef, WaveItem
from flowops.release.steps import ReleasePorts, start_flow_publish, start_flow_rollback
from tests.unit.publish.fakes import FakeGenesys
from tests.unit.scan.fakes import FakeArtifacts

RUN = RunRef(run_id="rel-1")
TIMING = ReleaseTiming()
ITEM = WaveItem(
    key="INBOUNDCALL/Main IVR", action="update", flow_id="f-main", yaml_key="releases/dev/yaml/a.yaml"
)
RESTORE = RollbackItem(
    key="INBOUNDCALL/Main IVR",
    action="redeploy",
    flow_id="f-main",
    snapshot_key="flows/dev/f-main/2.0.yaml",
    snapshot_version="2.0",
    live_version="3.0",
)


class UploadFails(FakeGenesys):
    """The first upload raises `error` (after applying the upload when `applied`)."""

    def __init__(self, error: Exception | None, *, applied: bool) -> None:
        super().__init__()
        self.error, self.applied, self.uploads = error, applied, 0

    def upload_architect_job_file(
        self, registration: ArchitectJobRegistration, flow_yaml: str | bytes
    ) -> None:
        self.uploads += 1
        error, self.error = self.error, None  # only the first upload fails
        if error is None or self.applied:
            super().upload_architect_job_file(registration, flow_yaml)
        if error is not None:
            raise error


def ports(genesys: FakeGenesys) -> tuple[ReleasePorts, FakeArtifacts]:
    artifacts = FakeArtifacts()
    artifacts.objects[ITEM.yaml_key] = b"inboundCall:\n  name: Main IVR\n"
    artifacts.objects[str(RESTORE.snapshot_key)] = b"inboundCall:\n  name: Main IVR\n"
    built = ReleasePorts(
        org="dev",
        environment="test",
        genesys=genesys,  # type: ignore[arg-type]
        artifacts=artifacts,  # type: ignore[arg-type]
        runs=None,  # type: ignore[arg-type]
        audit=None,  # type: ignore[arg-type]
        pointers=None,  # type: ignore[arg-type]
        leases=None,  # type: ignore[arg-type]
    )
    return built, artifacts


@pytest.mark.parametrize("start", ["publish", "rollback"])
def test_a_lost_upload_answer_adopts_the_job_and_a_retried_step_polls_it(start: str) -> None:
    # Given Genesys takes the upload but its answer is lost
    genesys = UploadFails(WriteOutcomeUnknownError("answer lost", status=None), applied=True)
    built, _ = ports(genesys)

    def deploy(now: float) -> Any:
        if start == "publish":
            return start_flow_publish(RUN, ITEM, TIMING, built, now=now)
        return start_flow_rollback(RUN, RESTORE, TIMING, built, now=now)

    # When the step runs, and Step Functions runs it again (a retry after a lost Lambda answer)
    first = deploy(100.0)
    again = deploy(130.0)
    # Then one job was registered and uploaded once; both attempts poll it, from the first start
    assert list(genesys.jobs) == ["job-1"] and genesys.uploads == 1
    assert (first.job_id, again.job_id) == ("job-1", "job-1")
    assert again.started_at == 100.0 and again.mode == "job"


def test_an_upload_refused_as_a_repeat_is_adopted() -> None:
    # Given the presigned URL refuses a second upload (403) because the first arrived
    genesys = UploadFails(WriteOutcomeUnknownError("refused", status=403), applied=True)
    built, _ = ports(genesys)
    progress = start_flow_publish(RUN, ITEM, TIMING, built, now=1.0)
    assert progress.job_id == "job-1" and genesys.uploads == 1


def test_an_upload_never_sent_is_forgotten_and_the_retry_deploys_once() -> None:
    # Given the upload certainly never left (no connection)
    genesys = UploadFails(GenesysUnavailableError("no connection", status=None), applied=False)
    built, _ = ports(genesys)
    with pytest.raises(GenesysUnavailableError):
        start_flow_publish(RUN, ITEM, TIMING, built, now=1.0)
    # When the step is retried: a new job, uploaded (the first, empty, expires changing nothing)
    progress = start_flow_publish(RUN, ITEM, TIMING, built, now=2.0)
    assert progress.job_id == "job-2" and genesys.uploads == 2
    assert genesys.jobs["job-2"].status == "Started"


def test_a_claimed_job_genesys_no_longer_knows_is_deployed_again() -> None:
    # Given an earlier attempt's job that Genesys answers 404 for (expired and purged)
    genesys = UploadFails(None, applied=True)
    built, _ = ports(genesys)
    start_flow_publish(RUN, ITEM, TIMING, built, now=1.0)
    del genesys.jobs["job-1"]
    # When the step repeats, it deploys again (nothing of the first job can still publish)
    again = start_flow_publish(RUN, ITEM, TIMING, built, now=2.0)
    assert genesys.uploads == 2 and again.started_at == 2.0


def test_publish_and_rollback_of_one_flow_claim_separately() -> None:
    genesys = FakeGenesys()
    built, _ = ports(genesys)
    published = start_flow_publish(RUN, ITEM, TIMING, built, now=1.0)
    restored = start_flow_rollback(RUN, RESTORE, TIMING, built, now=2.0)
    assert (published.job_id, restored.job_id) == ("job-1", "job-2")
