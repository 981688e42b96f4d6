"""Request, execution-input and response models of the publish webhook.

The request model is strict (no type coercion, unknown fields rejected) so a caller who
misspells `yaml_s3_key` or sends `"force_unlock": "yes"` gets a 400 naming the field instead
of a publish that silently ignores what they meant.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from flowops.webhook.errors import InvalidRequestError

# Flow types as Genesys Cloud spells them (GET /api/v2/flows `type`).
FLOW_TYPES: frozenset[str] = frozenset(
    {
        "BOT",
        "COMMONMODULE",
        "DIGITALBOT",
        "EMAILSEND",
        "INBOUNDCALL",
        "INBOUNDCHAT",
        "INBOUNDEMAIL",
        "INBOUNDSHORTMESSAGE",
        "INQUEUECALL",
        "INQUEUEEMAIL",
        "INQUEUESHORTMESSAGE",
        "OUTBOUNDCALL",
        "SECURECALL",
        "SPEECH",
        "SURVEYINVITE",
        "VOICE",
        "VOICEMAIL",
        "VOICESURVEY",
        "WORKFLOW",
        "WORKITEM",
    }
)

DEFAULT_MAX_INLINE_YAML_BYTES = 128 * 1024
# Context key through which the handler passes its configured inline-YAML bound.
MAX_INLINE_YAML_CONTEXT_KEY = "max_inline_yaml_bytes"

FlowId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")]
EnvironmentName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")]
FlowVersion = Annotated[str, Field(pattern=r"^\d{1,6}(\.\d{1,6})?$")]
# An S3 key of an uploaded artifact: relative, S3-safe characters, a YAML file (see the validator
# on PublishRequest for the `..` rule, which the regex engine cannot express without look-around).
ArtifactKey = Annotated[
    str, Field(min_length=6, max_length=1024, pattern=r"^[A-Za-z0-9!_.*'()-][A-Za-z0-9!_.*'()/-]*\.ya?ml$")
]

# No whitespace stripping: the inline YAML must reach the publish exactly as the sender signed it.
_STRICT = ConfigDict(strict=True, extra="forbid", frozen=True)


class FlowRef(BaseModel):
    """Which flow to publish: its id, or its name and type (names are unique per type)."""

    model_config = _STRICT

    id: FlowId | None = None
    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    type: str | None = None

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str | None) -> str | None:
        if value is not None and value not in FLOW_TYPES:
            raise ValueError(f"unknown flow type {value!r}; expected one of {', '.join(sorted(FLOW_TYPES))}")
        return value

    @model_validator(mode="after")
    def _id_or_name_and_type(self) -> Self:
        if self.id is None and (self.name is None or self.type is None):
            raise ValueError("give the flow 'id', or both 'name' and 'type'")
        return self

    def describe(self) -> str:
        """A human label for messages: `id <id>` or `<TYPE> '<name>'`."""
        if self.id is not None:
            return f"id {self.id}"
        return f"{self.type} {self.name!r}"


class PublishRequest(BaseModel):
    """Body of `POST /publish`. Exactly one of `yaml`, `yaml_s3_key`, `version`."""

    model_config = _STRICT

    flow: FlowRef
    environment: EnvironmentName
    yaml: Annotated[str, Field(min_length=1)] | None = None
    yaml_s3_key: ArtifactKey | None = None
    version: FlowVersion | None = None
    requester: Annotated[str, Field(min_length=1, max_length=128)]
    reason: Annotated[str, Field(min_length=1, max_length=1000)]
    force_unlock: bool = False
    allow_drift: bool = False

    @field_validator("yaml")
    @classmethod
    def _bounded_yaml(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return value
        context = info.context if isinstance(info.context, dict) else {}
        limit = int(context.get(MAX_INLINE_YAML_CONTEXT_KEY, DEFAULT_MAX_INLINE_YAML_BYTES))
        size = len(value.encode("utf-8"))
        if size > limit:
            raise ValueError(
                f"inline YAML is {size} bytes, over the {limit}-byte limit; upload it and send yaml_s3_key"
            )
        return value

    @field_validator("yaml_s3_key")
    @classmethod
    def _no_parent_segments(cls, value: str | None) -> str | None:
        if value is not None and ".." in value.split("/"):
            raise ValueError("the key must not contain '..' segments")
        return value

    @model_validator(mode="after")
    def _exactly_one_source(self) -> Self:
        given = [name for name in ("yaml", "yaml_s3_key", "version") if getattr(self, name) is not None]
        if len(given) != 1:
            named = ", ".join(given) if given else "none"
            raise ValueError(f"give exactly one of 'yaml', 'yaml_s3_key', 'version' (got: {named})")
        return self


class InlineYamlSource(BaseModel):
    model_config = ConfigDict(frozen=True)
    kind: Literal["inline"] = "inline"
    yaml: str


class ArtifactYamlSource(BaseModel):
    model_config = ConfigDict(frozen=True)
    kind: Literal["s3"] = "s3"
    yaml_s3_key: str


class CheckedInVersionSource(BaseModel):
    model_config = ConfigDict(frozen=True)
    kind: Literal["version"] = "version"
    version: str


PublishSource = Annotated[
    InlineYamlSource | ArtifactYamlSource | CheckedInVersionSource, Field(discriminator="kind")
]


class PublishTarget(BaseModel):
    """The flow as the webhook knows it; id/name/type are all set when the lock resolved it."""

    model_config = ConfigDict(frozen=True)
    id: str | None
    name: str | None
    type: str | None


class PublishExecutionInput(BaseModel):
    """Input of one publish execution (kept well under the 256 KB Step Functions limit)."""

    model_config = ConfigDict(frozen=True)

    delivery_id: str
    execution_name: str
    org: str
    environment: str
    flow: PublishTarget
    source: PublishSource
    requester: str
    reason: str
    force_unlock: bool
    allow_drift: bool
    received_at: str  # ISO-8601 UTC, when the webhook accepted the delivery


class PublishAccepted(BaseModel):
    """The 202 answer: where the run is and how to follow it."""

    model_config = ConfigDict(frozen=True, alias_generator=to_camel, populate_by_name=True)

    execution_arn: str
    execution_name: str
    status_url: str
    delivery_id: str
    # True when this delivery id had been accepted before: no new execution was started.
    replayed: bool = False


def _field_path(location: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in location) or "body"


def parse_publish_request(
    body: bytes, *, max_inline_yaml_bytes: int = DEFAULT_MAX_INLINE_YAML_BYTES
) -> PublishRequest:
    """Parse and validate a `/publish` body; raise `InvalidRequestError` naming what is wrong.

    Messages are built from pydantic's error type and location only, never from the input
    value, so a huge or sensitive body is not echoed back.
    """
    try:
        return PublishRequest.model_validate_json(
            body, strict=True, context={MAX_INLINE_YAML_CONTEXT_KEY: max_inline_yaml_bytes}
        )
    except ValidationError as error:
        raise invalid_request(error, "publish") from None


def invalid_request(error: ValidationError, kind: str) -> InvalidRequestError:
    """The 400 for a body that failed validation: "malformed JSON body" when it is not JSON,
    else every failing field with pydantic's message (never the value, which is not echoed)."""
    problems: list[str] = []
    fields: list[str] = []
    for detail in error.errors(include_input=False, include_url=False):
        if detail["type"] == "json_invalid":
            reason = str(detail.get("ctx", {}).get("error", detail["msg"]))
            return InvalidRequestError(f"malformed JSON body: {reason}")
        path = _field_path(tuple(detail["loc"]))
        fields.append(path)
        problems.append(f"{path}: {_message(detail)}")
    return InvalidRequestError(f"invalid {kind} request: " + "; ".join(problems), tuple(fields))


def _message(detail: Any) -> str:
    message = str(detail["msg"])
    # pydantic prefixes errors raised in validators with "Value error, "; callers do not care.
    return re.sub(r"^Value error, ", "", message)
