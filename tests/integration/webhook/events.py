"""API Gateway REST proxy events for the webhook tests, built from one sample event.

`apigateway_rest_proxy_event.json` follows the REST API proxy-integration input format AWS
documents (a CloudFront-fronted regional API receiving a GitHub delivery); a test checks it
against powertools' strict `APIGatewayProxyEventModel`. `rest_event` only replaces method,
path, headers and body, so every other field keeps the shape API Gateway really sends.
"""

from __future__ import annotations

import base64
import copy
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

SAMPLE_EVENT = Path(__file__).with_name("apigateway_rest_proxy_event.json")


@cache
def _sample() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SAMPLE_EVENT.read_text())
    return loaded


def rest_event(
    body: bytes | str | None,
    headers: dict[str, str] | None = None,
    *,
    path: str = "/publish",
    method: str = "POST",
    base64_encoded: bool = False,
) -> dict[str, Any]:
    event = copy.deepcopy(_sample())
    raw = body.encode() if isinstance(body, str) else body
    all_headers = {**event["headers"], **(headers or {})}
    event.update(
        resource=path,
        path=path,
        httpMethod=method,
        headers=all_headers,
        multiValueHeaders={name: [value] for name, value in all_headers.items()},
        body=None if raw is None else (base64.b64encode(raw).decode() if base64_encoded else raw.decode()),
        isBase64Encoded=base64_encoded,
    )
    event["requestContext"].update(httpMethod=method, path=f"/prod{path}", resourcePath=path, stage="prod")
    return event


@dataclass(frozen=True)
class FakeLambdaContext:
    function_name: str = "flowops-webhook"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:flowops-webhook"
    aws_request_id: str = "52fdfc07-2182-154f-163f-5f0f9a621d72"
