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

    def bind_trigger(self, info: dict[str, Any], data: Any) -> None: ...

    def skip(self, reason: str) -> None: ...


# A runner's answer when a trigger's condition said no (invoke.mjs), and what an HTTP
# trigger then answers (as `motia.steps.triggers.SKIPPED_RESPONSE` for Python steps).
SKIPPED_KEY = "__motiaSkipped"
SKIPPED_RESPONSE: dict[str, Any] = {"status": 204}


_STATE_METHODS = {
    "state.get": "get",
    "state.set": "set",
    "state.delete": "delete",
    "state.getGroup": "get_group",
    "state.clear": "clear",
    "state.update": "update",
    "state.list": "list",
    "state.listGroups": "list_groups",
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
    """`step.handler` of a step that runs in a runner. The runtime binds the pool.

    A 1.0-form step has one per trigger (`for_trigger`): the runner sets `ctx.trigger`,
    asks the trigger's condition and calls `handler(input, ctx)` whatever the trigger."""

    __slots__ = ("file", "kind", "language", "pool", "step", "trigger")

    def __init__(
        self,
        language: str,
        file: str,
        kind: str,
        step: str,
        trigger: dict[str, Any] | None = None,
    ) -> None:
        self.language = language
        self.file = file
        self.kind = kind
        self.step = step
        self.trigger = trigger  # {"index": i, "info": {...}} for a 1.0-form step
        self.pool: RunnerPool | None = None

    def for_trigger(self, index: int, info: dict[str, Any], step: str) -> RemoteHandler:
        trigger = {"index": index, "info": info}
        return RemoteHandler(self.language, self.file, "trigger", step, trigger)

    async def __call__(self, *args: Any) -> Any:
        if self.pool is None:
            raise RunnerFailed(f"step '{self.step}' needs the {self.language} runner, not started")
        if len(args) == 1:  # a cron tick
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
        if self.trigger is not None:
            meta["trigger"] = self.trigger
            ctx.bind_trigger(self.trigger["info"], input)
        result = await self.pool.invoke(
            self.language, self.file, self.kind, input, meta, ContextTarget(ctx)
        )
        if self.trigger is not None:
            http = self.trigger["info"]["type"] == "http"
            if isinstance(result, dict) and SKIPPED_KEY in result:
                ctx.skip(str(result[SKIPPED_KEY]))
                return dict(SKIPPED_RESPONSE) if http else None
            return restore_buffers(result) if http else result
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
