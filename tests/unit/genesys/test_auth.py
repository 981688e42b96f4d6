from __future__ import annotations

import base64
from urllib.parse import parse_qs

import pytest

from flowops.genesys import AuthenticationError, GenesysClient

from .fakes import CLIENT_ID, CLIENT_SECRET, FakeClock, FakeTransport, RecordedRequest, Reply, flow_json


def _bearer(request: RecordedRequest) -> str:
    return request.headers.get("Authorization", "").removeprefix("Bearer ")


def test_token_request_is_client_credentials_with_basic_auth(
    client: GenesysClient, transport: FakeTransport
) -> None:
    # Given an API that answers
    transport.reply("GET", "/api/v2/flows/f1", Reply(200, flow_json("f1")))
    # When the first call is made
    client.get_flow("f1")
    # Then a token was requested exactly as the platform expects
    (token_call,) = transport.calls("POST", "/oauth/token")
    expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert token_call.headers["Authorization"] == f"Basic {expected}"
    assert token_call.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(token_call.body.decode()) == {"grant_type": ["client_credentials"]}
    # And the API call carried the bearer token
    assert _bearer(transport.calls("GET", "/api/v2/flows/f1")[0]) == "token-1"


def test_token_is_cached_until_shortly_before_expiry(
    client: GenesysClient, transport: FakeTransport, clock: FakeClock
) -> None:
    # Given a token that lives one hour (refresh margin: 60 s)
    transport.reply("GET", "/api/v2/flows/f1", Reply(200, flow_json("f1")))
    client.get_flow("f1")
    # When calls continue until just before the margin
    clock.advance(3600 - 60 - 1)
    client.get_flow("f1")
    # Then the same token is reused
    assert transport.tokens_issued == 1
    # When the margin is reached
    clock.advance(1)
    client.get_flow("f1")
    # Then a new token is fetched
    assert transport.tokens_issued == 2
    assert _bearer(transport.calls("GET", "/api/v2/flows/f1")[-1]) == "token-2"


def test_short_lived_tokens_use_a_ten_percent_margin(clock: FakeClock) -> None:
    from .fakes import build_client

    transport = FakeTransport(token_lifetime=300)
    client = build_client(transport, clock)
    transport.reply("GET", "/api/v2/flows/f1", Reply(200, flow_json("f1")))
    client.get_flow("f1")
    clock.advance(269)
    client.get_flow("f1")
    assert transport.tokens_issued == 1
    clock.advance(1)
    client.get_flow("f1")
    assert transport.tokens_issued == 2


def test_401_from_the_api_reauthenticates_once_and_retries(
    client: GenesysClient, transport: FakeTransport
) -> None:
    # Given the API revokes the first token
    revoked = {"token-1"}

    def api(request: RecordedRequest) -> Reply:
        if _bearer(request) in revoked:
            return Reply(401, {"message": "Invalid token", "code": "bad.credentials", "status": 401})
        return Reply(200, flow_json("f1"))

    transport.route("GET", "/api/v2/flows/f1", api)
    # When a call is made
    flow = client.get_flow("f1")
    # Then the client fetched a second token and the retried call succeeded
    assert flow.id == "f1"
    assert transport.tokens_issued == 2
    assert [_bearer(r) for r in transport.calls("GET", "/api/v2/flows/f1")] == ["token-1", "token-2"]


def test_second_401_is_an_authentication_error(client: GenesysClient, transport: FakeTransport) -> None:
    transport.reply("GET", "/api/v2/flows/f1", Reply(401, {"message": "Invalid token", "status": 401}))
    with pytest.raises(AuthenticationError) as caught:
        client.get_flow("f1")
    assert "re-authenticating" in str(caught.value)
    assert caught.value.asl_error_name == "Genesys.Auth"
    assert len(transport.calls("GET", "/api/v2/flows/f1")) == 2
    assert transport.tokens_issued == 2


@pytest.mark.parametrize("status", [400, 401])
def test_bad_client_credentials_are_reported_as_such(
    client: GenesysClient, transport: FakeTransport, status: int
) -> None:
    # Given the token endpoint refuses the client
    transport.reply(
        "POST",
        "/oauth/token",
        Reply(
            status, {"error": "invalid_client", "description": "", "error_description": "client not found"}
        ),
    )
    # When any call is made
    with pytest.raises(AuthenticationError) as caught:
        client.get_flow("f1")
    # Then the error says "bad client credentials", names the client id, never the secret
    message = str(caught.value)
    assert "bad client credentials" in message
    assert CLIENT_ID in message and "invalid_client" in message and "client not found" in message
    assert CLIENT_SECRET not in message and CLIENT_SECRET not in repr(caught.value)
    assert transport.calls("GET", "/api/v2/flows/f1") == []


def test_token_endpoint_5xx_is_retried(client: GenesysClient, transport: FakeTransport) -> None:
    issued = iter([Reply(503, {"message": "busy"}), Reply(200, {"access_token": "t", "expires_in": 600})])
    transport.route("POST", "/oauth/token", lambda _: next(issued))
    transport.reply("GET", "/api/v2/flows/f1", Reply(200, flow_json("f1")))
    assert client.get_flow("f1").id == "f1"
    assert client.api_calls["POST /oauth/token"] == 2
