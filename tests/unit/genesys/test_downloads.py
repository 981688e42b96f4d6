"""Downloads follow Genesys' redirect to a signed URL, without ever sending the token there."""

from __future__ import annotations

import pytest

from flowops.genesys import GenesysClient, GenesysError
from flowops.genesys import client as client_module

from .fakes import BASE_URL, FakeTransport, Reply

SIGNED = "https://signed-storage.example/exports/d1.yaml?X-Amz-Signature=abc123&X-Amz-Expires=300"
YAML = "inboundCall:\n  name: Main\n"


def test_an_export_download_follows_the_redirect_without_the_genesys_token(
    client: GenesysClient, transport: FakeTransport
) -> None:
    # Given a Genesys download URL that redirects (303) to a signed URL on another host
    transport.reply("GET", "/api/v2/downloads/d1", Reply(303, None, {"Location": SIGNED}))
    transport.reply("GET", "/exports/d1.yaml", Reply(200, YAML, {"Content-Type": "application/x-yaml"}))
    # When the export is downloaded
    text = client.download_export(f"{BASE_URL}/api/v2/downloads/d1")
    # Then the real YAML comes back
    assert text == YAML
    # and the token went to the API host only, never to the signed host
    api_call = transport.calls("GET", "/api/v2/downloads/d1")[0]
    signed_call = transport.calls("GET", "/exports/d1.yaml")[0]
    assert api_call.headers["Authorization"].startswith("Bearer ")
    assert "Authorization" not in signed_call.headers
    assert signed_call.url == SIGNED
    # and the API call is counted as one, the storage call not at all
    assert client.api_calls["GET /api/v2/downloads/{downloadId}"] == 1
    assert "GET export download" not in client.api_calls


def test_a_relative_redirect_on_the_api_host_keeps_the_token_only_for_api_paths(
    client: GenesysClient, transport: FakeTransport
) -> None:
    transport.reply("GET", "/api/v2/downloads/d2", Reply(302, None, {"Location": "/__storage/d2?sig=x"}))
    transport.reply("GET", "/__storage/d2", Reply(200, YAML))
    assert client.download_export("/api/v2/downloads/d2") == YAML
    assert "Authorization" not in transport.calls("GET", "/__storage/d2")[0].headers


def test_redirect_loops_are_bounded(client: GenesysClient, transport: FakeTransport) -> None:
    # Given a download that redirects to itself
    transport.reply("GET", "/api/v2/downloads/loop", Reply(302, None, {"Location": "/api/v2/downloads/loop"}))
    # When downloaded
    with pytest.raises(GenesysError) as caught:
        client.download_export("/api/v2/downloads/loop")
    # Then it stops after the bound, naming the problem
    assert "redirects" in str(caught.value)
    assert len(transport.calls("GET", "/api/v2/downloads/loop")) == client_module.MAX_DOWNLOAD_REDIRECTS + 1


def test_a_redirect_to_plain_http_is_refused(client: GenesysClient, transport: FakeTransport) -> None:
    transport.reply(
        "GET", "/api/v2/downloads/d3", Reply(303, None, {"Location": "http://storage.example/d3"})
    )
    with pytest.raises(GenesysError) as caught:
        client.download_export("/api/v2/downloads/d3")
    assert "https" in str(caught.value)
    assert not transport.calls("GET", "/d3")


def test_an_oversized_download_is_refused(
    client: GenesysClient, transport: FakeTransport, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client_module, "MAX_DOWNLOAD_BYTES", 10)
    transport.reply("GET", "/exports/big.yaml", Reply(200, "x" * 11))
    with pytest.raises(GenesysError) as caught:
        client.download_export("https://signed-storage.example/exports/big.yaml?sig=1")
    assert "byte limit" in str(caught.value)


def test_a_refused_signed_url_never_leaks_its_signature(
    client: GenesysClient, transport: FakeTransport
) -> None:
    transport.reply("GET", "/api/v2/downloads/d4", Reply(303, None, {"Location": SIGNED}))
    transport.reply("GET", "/exports/d1.yaml", Reply(403, "<Error><Code>AccessDenied</Code></Error>"))
    with pytest.raises(GenesysError) as caught:
        client.download_export("/api/v2/downloads/d4")
    assert "abc123" not in str(caught.value) and "abc123" not in repr(caught.value)
