"""Handlers that run in a runner: to the runtime they look like any async handler; the
context calls their code makes come back over the protocol and go to the real `ctx`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from motia.runners.process import RunnerFailed

if TYPE_CHECKING:
    from motia.runners.supervisor import RunnerPool


class HandlerContext(Protocol):
    """What a runner's context calls need of the runtime's `FlowContext`: named here so
    this layer does not import the runtime above it."""

    trace_id: str
    flows: list[str]
    event_id: str | None
    attempt: int

    @property
    def logger(self) -> Any: ...

    @property
    def state(self) -> Any: ...

    @property
    def streams(self) -> Any: ...

    def emit(self, event: Any) -> Any: ...

    def cancel(
        self, message_id: str | None = None, *, key: str | None = None, topic: str | None = None
    ) -> Any: ...


_STATE_METHODS = {
    "state.get": "get",
    "state.set": "set",
    "state.delete": "delete",
    "state.getGroup": "get_group",
    "state.clear": "clear",
}
_STREAM_METHODS = {
    "streams.get": "get",
    "streams.set": "set",
    "streams.delete": "delete",
    "streams.getGroup": "get_group",
    "streams.send": "send",
    "streams.update": "update",
}


class UnknownContextCall(Exception):
    pass


class ContextTarget:
    """Answers one invocation's context calls with the invocation's own `ctx`, so emits,
    state and streams behave exactly as for a Python handler (declared topics, outbox,
    forgotten calls, logs tagged with the step and trace)."""

    __slots__ = ("ctx",)

    def __init__(self, ctx: HandlerContext) -> None:
        self.ctx = ctx

    async def call(self, method: str, args: list[Any]) -> Any:
        if method == "emit":
            if len(args) != 1:
                raise TypeError("emit takes one event: {topic, data}")
            return str(await self.ctx.emit(args[0]))  # the message id
        if method == "cancel":
            return await self._cancel(args)
        state_method = _STATE_METHODS.get(method)
        if state_method is not None:
            return await getattr(self.ctx.state, state_method)(*args)
        stream_method = _STREAM_METHODS.get(method)
        if stream_method is not None:
            if not args or not isinstance(args[0], str):
                raise TypeError(f"{method} needs the stream name first")
            stream = self.ctx.streams[args[0]]
            return await getattr(stream, stream_method)(*args[1:])
        raise UnknownContextCall(f"unknown context call '{method}'")

    async def _cancel(self, args: list[Any]) -> bool:
        """`cancel` takes `[messageId]` or `[{"key": ..., "topic"?: ...}]`."""
        if len(args) == 1 and isinstance(args[0], str):
            return bool(await self.ctx.cancel(args[0]))
        if len(args) == 1 and isinstance(args[0], dict) and isinstance(args[0].get("key"), str):
            topic = args[0].get("topic")
            if topic is not None and not isinstance(topic, str):
                raise TypeError("cancel: 'topic' must be a string")
            return bool(await self.ctx.cancel(key=args[0]["key"], topic=topic))
        raise TypeError("cancel takes a message id, or {key, topic?}")

    def log(self, level: str, message: str, fields: Any) -> None:
        getattr(self.ctx.logger, level)(message, fields)


class RemoteHandler:
    """`step.handler` of a step that runs in a runner. The runtime binds the pool."""

    __slots__ = ("file", "kind", "language", "pool", "step")

    def __init__(self, language: str, file: str, kind: str, step: str) -> None:
        self.language = language
        self.file = file
        self.kind = kind
        self.step = step
        self.pool: RunnerPool | None = None

    async def __call__(self, *args: Any) -> Any:
        if self.pool is None:
            raise RunnerFailed(f"step '{self.step}' needs the {self.language} runner, not started")
        if self.kind == "cron":
            (ctx,) = args
            input = None
        else:
            input, ctx = args
        meta: dict[str, Any] = {
            "traceId": ctx.trace_id,
            "flows": ctx.flows,
            "step": self.step,
            "streams": self.pool.stream_names,
        }
        if ctx.event_id is not None:
            meta["eventId"] = ctx.event_id
            meta["attempt"] = ctx.attempt
        result = await self.pool.invoke(
            self.language, self.file, self.kind, input, meta, ContextTarget(ctx)
        )
        return restore_buffers(result) if self.kind == "api" else result


class RemoteCanAccess:
    """A stream's `canAccess` function that lives in a runner."""

    __slots__ = ("file", "language", "pool")

    def __init__(self, language: str, file: str) -> None:
        self.language = language
        self.file = file
        self.pool: RunnerPool | None = None

    async def __call__(self, subscription: Any, auth_context: Any) -> bool:
        if self.pool is None:
            raise RunnerFailed(f"{self.file} needs the {self.language} runner, not started")
        verdict = await self.pool.invoke(
            self.language,
            self.file,
            "canAccess",
            {"subscription": subscription, "authContext": auth_context},
            {},
            _NoCalls(),
        )
        return bool(verdict)


class RemoteStreamAuth:
    """`streamAuth.authenticate` of a motia.config.ts/js: called like the `authenticate`
    of motia_config.py, with `{headers, url, token}`; it returns the auth context or null,
    and throws to refuse the client."""

    __slots__ = ("file", "language", "pool")

    def __init__(self, language: str, file: str) -> None:
        self.language = language
        self.file = file
        self.pool: RunnerPool | None = None

    async def __call__(self, request: dict[str, Any]) -> Any:
        if self.pool is None:
            raise RunnerFailed(f"{self.file} needs the {self.language} runner, not started")
        return await self.pool.invoke(
            self.language,
            self.file,
            "streamAuth",
            {"headers": request.get("headers") or {}, "url": request.get("url") or ""},
            {},
            _NoCalls(),
        )


class _NoCalls:
    async def call(self, method: str, args: list[Any]) -> Any:
        raise UnknownContextCall("canAccess has no context")

    def log(self, level: str, message: str, fields: Any) -> None:
        return None


def restore_buffers(response: Any) -> Any:
    """A Node `Buffer` body arrives as `{type: 'Buffer', data: [...]}`: make it bytes."""
    if isinstance(response, dict):
        body = response.get("body")
        if (
            isinstance(body, dict)
            and body.get("type") == "Buffer"
            and isinstance(body.get("data"), list)
            and len(body) == 2
        ):
            return {**response, "body": bytes(body["data"])}
    return response
