"""Types for step files written in the classic dict style, for editors and mypy.

    from motia import ApiRequest, ApiResponse, ApiRouteConfig, FlowContext

    config: ApiRouteConfig = {"type": "api", "name": "GetPet", "method": "GET",
                              "path": "/pets/:id", "emits": []}

    async def handler(req: ApiRequest, ctx: FlowContext) -> ApiResponse:
        return {"status": 200, "body": await ctx.state.get("pets", req["pathParams"]["id"])}

The TypedDicts describe the keys users write (camelCase, as in classic Motia); the runtime
validates the same configs with the strict models of `motia.steps.config`.
"""

from collections.abc import Awaitable, Callable, Mapping, Sequence
from importlib import import_module
from typing import (
    TYPE_CHECKING,
    Any,
    Generic,
    Literal,
    NotRequired,
    Required,
    TypeAlias,
    TypedDict,
)

from typing_extensions import TypeVar

if TYPE_CHECKING:
    # Type checkers see the real context class, so handlers annotated with it fit the
    # aliases below exactly; at run time this module imports nothing of the runtime.
    from motia.runtime.context import FlowContext

# `ApiRequest[Order]` with a Pydantic model: the handler receives `req["body"]` as an
# `Order` instance (see docs/steps.md, "Typed bodies"); plain `ApiRequest` gets the JSON.
BodyT = TypeVar("BodyT", default=Any)

