"""The runner protocol, sans IO: bytes in, frames out, and frames in, bytes out.

Frames are JSON objects, one per line (see docs/runner-protocol.md). Nothing here touches
a socket or a process, so every rule of the protocol is unit-tested on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from motia import jsoncodec

PROTOCOL_VERSION = 1
MAX_LINE_BYTES = 64 * 1024 * 1024
LOG_LEVELS = frozenset({"debug", "info", "warn", "error"})


class ProtocolError(Exception):
    """The other side sent something the protocol does not allow."""


@dataclass(frozen=True)
class Hello:
    protocol: int
    runtime: str
    version: str
    pid: int | None


@dataclass(frozen=True)
class Answer:
    """The answer to one of our requests."""

    re: int
    ok: bool
    value: Any = None
    error: RemoteError | None = None


@dataclass(frozen=True)
class Call:
    """A context call made by the handler of invocation `inv`."""

    id: int
    inv: int
    method: str
    args: list[Any]


@dataclass(frozen=True)
class Log:
    inv: int | None
    level: str
    msg: str
    fields: Any


@dataclass(frozen=True)
class RemoteError:
    """An error raised in the runner, as it travels on the wire."""

    message: str
    name: str | None = None
    stack: str | None = None
    line: int | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"message": self.message}
        if self.name:
            out["name"] = self.name
        if self.stack:
            out["stack"] = self.stack
        return out


Incoming = Hello | Answer | Call | Log


def encode(frame: dict[str, Any]) -> bytes:
    return jsoncodec.dumps(frame) + b"\n"


def ok(re: int, value: Any) -> bytes:
    return encode({"t": "ok", "re": re, "value": value})


def err(re: int, error: BaseException) -> bytes:
    return encode(
        {"t": "err", "re": re, "error": {"message": str(error), "name": type(error).__name__}}
    )


class FrameDecoder:
    """Splits a byte stream into lines and parses each line into a typed frame."""

    def __init__(self, max_line: int = MAX_LINE_BYTES) -> None:
        self._buffer = bytearray()
        self._max_line = max_line

    def feed(self, data: bytes) -> list[Incoming]:
        """The complete frames in `data` (with what earlier calls left over). Frames of
        unknown types are skipped: a newer runner may send frames this version ignores."""
        self._buffer += data
        frames: list[Incoming] = []
        start = 0
        while True:
            end = self._buffer.find(b"\n", start)
            if end < 0:
                break
            line = bytes(self._buffer[start:end])
            start = end + 1
            if line.strip():
                frame = parse_frame(line)
                if frame is not None:
                    frames.append(frame)
        del self._buffer[:start]
        if len(self._buffer) > self._max_line:
            raise ProtocolError(f"a frame is longer than {self._max_line} bytes")
        return frames


def parse_frame(line: bytes) -> Incoming | None:
    try:
        raw = jsoncodec.loads(line)
    except jsoncodec.JSONDecodeError as exc:
        raise ProtocolError(f"a frame is not valid JSON ({exc}): {line[:200]!r}") from None
    if not isinstance(raw, dict):
        raise ProtocolError(f"a frame is not a JSON object: {line[:200]!r}")
    kind = raw.get("t")
    if kind in ("ok", "err"):
        re = _int(raw, "re")
        if kind == "ok":
            return Answer(re=re, ok=True, value=raw.get("value"))
        return Answer(re=re, ok=False, error=remote_error(raw.get("error")))
    if kind == "call":
        method = raw.get("method")
        args = raw.get("args", [])
        if not isinstance(method, str) or not isinstance(args, list):
            raise ProtocolError(f"a call frame needs a string 'method' and a list 'args': {raw}")
        return Call(id=_int(raw, "id"), inv=_int(raw, "inv"), method=method, args=args)
    if kind == "log":
        inv = raw.get("inv")
        level = raw.get("level")
        return Log(
            inv=inv if isinstance(inv, int) else None,
            level=level if level in LOG_LEVELS else "info",
            msg=str(raw.get("msg", "")),
            fields=raw.get("fields"),
        )
    if kind == "hello":
        pid = raw.get("pid")
        return Hello(
            protocol=_int(raw, "protocol"),
            runtime=str(raw.get("runtime", "")),
            version=str(raw.get("version", "")),
            pid=pid if isinstance(pid, int) else None,
        )
    if not isinstance(kind, str):
        raise ProtocolError(f"a frame has no type 't': {line[:200]!r}")
    return None


def remote_error(raw: Any) -> RemoteError:
    if not isinstance(raw, dict):
        return RemoteError(message=str(raw) if raw is not None else "unknown error")
    line = raw.get("line")
    return RemoteError(
        message=str(raw.get("message") or "unknown error"),
        name=raw.get("name") if isinstance(raw.get("name"), str) else None,
        stack=raw.get("stack") if isinstance(raw.get("stack"), str) else None,
        line=line if isinstance(line, int) else None,
    )


def _int(raw: dict[str, Any], key: str) -> int:
    value = raw.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ProtocolError(f"a '{raw.get('t')}' frame needs an integer '{key}': {raw}")
    return value


class Requests:
    """Numbers our requests and encodes them."""

    def __init__(self) -> None:
        self._last_id = 0

    def _next(self) -> int:
        self._last_id += 1
        return self._last_id

    def load(self, files: list[str]) -> tuple[int, bytes]:
        rid = self._next()
        return rid, encode({"t": "load", "id": rid, "files": files})

    def ping(self) -> tuple[int, bytes]:
        rid = self._next()
        return rid, encode({"t": "ping", "id": rid})

    def invoke(self, file: str, kind: str, input: Any, ctx: dict[str, Any]) -> tuple[int, bytes]:
        rid = self._next()
        return rid, encode(
            {"t": "invoke", "id": rid, "file": file, "kind": kind, "input": input, "ctx": ctx}
        )


def cancel(re: int) -> bytes:
    return encode({"t": "cancel", "re": re})


SHUTDOWN = encode({"t": "shutdown"})


@dataclass(frozen=True)
class FileReport:
    """What a runner found in one file it loaded."""

    file: str
    kind: str  # "step" | "stream" | "config" (the project's motia.config file)
    config: dict[str, Any] | None
    handler: bool
    functions: tuple[str, ...]
    error: RemoteError | None

    @classmethod
    def parse(cls, raw: Any) -> FileReport:
        if not isinstance(raw, dict) or not isinstance(raw.get("file"), str):
            raise ProtocolError(f"a file report needs a 'file': {raw!r}")
        config = raw.get("config")
        functions = raw.get("functions") or []
        error = raw.get("error")
        return cls(
            file=raw["file"],
            kind=raw["kind"] if raw.get("kind") in ("stream", "config") else "step",
            config=config if isinstance(config, dict) else None,
            handler=bool(raw.get("handler")),
            functions=tuple(str(f) for f in functions) if isinstance(functions, list) else (),
            error=remote_error(error) if error else None,
        )


def parse_load_answer(value: Any) -> list[FileReport]:
    if not isinstance(value, dict) or not isinstance(value.get("files"), list):
        raise ProtocolError(f"a load answer needs a 'files' list: {str(value)[:200]}")
    return [FileReport.parse(item) for item in value["files"]]
