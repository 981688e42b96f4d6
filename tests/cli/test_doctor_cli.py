"""`flowops doctor` against the simulator and the local cloud, and with a client that lacks rights."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from flowops.cli import app, exit_codes
from flowops.cli.doctor import PERMISSION_PROBES, WRITE_PERMISSIONS, GenesysTarget, genesys_checks
from flowops.genesys.errors import ForbiddenError, NotFoundError
from flowops.genesys.models import DependencyStatus, ExecutionDataSettings
from flowops.genesys.permissions import role_permissions
from flowops.local.runtime.cloud import LOCAL_GENESYS_CREDENTIALS


def _point_at(monkeypatch: pytest.MonkeyPatch, cloud: Any, base_url: str) -> None:
    monkeypatch.setenv("GENESYS_BASE_URL", base_url)
    monkeypatch.setenv(
        "GENESYS_SECRET_ID", cloud.function_environment("CheckDependencyIndex")["GENESYS_SECRET_ID"]
    )


def _checks(result: Any) -> dict[str, dict[str, Any]]:
    return {check["name"]: check for check in json.loads(result.stdout)["checks"]}


def test_a_healthy_configuration_passes_every_check(
    cli_cloud: Any, start_simulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the simulator (execution data on) holding the credentials the stack's secret names
    client_id, client_secret = LOCAL_GENESYS_CREDENTIALS
    simulator = start_simulator(flows=10, client_id=client_id, client_secret=client_secret)
    simulator.org.execution_data_enabled = True
    _point_at(monkeypatch, cli_cloud, simulator.url)

    # When doctor runs
    result = CliRunner().invoke(app, ["doctor", "--json"])

    # Then every check passes (writes are listed, not probed) and the exit code is 0
    assert result.exit_code == exit_codes.OK, result.output
    checks = _checks(result)
    assert json.loads(result.stdout)["ok"] is True
    for probe, _ in PERMISSION_PROBES:
        assert checks[f"Permission {probe.permission}"]["status"] == "pass"
    assert checks["Credentials"]["status"] == "pass"
    assert checks["Dependency index"]["detail"].startswith("OPERATIONAL")
    assert checks["Execution data storage"]["status"] == "pass"
    assert checks["Write permissions"]["status"] == "skip"
    assert all(
        check["status"] == "pass" for name, check in checks.items() if name.startswith(("Artifacts", "State"))
    )


def test_wrong_credentials_fail_with_a_region_hint(
    cli_cloud: Any, start_simulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a simulator that knows another OAuth client than the one in the secret
    simulator = start_simulator(flows=5, client_id="someone-else", client_secret="other-secret")
    _point_at(monkeypatch, cli_cloud, simulator.url)

    # When doctor runs as text
    result = CliRunner().invoke(app, ["doctor"])

    # Then the credentials row fails with a hint about the secret and the region, exit code 1
    assert result.exit_code == exit_codes.FAILURE_FOUND, result.output
    assert "FAIL  Credentials" in result.stdout
    assert "region" in result.stdout.split("FAIL  Credentials")[1]
    assert "\x1b[" not in result.stdout  # no colours when not a terminal
    assert "other-secret" not in result.output and LOCAL_GENESYS_CREDENTIALS[1] not in result.output
    assert "Traceback" not in result.output


def test_unreachable_genesys_and_missing_stack_exit_3(
    no_cloud: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a Genesys URL nobody listens on and no stack
    monkeypatch.setenv("GENESYS_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("GENESYS_SECRET_ID", "flowops/genesys")

    # When doctor runs
    result = CliRunner().invoke(app, ["doctor", "--json"])

    # Then the stack row fails as unreachable and the exit code is 3
    assert result.exit_code == exit_codes.UNREACHABLE, result.output
    checks = _checks(result)
    assert checks["Stack"]["status"] == "fail" and "flowops local up" in checks["Stack"]["hint"]


def test_no_genesys_configuration_is_a_failed_check_with_a_hint(no_cloud: None) -> None:
    result = CliRunner().invoke(app, ["doctor", "--json"])
    checks = _checks(result)
    location = checks["Genesys location and credentials"]
    assert location["status"] == "fail" and "GENESYS_REGION" in location["hint"]
    assert "Traceback" not in result.output


class LimitedClient:
    """A Genesys client whose OAuth role lacks some permissions (403 naming them)."""

    def __init__(self, forbidden: set[str], index: str = "OPERATIONAL", execution_data: bool = True) -> None:
        self.forbidden = forbidden
        self.index = index
        self.execution_data = execution_data

        class Tokens:
            def access_token(self) -> str:
                return "token"

        self.tokens = Tokens()

    def _guard(self, permission: str) -> None:
        if permission in self.forbidden:
            raise ForbiddenError(
                f"Missing permission {permission}", missing_permission=permission, status=403
            )

    def list_flows_page(self, **_: Any) -> Any:
        self._guard("architect:flow:view")

    def get_dependency_tracking_status(self) -> DependencyStatus:
        self._guard("architect:dependencyTracking:view")
        return DependencyStatus.model_validate({"status": self.index, "failedObjects": []})

    def get_architect_job(self, _: str) -> Any:
        self._guard("architect:job:view")

    def get_export_job(self, _: str) -> Any:
        self._guard("architect:jobExport:view")

    def get_validate_job(self, _: str) -> Any:
        self._guard("architect:jobValidate:view")

    def list_actions_page(self, **_: Any) -> Any:
        self._guard("integrations:action:view")

    def get_execution_data_settings(self) -> ExecutionDataSettings:
        self._guard("architect:flowinstanceexecutiondata:view")
        return ExecutionDataSettings(enabled=self.execution_data)

    def query_flow_instances(self, *_: Any, **__: Any) -> Any:
        self._guard("architect:flowInstance:search")

    def get_execution_data_job(self, _: str) -> Any:
        self._guard("architect:flowInstance:view")

    def publish_flow(self, _: str) -> Any:
        self._guard("architect:flow:publish")
        raise NotFoundError("no such flow", status=404)

    def unlock_flow(self, _: str) -> Any:
        self._guard("architect:flow:unlock")
        raise NotFoundError("no such flow", status=404)

    def start_export_job(self, *_: Any) -> Any:
        self._guard("architect:jobExport:create")
        raise NotFoundError("no such flow", status=404)

    def start_validate_job(self, *_: Any) -> Any:
        self._guard("architect:jobValidate:create")
        raise NotFoundError("no such flow", status=404)

    def get_action_draft_validation(self, _: str) -> Any:
        self._guard("integrations:action:edit")
        raise NotFoundError("no such action", status=404)


def test_missing_permissions_are_named_one_row_each() -> None:
    # Given an OAuth client without dependency tracking and flow-instance search
    client = LimitedClient({"architect:dependencyTracking:view", "architect:flowInstance:search"})

    # When the Genesys checks run
    checks = {check.name: check for check in genesys_checks(GenesysTarget(description="t"), lambda _: client)}

    # Then exactly those two permissions fail, each naming itself and the fix
    failed = sorted(name for name, check in checks.items() if check.status == "fail")
    assert failed == [
        "Permission architect:dependencyTracking:view",
        "Permission architect:flowInstance:search",
    ]
    assert "add architect:flowInstance:search" in checks["Permission architect:flowInstance:search"].hint
    assert "needed by publish, trace" in checks["Permission architect:flowInstance:search"].detail
    # And the index status cannot be judged without its permission
    assert "Dependency index" not in checks


def test_index_not_operational_and_execution_data_off_fail_with_fixes() -> None:
    client = LimitedClient(set(), index="NOTBUILT", execution_data=False)
    checks = {check.name: check for check in genesys_checks(GenesysTarget(description="t"), lambda _: client)}
    assert (
        checks["Dependency index"].status == "fail"
        and "dependencytracking/build" in checks["Dependency index"].hint
    )
    assert checks["Execution data storage"].status == "fail"
    assert "republish" in checks["Execution data storage"].hint


def test_every_permission_of_the_role_is_probed_or_listed() -> None:
    # Given the OAuth role docs/deploy.md asks for (from the permission table)
    probed = {probe.permission for probe, _ in PERMISSION_PROBES}
    listed = {permission for permission, _ in WRITE_PERMISSIONS}
    # Then doctor reports on each of them, one row each, and on nothing else
    assert probed | listed == set(role_permissions())
    assert not probed & listed


def test_a_missing_optional_permission_warns_and_names_what_is_skipped() -> None:
    # Given a client without integrations:action:edit (data action draft validation)
    client = LimitedClient({"integrations:action:edit"})
    checks = {check.name: check for check in genesys_checks(GenesysTarget(description="t"), lambda _: client)}
    # Then its row warns (the run still works) and names the permission and the skipped check
    row = checks["Permission integrations:action:edit"]
    assert row.status == "warn"
    assert "integrations:action:edit" in row.detail and "draft" in row.detail
    assert not [name for name, check in checks.items() if check.status == "fail"]


def test_doctor_against_the_simulator_reports_each_missing_permission(start_simulator: Any) -> None:
    # Given a simulated org whose OAuth client holds the flowops role minus one required and one
    # optional permission
    from flowops.clock import ScaledClock
    from flowops.genesys import ClientCredentials, GenesysClient
    from flowops.local.simulator.access import OAuthClient

    simulator = start_simulator(flows=10)
    granted = set(role_permissions()) - {"architect:flow:unlock", "integrations:action:edit"}
    simulator.org.oauth_clients["ci"] = OAuthClient("ci", "ci-secret", "CI", frozenset(granted), None)
    simulator.org.execution_data_enabled = True

    def factory(_: GenesysTarget) -> GenesysClient:
        credentials = ClientCredentials(client_id="ci", client_secret="ci-secret")  # type: ignore[arg-type]
        return GenesysClient(credentials, base_url=simulator.url, clock=ScaledClock(60))

    # When the Genesys checks run against the real 403 bodies
    checks = {check.name: check for check in genesys_checks(GenesysTarget(description="sim"), factory)}

    # Then the required one fails and the optional one warns, each naming itself; the rest pass
    unlock = checks["Permission architect:flow:unlock"]
    assert unlock.status == "fail" and "architect:flow:unlock" in unlock.detail
    edit = checks["Permission integrations:action:edit"]
    assert edit.status == "warn" and "integrations:action:edit" in edit.detail
    others = [c for name, c in checks.items() if name.startswith("Permission ") and c not in (unlock, edit)]
    assert others and all(check.status == "pass" for check in others), [
        c for c in others if c.status != "pass"
    ]


def test_a_local_cloud_is_checked_with_the_secret_its_functions_use(
    cli_cloud: Any, start_simulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a local cloud (simulator + stack) whose functions read the Genesys secret it holds
    from flowops.cli import doctor
    from flowops.cli.local_cloud import CloudConnection

    client_id, client_secret = LOCAL_GENESYS_CREDENTIALS
    simulator = start_simulator(flows=5, client_id=client_id, client_secret=client_secret)
    environment = cli_cloud.function_environment("CheckDependencyIndex")
    connection = CloudConnection(
        region=cli_cloud.region,
        org=environment.get("FLOWOPS_ORG", "dev"),
        artifacts_bucket=environment["ARTIFACTS_BUCKET"],
        state_table=environment["STATE_TABLE"],
        audit_table=environment["AUDIT_TABLE"],
        genesys_base_url=simulator.url,
    )
    monkeypatch.setattr("flowops.cli.local_cloud.connect", lambda *_: connection)
    right = _checks(CliRunner().invoke(app, ["doctor", "--json"]))

    # When someone puts a wrong client secret into that secret
    cli_cloud.client("secretsmanager").put_secret_value(
        SecretId=environment["GENESYS_SECRET_ID"],
        SecretString=json.dumps({"client_id": client_id, "client_secret": "not-the-secret"}),
    )
    result = CliRunner().invoke(app, ["doctor", "--json"])

    # Then doctor fails the credentials (as every scan would), not PASS with a built-in pair
    assert right["Credentials"]["status"] == "pass"
    wrong = _checks(result)
    assert wrong["Credentials"]["status"] == "fail", wrong["Credentials"]
    assert result.exit_code == exit_codes.PROBLEMS_FOUND
    assert "not-the-secret" not in result.output
    assert doctor.genesys_target(connection).secret_id == environment["GENESYS_SECRET_ID"]
