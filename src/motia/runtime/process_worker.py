"""The worker process of `"executor": "process"` steps: `python -m motia.runtime.process_worker`.

Started by the server (a fresh interpreter, never a fork of the server) with the socket of
the runner protocol in `MOTIA_RUNNER_FD`. It imports step files the way the loader does and
runs one handler at a time; the handler's `ctx` calls go back to the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import platform
import socket
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from motia.runners.protocol import PROTOCOL_VERSION
from motia.runtime.worker_context import Channel, ParentGone, WorkerContext
from motia.steps.importer import activate, import_step_file
from motia.steps.typed_bodies import input_model, request_model


class Worker:
    def __init__(self, channel: Channel, project_dir: Path) -> None:
        self.channel = channel
        self.project_dir = project_dir
        self._handlers: dict[str, Callable[..., Any]] = {}
        self._loop = asyncio.Runner()

    def serve(self) -> None:
        self.channel.send(
            {
                "t": "hello",
                "protocol": PROTOCOL_VERSION,
                "runtime": "python",
                "version": platform.python_version(),
                "pid": os.getpid(),
            }
        )
        while not self.channel.shutdown_requested:
            frame = self.channel.receive()
            if frame.get("t") == "invoke":
                self.channel.answer(self._invoke(frame))
            else:
                self.channel.other_frame(frame)
        self._loop.close()

    def _handler(self, file: str) -> Callable[..., Any]:
        handler = self._handlers.get(file)
        if handler is None:
            module = import_step_file(self.project_dir, Path(file))
            handler = getattr(module, "handler", None)
            if not callable(handler):
                raise TypeError(f"{file} has no `handler` function")
            self._handlers[file] = handler
        return handler

    def _invoke(self, frame: dict[str, Any]) -> dict[str, Any]:
        rid = frame.get("id")
        try:
            handler = self._handler(str(frame["file"]))
            awaitable = _is_async(handler)
            assert isinstance(rid, int)
            ctx = WorkerContext(self.channel, rid, frame.get("ctx") or {}, awaitable)
            kind = frame.get("kind")
            args = (ctx,) if kind == "cron" else (_typed(handler, kind, frame.get("input")), ctx)
            result = handler(*args)
            if inspect.isawaitable(result):
                result = self._loop.run(_finish(result))
        except ParentGone:
            raise
        except BaseException as exc:  # SystemExit too: it fails this run, as in a thread
            return {"t": "err", "re": rid, "error": _error(exc)}
        return {"t": "ok", "re": rid, "value": result}


async def _finish(awaitable: Any) -> Any:
    return await awaitable


def _is_async(handler: Callable[..., Any]) -> bool:
    return inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(
        type(handler).__call__
    )


def _typed(handler: Callable[..., Any], kind: Any, value: Any) -> Any:
    """A handler annotated with a Pydantic model gets an instance, as on the server (which
    validated the value already)."""
    if kind == "api" and isinstance(value, dict):
        model = request_model(handler)
        if model is not None and value.get("body") is not None:
            return {**value, "body": model.model_validate(value["body"])}
    elif kind == "event":
        model = input_model(handler)
        if model is not None:
            return model.model_validate(value)
    return value


def _error(exc: BaseException) -> dict[str, Any]:
    return {
        "message": str(exc) or repr(exc),
        "name": type(exc).__name__,
        "stack": "".join(traceback.format_exception(exc)),
    }


def main() -> None:
    sock = socket.socket(fileno=int(os.environ["MOTIA_RUNNER_FD"]))
    project_dir = Path(os.environ["MOTIA_PROJECT_DIR"])
    activate(project_dir)
    with contextlib.suppress(ParentGone):  # the server stopped: so does the worker
        Worker(Channel(sock), project_dir).serve()


if __name__ == "__main__":
    main()
