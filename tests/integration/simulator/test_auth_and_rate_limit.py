"""OAuth client credentials, bearer checks and the rate limit per token, OAuth client or org."""

from __future__ import annotations

import time

import pytest
import requests

from flowops.local.simulator.orgfile import parse_org_document
from tests.helpers.simulator import StartSimulator, bearer_session


def _token(
    url: str,
    client_id: str = "local",
    secret: str = "local",  # noqa: S107 - local default
    grant: str = "client_credentials",
) -> requests.Response:
    return requests.post(
        f"{url}/oauth/token", auth=(client_id, secret), data={"grant_type": grant}, timeout=10
    )


def test_client_credentials_grant_returns_a_bearer_token(start_simulator: StartSimulator) -> None:
    # Given a simulator with its own client credentials
    sim = start_simulator(client_id="ci-client", client_secret="s3cr3t", token_ttl_seconds=3600)
    # When the client asks for a token with HTTP Basic auth
    response = _token(sim.url, "ci-client", "s3cr3t")
    # Then it gets a bearer token that the API accepts
    body = response.json()
    assert response.status_code == 200
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    flows = requests.get(
        f"{sim.url}/api/v2/flows", headers={"Authorization": f"Bearer {body['access_token']}"}, timeout=10
    )
    assert flows.status_code == 200


def test_bad_credentials_and_bad_grant_get_login_host_errors(start_simulator: StartSimulator) -> None:
    # Given a simulator
    sim = start_simulator(flows=5)
    # When the secret is wrong, or the grant type is not client_credentials
    wrong_secret = _token(sim.url, secret="nope")
    wrong_grant = _token(sim.url, grant="password")
    # Then the login host answers with its own error body shape
    assert wrong_secret.status_code == 401
    assert wrong_secret.json()["error"] == "invalid_client"
    assert set(wrong_secret.json()) == {"error", "description", "error_description"}
    assert wrong_grant.status_code == 400
    assert wrong_grant.json()["error"] == "unsupported_grant_type"


def test_missing_unknown_and_expired_tokens_are_401(start_simulator: StartSimulator) -> None:
    # Given tokens that live 60 simulated seconds on a clock running x600 (0.1 s real)
    sim = start_simulator(flows=5, time_scale=600, token_ttl_seconds=60)
    session = bearer_session(sim)
    assert session.get(f"{sim.url}/api/v2/flows", timeout=10).status_code == 200
    # When calls come without a token, with an unknown one, and after expiry
    missing = requests.get(f"{sim.url}/api/v2/flows", timeout=10)
    unknown = requests.get(f"{sim.url}/api/v2/flows", headers={"Authorization": "Bearer forged"}, timeout=10)
    time.sleep(0.15)
    expired = session.get(f"{sim.url}/api/v2/flows", timeout=10)
    # Then each is a 401 with the Genesys error body
    assert missing.status_code == 401 and missing.json()["code"] == "authentication.required"
    assert unknown.status_code == 401 and unknown.json()["code"] == "bad.credentials"
    assert expired.status_code == 401 and expired.json()["code"] == "bad.credentials"
    assert set(expired.json()) == {
        "message",
        "code",
        "status",
        "messageParams",
        "contextId",
        "details",
        "errors",
    }


def test_every_api_response_carries_rate_limit_headers_and_the_limit_gives_429(
    start_simulator: StartSimulator,
) -> None:
    # Given a limit of 5 requests per (simulated) minute on a real-time clock
    sim = start_simulator(flows=5, time_scale=1, rate_limit_per_minute=5)
    session = bearer_session(sim)
    # When six requests are made with one token
    responses = [session.get(f"{sim.url}/api/v2/flows", timeout=10) for _ in range(6)]
    # Then the first five count up with the real headers, and the sixth is a 429 with Retry-After
    for position, response in enumerate(responses[:5], start=1):
        assert response.status_code == 200
        assert response.headers["inin-ratelimit-allowed"] == "5"
        assert response.headers["inin-ratelimit-count"] == str(position)
        assert 0 < int(response.headers["inin-ratelimit-reset"]) <= 60
        assert response.headers["inin-correlation-id"]
    limited = responses[5]
    assert limited.status_code == 429
    retry_after = int(limited.headers["Retry-After"])
    assert 0 < retry_after <= 60
    body = limited.json()
    assert body["code"] == "too.many.requests.retry.after"
    assert body["status"] == 429
    assert body["message"] == f"Rate limit exceeded the maximum. Retry the request in [{retry_after}] seconds"
    # in the normalized 429 shape Genesys announced (no messageParams; no inin-ratelimit-* shown)
    assert set(body) == {"message", "code", "status", "contextId", "details", "errors"}
    assert body["details"] == [] and body["errors"] == []
    assert body["contextId"] == limited.headers["inin-correlation-id"]
    assert "inin-ratelimit-count" not in limited.headers
    # And another token has its own budget
    assert bearer_session(sim).get(f"{sim.url}/api/v2/flows", timeout=10).status_code == 200


def test_rate_window_resets_in_simulated_time(start_simulator: StartSimulator) -> None:
    # Given a limit of 2 per minute on a clock running x60 (a minute is one real second)
    sim = start_simulator(flows=5, time_scale=60, rate_limit_per_minute=2)
    session = bearer_session(sim)
    statuses = [session.get(f"{sim.url}/api/v2/flows", timeout=10).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    # When the simulated minute has passed
    time.sleep(1.05)
    # Then the budget is back
    assert session.get(f"{sim.url}/api/v2/flows", timeout=10).status_code == 200


TWO_CLIENTS = {
    "flows": [],
    "oauthClients": [{"clientId": "other", "clientSecret": "other-secret", "permissions": "*"}],
}


@pytest.mark.parametrize(
    ("scope", "same_client_shares", "other_client_shares"),
    [("token", False, False), ("client", True, False), ("org", True, True)],
)
def test_the_rate_limit_scope_decides_which_requests_share_a_budget(
    start_simulator: StartSimulator, scope: str, same_client_shares: bool, other_client_shares: bool
) -> None:
    # Given a limit of 3 per minute counted per token, per OAuth client or per org
    sim = start_simulator(
        parse_org_document(TWO_CLIENTS), time_scale=1, rate_limit_per_minute=3, rate_limit_scope=scope
    )
    first = bearer_session(sim)
    # When one token uses up the budget
    assert [first.get(f"{sim.url}/api/v2/flows", timeout=10).status_code for _ in range(3)] == [200] * 3
    # Then a second token of the same client, and a token of another client, get a 429 exactly
    # when they share that budget
    second_token = bearer_session(sim).get(f"{sim.url}/api/v2/flows", timeout=10)
    other_client = bearer_session(sim, "other", "other-secret").get(f"{sim.url}/api/v2/flows", timeout=10)
    assert (second_token.status_code == 429) is same_client_shares
    assert (other_client.status_code == 429) is other_client_shares
    # and a request within a shared budget counts on from the others' count
    if same_client_shares:
        assert "Retry-After" in second_token.headers
    else:
        assert second_token.headers["inin-ratelimit-count"] == "1"


def test_an_unknown_rate_limit_scope_is_refused(start_simulator: StartSimulator) -> None:
    with pytest.raises(ValueError, match="rate limit scope 'tenant' is not one of token, client, org"):
        start_simulator(flows=1, rate_limit_scope="tenant")
