"""Strict models of step and stream configs: the classic Motia contract, field by field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator, model_validator
from pydantic.alias_generators import to_camel

from motia.steps import http_options
from motia.steps.flow_config import FlowControlFields
from motia.steps.rate_limit import RateLimitConfig, read_rate_limit

HttpMethod = Literal["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]
# Where a Python handler runs: "thread" (the default) runs `async def` handlers on the
# event loop and `def` handlers in the thread pool; "process" runs it in a worker process.
Executor = Literal["thread", "process"]


class _Strict(BaseModel):
    """Unknown keys are errors; field names are the camelCase keys users write."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        arbitrary_types_allowed=True,
        frozen=True,
    )


class EmitSpec(_Strict):
    topic: str = Field(min_length=1)
    label: str | None = None
    conditional: bool = False


Emit = str | EmitSpec


class QueryParam(_Strict):
    name: str = Field(min_length=1)
    description: str | None = None


class HandlerInfrastructure(_Strict):
    ram: int | None = Field(default=None, ge=128, le=10240)
    cpu: float | None = Field(default=None, gt=0)
    timeout: float | None = Field(default=None, gt=0, le=86400)


class Backoff(_Strict):
    """How long to wait before a retry (an extension of the classic contract)."""

    type: Literal["exponential", "fixed"] = "exponential"
    delay: float = Field(default=1.0, ge=0, le=86400)
    max_delay: float = Field(default=300.0, ge=0, le=86400)
    jitter: bool = True


class QueueInfrastructure(_Strict):
    type: Literal["standard", "fifo"] = "standard"
    max_retries: int | None = Field(default=None, ge=0, le=1000)
    visibility_timeout: float | None = Field(default=None, gt=0)
    delay_seconds: float | None = Field(default=None, ge=0, le=900)
    concurrency: int | None = Field(default=None, ge=1, le=10_000)
    backoff: Backoff | None = None


class Infrastructure(_Strict):
    handler: HandlerInfrastructure | None = None
    queue: QueueInfrastructure | None = None

    @model_validator(mode="after")
    def _visibility_outlasts_timeout(self) -> Infrastructure:
        timeout = self.handler.timeout if self.handler else None
        visibility = self.queue.visibility_timeout if self.queue else None
        if timeout is not None and visibility is not None and visibility <= timeout:
            raise ValueError(
                f"queue.visibilityTimeout ({visibility:g} s) must be longer than "
                f"handler.timeout ({timeout:g} s)"
            )
        return self


class _StepBase(_Strict):
    name: str = Field(min_length=1, max_length=200)
    description: str | None = None
    flows: list[str] = Field(default_factory=list)
    emits: list[Emit] = Field(default_factory=list)
    virtual_emits: list[Emit] = Field(default_factory=list)
    virtual_subscribes: list[str] = Field(default_factory=list)
    include_files: list[str] = Field(default_factory=list)

    def emit_topics(self) -> list[str]:
        return [emit_topic(e) for e in self.emits]

    def virtual_emit_topics(self) -> list[str]:
        return [emit_topic(e) for e in self.virtual_emits]


class StepAuth(_Strict):
    """`"auth": {"scopes": [...]}`: a valid token that grants every one of these scopes."""

    scopes: list[str] = Field(default_factory=list)


