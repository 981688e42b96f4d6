"""OAuth client-credentials tokens, exactly as Genesys Cloud issues them.

`POST https://login.<domain>/oauth/token` with `Authorization: Basic base64(id:secret)` and
the form body `grant_type=client_credentials` answers `{access_token, token_type,
expires_in}`. The token is cached until shortly before it expires (a margin of
min(60 s, 10 % of its lifetime)), so a warm Lambda reuses it across invocations.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from flowops.clock import Clock
from flowops.genesys.credentials import ClientCredentials
from flowops.genesys.errors import AuthenticationError, GenesysError, error_from_response

TOKEN_OPERATION = "POST /oauth/token"  # noqa: S105 - an operation label, not a password
MAX_EXPIRY_MARGIN_SECONDS = 60.0


class OAuthToken(BaseModel):
    """The token endpoint's answer. The token itself is a SecretStr: never printed."""

    model_config = ConfigDict(extra="allow")

    access_token: SecretStr
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type name
    expires_in: float = Field(default=86400.0, gt=0)


@dataclass(frozen=True)
class TokenHttpResponse:
    """The part of an HTTP response the token provider needs (keeps it transport-agnostic)."""

    status: int
    body: bytes
    headers: Mapping[str, str]


# Sends the token request (with the caller's retry policy for 429/5xx/connection errors) and
# returns the final response, whatever its status.
TokenRequestSender = Callable[[str, Mapping[str, str], Mapping[str, str]], TokenHttpResponse]


def expiry_margin_seconds(expires_in: float) -> float:
    return min(MAX_EXPIRY_MARGIN_SECONDS, expires_in * 0.1)


def basic_authorization_header(credentials: ClientCredentials) -> str:
    pair = f"{credentials.client_id}:{credentials.client_secret.get_secret_value()}"
    return "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")


class TokenProvider:
    """Caches one access token; `invalidate()` after the API rejects it."""

    def __init__(
        self,
        credentials: ClientCredentials,
        *,
        token_url: str,
        send: TokenRequestSender,
        clock: Clock,
    ) -> None:
        self._credentials = credentials
        self._token_url = token_url
        self._send = send
        self._clock = clock
        self._lock = threading.Lock()
        self._token: SecretStr | None = None
        self._refresh_at = 0.0
        self.tokens_issued = 0

    def __repr__(self) -> str:
        return f"TokenProvider(client_id={self._credentials.client_id!r}, token_url={self._token_url!r})"

    def access_token(self) -> str:
        with self._lock:
            if self._token is None or self._clock.monotonic() >= self._refresh_at:
                self._fetch()
            assert self._token is not None
            return self._token.get_secret_value()

    def invalidate(self) -> None:
        with self._lock:
            self._token = None

    def _fetch(self) -> None:
        requested_at = self._clock.monotonic()
        response = self._send(
            self._token_url,
            {
                "Authorization": basic_authorization_header(self._credentials),
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
            {"grant_type": "client_credentials"},
        )
        if response.status in (400, 401):
            raise self._bad_credentials(response)
        if response.status >= 400:
            raise error_from_response(
                status=response.status,
                raw_body=response.body,
                headers=response.headers,
                operation=TOKEN_OPERATION,
            )
        try:
            token = OAuthToken.model_validate_json(response.body)
        except ValidationError as exc:
            fields = ", ".join(str(error["loc"][0]) for error in exc.errors() if error["loc"])
            raise GenesysError(
                f"the token endpoint answered HTTP {response.status} without a usable token "
                f"(problem with: {fields or 'body'})",
                status=response.status,
                operation=TOKEN_OPERATION,
            ) from None
        self._token = token.access_token
        self._refresh_at = requested_at + token.expires_in - expiry_margin_seconds(token.expires_in)
        self.tokens_issued += 1

    def _bad_credentials(self, response: TokenHttpResponse) -> AuthenticationError:
        reason = ""
        try:
            document = json.loads(response.body or b"{}")
        except ValueError:
            document = {}
        if isinstance(document, dict):
            parts = [
                str(document[key])
                for key in ("error", "error_description", "description")
                if document.get(key)
            ]
            reason = ": " + " - ".join(dict.fromkeys(parts)) if parts else ""
        return AuthenticationError(
            f"bad client credentials for OAuth client {self._credentials.client_id!r}{reason}; "
            "check the client id/secret in the Genesys secret and that the client uses the "
            "Client Credentials grant in this region",
            status=response.status,
            code=document.get("error") if isinstance(document, dict) else None,
            operation=TOKEN_OPERATION,
        )