HttpMethod: TypeAlias = Literal["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]
# "process": the handler runs in a worker process (see docs/scaling.md).
Executor: TypeAlias = Literal["thread", "process"]


class EmitTopic(TypedDict, total=False):
    """An entry of `emits` in its object form: `{"topic": "x", "label": "when valid"}`."""

    topic: Required[str]
    label: str
    conditional: bool


# An entry of `emits` / `virtualEmits`: a topic name, or the object form.
EmitsEntry: TypeAlias = str | EmitTopic


class Emit(TypedDict, total=False):
    """What `ctx.emit(...)` takes: `{"topic": "order.created", "data": {...}}`."""

    topic: Required[str]
    data: Required[Any]
    messageGroupId: str
    priority: int


class QueryParam(TypedDict, total=False):
    name: Required[str]
    description: str


class StepAuthConfig(TypedDict, total=False):
    """`auth` of an API step: a bearer token granting these scopes."""

    scopes: Sequence[str]


class HandlerConfig(TypedDict, total=False):
    """`infrastructure.handler`: only `timeout` (seconds) is enforced locally."""

    ram: int
    cpu: float
    timeout: float


class BackoffConfig(TypedDict, total=False):
    type: Literal["exponential", "fixed"]
    delay: float
    maxDelay: float
    jitter: bool


class QueueConfig(TypedDict, total=False):
    """`infrastructure.queue` of an event step."""

    type: Literal["standard", "fifo"]
    maxRetries: int
    visibilityTimeout: float
    delaySeconds: float
    concurrency: int
    backoff: BackoffConfig


class InfrastructureConfig(TypedDict, total=False):
    handler: HandlerConfig
    queue: QueueConfig


# A schema: a JSON Schema dict or a Pydantic model class.
SchemaSpec: TypeAlias = Mapping[str, Any] | type[Any]


class RateLimitConfig(TypedDict, total=False):
    """`rateLimit` of an API step: `requests` per `per` (seconds, or "10s", "1m", "1h",
    "1d"), counted by "ip", "subject", "header:<name>" or `by(req) -> str`."""

    requests: Required[int]
    per: Required[float | str]
    by: str | Callable[..., Any]


class _StepConfigBase(TypedDict, total=False):
    name: Required[str]
    description: str
    flows: Sequence[str]
    includeFiles: Sequence[str]


class CorsConfig(TypedDict, total=False):
    """`cors` of an API step: this route's policy, in place of `http.cors.*`."""

    origins: Required[Sequence[str]]
    credentials: bool
    methods: Sequence[str]
    headers: Sequence[str]
    exposeHeaders: Sequence[str]
    maxAge: int


class ApiRouteConfig(_StepConfigBase, total=False):
    type: Required[Literal["api"]]
    method: Required[HttpMethod]
    path: Required[str]
    emits: Required[Sequence[EmitsEntry]]
    bodySchema: SchemaSpec | None
    responseSchema: Mapping[int, SchemaSpec] | Mapping[str, SchemaSpec]
    queryParams: Sequence[QueryParam]
    middleware: Sequence[Callable[..., Any]]
    auth: bool | StepAuthConfig
    rateLimit: RateLimitConfig | Literal[False]
    virtualEmits: Sequence[EmitsEntry]
    virtualSubscribes: Sequence[str]
    # HTTP hardening, see docs/security.md
    timeout: float
    securityHeaders: bool | Mapping[str, str | Literal[False] | None]
    cors: CorsConfig | Literal[False]
    compression: bool
    maxBodySize: int | str
    executor: Executor


# A flow-control key: a dotted path into the event ("data.userId") or a function of its data.
FlowKey: TypeAlias = str | Callable[[Any], Any]


class ConcurrencyConfig(TypedDict, total=False):
    """`concurrency` of an event step, see docs/flow-control.md."""

    limit: Required[int]
    key: FlowKey


class ThrottleConfig(TypedDict, total=False):
    """`throttle` (or `rateLimit`) of an event step: starts per period."""

    limit: Required[int]
    period: Required[float | str]
    key: FlowKey


class DebounceConfig(TypedDict, total=False):
    """`debounce` of an event step: one run with the last event after a quiet period."""

    period: Required[float | str]
    key: FlowKey


class BatchConfig(TypedDict, total=False):
    """`batch` of an event step: the handler gets a list of inputs."""

    size: Required[int]
    timeout: float


class EventConfig(_StepConfigBase, total=False):
    type: Required[Literal["event"]]
    subscribes: Required[Sequence[str]]
    emits: Required[Sequence[EmitsEntry]]
    input: SchemaSpec | None
    infrastructure: InfrastructureConfig
    virtualEmits: Sequence[EmitsEntry]
    virtualSubscribes: Sequence[str]
    executor: Executor
    # Flow control, see docs/flow-control.md
    concurrency: int | ConcurrencyConfig
    throttle: ThrottleConfig
    rateLimit: ThrottleConfig
    idempotencyKey: FlowKey
    idempotencyWindow: float | str
    debounce: DebounceConfig
    priority: int
    batch: BatchConfig


class CronConfig(_StepConfigBase, total=False):
    type: Required[Literal["cron"]]
    cron: Required[str]
    emits: Required[Sequence[EmitsEntry]]
    virtualEmits: Sequence[EmitsEntry]
    virtualSubscribes: Sequence[str]
    executor: Executor
    timeout: float


class NoopConfig(_StepConfigBase, total=False):
    type: Required[Literal["noop"]]
    virtualEmits: Required[Sequence[EmitsEntry]]
    virtualSubscribes: Required[Sequence[str]]
    emits: Sequence[EmitsEntry]


StepConfig: TypeAlias = ApiRouteConfig | EventConfig | CronConfig | NoopConfig


class StreamBaseConfig(TypedDict, total=False):
    storageType: Literal["default", "custom"]
    ttl: float
    factory: Callable[..., Any]


class StreamConfig(TypedDict, total=False):
    """The `config` of a `*_stream.py` file."""

    name: Required[str]
    schema: SchemaSpec | None
    baseConfig: StreamBaseConfig
    canAccess: Callable[..., Any]


class ApiRequest(TypedDict, Generic[BodyT]):
    """The `req` an API handler receives."""

    body: BodyT
    headers: dict[str, str]
    pathParams: dict[str, str]
    queryParams: dict[str, str | list[str]]
    rawBody: str
    # The verified token claims, on steps with `auth` only.
    auth: NotRequired[dict[str, Any]]
    # {"ip": ..., "scheme": "http" | "https"}: the client, behind trusted proxies too.
    client: NotRequired[dict[str, str]]


class ApiResponse(TypedDict, total=False):
    """What an API handler returns: `{"status": 201, "body": {...}}`."""

    status: Required[int]
    body: Any
    headers: Mapping[str, str | Sequence[str]]


ApiHandler: TypeAlias = Callable[[ApiRequest, "FlowContext"], Awaitable[ApiResponse]]
EventHandler: TypeAlias = Callable[[Any, "FlowContext"], Awaitable[None]]
CronHandler: TypeAlias = Callable[["FlowContext"], Awaitable[None]]
# `async def middleware(req, ctx, next_fn)`: returns `await next_fn()` or its own response.
ApiMiddleware: TypeAlias = Callable[
    [ApiRequest, "FlowContext", Callable[[], Awaitable[ApiResponse]]], Awaitable[ApiResponse]
]


def __getattr__(name: str) -> Any:
    # `motia.types.FlowContext` still works at run time, loaded only when asked for.
    if name == "FlowContext":
        return import_module("motia.runtime.context").FlowContext
    raise AttributeError(f"module 'motia.types' has no attribute '{name}'")


__all__ = [
    "ApiHandler",
    "ApiMiddleware",
    "ApiRequest",
    "ApiResponse",
    "ApiRouteConfig",
    "BackoffConfig",
    "CorsConfig",
    "CronConfig",
    "CronHandler",
    "Emit",
    "EmitTopic",
    "EmitsEntry",
    "EventConfig",
    "EventHandler",
    "FlowContext",
    "HandlerConfig",
    "HttpMethod",
    "InfrastructureConfig",
    "NoopConfig",
    "QueryParam",
    "QueueConfig",
    "RateLimitConfig",
    "SchemaSpec",
    "StepAuthConfig",
    "StepConfig",
    "StreamBaseConfig",
    "StreamConfig",
]
