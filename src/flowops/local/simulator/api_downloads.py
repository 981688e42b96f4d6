"""Downloads as Genesys serves them: an API URL that redirects to a signed storage URL.

- `GET /api/v2/downloads/{downloadId}` (DownloadsApi.get_download; bearer token, no
  permission): `303 See Other` to a signed URL on the STORAGE server (another port, standing
  for S3); `?issueRedirect=false` answers `{"url": ...}` (UrlResponse) instead.
- `GET /__sim/signed/{token}?X-Amz-...` on the storage server: checks the signature and its
  expiry (simulated time), and refuses a request that ALSO carries an `Authorization` header,
  as S3 does ("Only one auth mechanism allowed"): a client that forwards the Genesys token to
  the signed host fails here, exactly as it would against the real storage.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from urllib.parse import urlencode

from flowops.local.simulator.state import SimulatorState
from flowops.local.simulator.web import Request, Response, Route, not_found

SIGNED_URL_SECONDS = 300


def _signature(state: SimulatorState, token: str, expires_at: int) -> str:
    return hmac.new(state.signing_key, f"{token}:{expires_at}".encode(), hashlib.sha256).hexdigest()


def signed_url(state: SimulatorState, token: str) -> str:
    issued = int(state.now())
    expires_at = issued + SIGNED_URL_SECONDS
    query = urlencode(
        {
            "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
            "X-Amz-Date": datetime.fromtimestamp(issued, tz=UTC).strftime("%Y%m%dT%H%M%SZ"),
            "X-Amz-Expires": str(SIGNED_URL_SECONDS),
            "X-Amz-Expiry": str(expires_at),
            "X-Amz-Signature": _signature(state, token, expires_at),
        }
    )
    return f"{state.storage_url}/__sim/signed/{token}?{query}"


def get_download(request: Request) -> Response:
    state = request.state
    token = request.path_params["downloadId"]
    if token not in state.downloads:
        raise not_found(f"Unable to find download {token}.")
    target = signed_url(state, token)
    if not request.bool_arg("issueRedirect", True):
        return Response(body={"url": target})
    return Response(status=303, body=b"", content_type="text/plain", headers={"Location": target})


def _s3_error(status: int, code: str, message: str) -> Response:
    declaration = '<?xml version="1.0" encoding="UTF-8"?>'
    body = f"{declaration}\n<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    return Response(status=status, body=body, content_type="application/xml")


def get_signed(request: Request) -> Response:
    state = request.state
    token = request.path_params["token"]
    if "authorization" in request.headers:
        return _s3_error(
            400,
            "InvalidArgument",
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature "
            "query string parameter or the Authorization header should be specified",
        )
    raw_expiry = request.arg("X-Amz-Expiry") or ""
    signature = request.arg("X-Amz-Signature") or ""
    if not raw_expiry.isdigit() or not hmac.compare_digest(
        signature, _signature(state, token, int(raw_expiry))
    ):
        return _s3_error(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        )
    if state.now() > int(raw_expiry):
        return _s3_error(403, "AccessDenied", "Request has expired")
    found = state.downloads.get(token)
    if found is None:
        return _s3_error(404, "NoSuchKey", "The specified key does not exist.")
    kind, payload = found
    content_type = {"yaml": "application/x-yaml", "zip": "application/zip"}.get(kind, "application/json")
    return Response(body=payload, content_type=content_type)


ROUTES = [
    Route("GET", "/api/v2/downloads/{downloadId}", get_download),
    Route("GET", "/__sim/signed/{token}", get_signed, kind="presigned"),
]