class ApiStepConfig(_StepBase):
    type: Literal["api"]
    method: HttpMethod
    path: str
    body_schema: Any = None
    response_schema: dict[int, Any] | None = None
    query_params: list[QueryParam] = Field(default_factory=list)
    middleware: list[Callable[..., Any]] = Field(default_factory=list)
    # None: the project's `auth.required`; True/StepAuth: a bearer token; False: open.
    auth: StrictBool | StepAuth | None = None

    @field_validator("auth", mode="before")
    @classmethod
    def _auth_form(cls, value: object) -> object:
        """One message for a wrong form, not one per member of the union."""
        if value is None or isinstance(value, bool | StepAuth):
            return value
        if isinstance(value, dict):
            if set(value) - {"scopes"}:
                unknown = ", ".join(sorted(map(str, set(value) - {"scopes"})))
                raise ValueError(f'unknown key(s) {unknown}: the only key is "scopes"')
            scopes = value.get("scopes", [])
            if isinstance(scopes, list) and all(isinstance(s, str) for s in scopes):
                return StepAuth(scopes=scopes)
            raise ValueError('"scopes" must be a list of strings, e.g. ["orders:write"]')
        raise ValueError('must be true, false or {"scopes": [...]}')

    # Seconds the handler may take to answer (overrides http.requestTimeout).
    timeout: float | None = Field(default=None, gt=0, le=86400)
    executor: Executor = "thread"
    # True/False, or headers to set (false removes one); see motia.steps.http_options.
    security_headers: bool | http_options.HeaderOverrides | None = None
    # This route's CORS policy, in place of http.cors.*; False: no CORS on this route.
    cors: http_options.CorsConfig | None = None
    # Compress this route's answers (overrides http.compression.enabled).
    compression: bool | None = None
    # Bytes, or a size such as "50mb" (overrides http.maxBodySize).
    max_body_size: int | None = None
    # None: the project's default limit (`http.rateLimit`); `False` reads as a falsy config.
    rate_limit: RateLimitConfig | None = None

    _read_rate_limit = field_validator("rate_limit", mode="before")(read_rate_limit)

    @field_validator("method", mode="before")
    @classmethod
    def _upper_method(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("security_headers")
    @classmethod
    def _security_headers(cls, value: Any) -> Any:
        return http_options.check_security_headers(value)

    @field_validator("cors", mode="before")
    @classmethod
    def _cors_off(cls, value: object) -> object:
        return {"origins": []} if value is False else value

    @field_validator("max_body_size", mode="before")
    @classmethod
    def _body_size(cls, value: object) -> int | None:
        return http_options.parse_body_size(value)

    @field_validator("path")
    @classmethod
    def _absolute_path(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("must start with '/', for example '/orders/:id'")
        return value

    @field_validator("response_schema", mode="before")
    @classmethod
    def _status_keys(cls, value: object) -> object:
        if not isinstance(value, dict):
            return value
        converted: dict[int, Any] = {}
        for key, schema in value.items():
            try:
                status = int(key)
            except (TypeError, ValueError):
                raise ValueError(f"status code key {key!r} is not a number") from None
            if not 100 <= status <= 599:
                raise ValueError(f"status code key {key!r} is not between 100 and 599")
            converted[status] = schema
        return converted


class EventStepConfig(_StepBase, FlowControlFields):
    type: Literal["event"]
    # Empty is a step that nothing triggers yet, as classic Motia allowed.
    subscribes: list[str]
    input: Any = None
    infrastructure: Infrastructure | None = None
    executor: Executor = "thread"


class CronStepConfig(_StepBase):
    type: Literal["cron"]
    cron: str = Field(min_length=1)
    executor: Executor = "thread"
    # Seconds a tick's handler may run; a process-executor worker past it is killed.
    timeout: float | None = Field(default=None, gt=0, le=86400)


class NoopStepConfig(_StepBase):
    type: Literal["noop"]
    virtual_emits: list[Emit]
    virtual_subscribes: list[str]


StepConfig = ApiStepConfig | EventStepConfig | CronStepConfig | NoopStepConfig

CONFIG_MODELS: dict[str, type[_StepBase]] = {
    "api": ApiStepConfig,
    "event": EventStepConfig,
    "cron": CronStepConfig,
    "noop": NoopStepConfig,
}


class StreamBaseConfig(_Strict):
    storage_type: Literal["default", "custom"] = "default"
    ttl: float | None = Field(default=None, gt=0)
    factory: Callable[..., Any] | None = None

    @field_validator("storage_type")
    @classmethod
    def _default_storage_only(cls, value: str) -> str:
        if value != "default":
            raise ValueError(
                "custom stream storage is not supported: use 'default' (items are stored with "
                "state: SQLite, memory or Redis)"
            )
        return value


class StreamConfig(_Strict):
    name: str = Field(min_length=1)
    schema_: Any = Field(default=None, alias="schema")
    base_config: StreamBaseConfig = Field(default_factory=StreamBaseConfig)
    can_access: Callable[..., Any] | None = None


def emit_topic(emit: Emit) -> str:
    """The topic of an `emits` / `virtualEmits` entry, whichever form it is written in."""
    return emit if isinstance(emit, str) else emit.topic
