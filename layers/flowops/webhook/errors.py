"""Domain errors of the webhook entry.

Each error carries the HTTP status it becomes; the API handler turns them into responses in
one place (`src/flowops/functions/webhook/api.py`). Messages are written for the caller and never contain
the shared secret, a signature value or the request body.
"""

from __future__ import annotations


class WebhookError(Exception):
    """Base class: a request the webhook refuses, with the status code it maps to."""

    status_code = 400
    code = "webhook.error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SignatureError(WebhookError):
    """Signature header missing, malformed or not matching the body (401)."""

    status_code = 401
    code = "webhook.signature"


class StaleRequestError(SignatureError):
    """Timestamp header missing, malformed or outside the tolerance window (401)."""

    code = "webhook.timestamp"


class PayloadTooLargeError(WebhookError):
    """Body (or the execution input built from it) exceeds the configured bound (413)."""

    status_code = 413
    code = "webhook.too_large"


class InvalidRequestError(WebhookError):
    """Malformed JSON or a field that fails validation (400). `fields` names the culprits."""

    status_code = 400
    code = "webhook.invalid_request"

    def __init__(self, message: str, fields: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.fields = fields


class UnknownFlowError(WebhookError):
    """The flow named in the request is not in the current lock (404)."""

    status_code = 404
    code = "webhook.unknown_flow"


class UnknownEnvironmentError(WebhookError):
    """No substitutions are kept for the requested environment (404)."""

    status_code = 404
    code = "webhook.unknown_environment"


class DeliveryConflictError(WebhookError):
    """A delivery id was reused with a different body (409): never start a second execution."""

    status_code = 409
    code = "webhook.delivery_conflict"


class DependencyUnavailableError(WebhookError):
    """Secrets Manager, DynamoDB or Step Functions failed (503): nothing started, the sender may retry."""

    status_code = 503
    code = "webhook.unavailable"


class AmbiguousFlowError(WebhookError):
    """More than one flow matches the name and type given (409): the caller must send the id."""

    status_code = 409
    code = "webhook.ambiguous_flow"


class RouteDisabledError(WebhookError):
    """The route exists but this deployment does not serve it (e.g. no release state machine)."""

    status_code = 404
    code = "webhook.no_route"
