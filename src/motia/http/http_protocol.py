"""uvicorn's httptools HTTP protocol, with limits on what a client may send before its
request reaches the app: the size and number of its headers, and the time it takes to
send them. Every request but the system routes and WebSocket upgrades is served by a
`LeanCycle` (see `motia.http.lean_cycle`) rather than uvicorn's own cycle.

Without them one client can stall the server with a 100 MB header (the parser collects it
before anyone sees it) or hold thousands of connections open by sending a header line now
and then (slowloris). The checks cost an addition per chunk read and a comparison per
request; a timer is only armed for headers that do not arrive whole.

The trailers of a chunked body are headers too: they count against the same limits (with
the request's headers), and so do the bytes of a trailer block the parser is still
collecting. They are read and dropped, never added to the request's headers: a trailer
cannot set `Authorization` after the app has looked.
"""

from __future__ import annotations

import asyncio
import urllib.parse
from asyncio import TimerHandle
from dataclasses import dataclass
from typing import Any

import httptools
import uvicorn
from starlette.types import Scope
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.utils import get_client_addr, get_path_with_query_string

from motia import jsoncodec
from motia.http.lean_cycle import LeanCycle
from motia.settings import Settings
from motia.system_paths import SYSTEM_PREFIX

_ASGI = {"version": "3.0", "spec_version": "2.3"}


@dataclass(frozen=True)
class HeaderLimits:
    max_bytes: int = 64 * 1024  # request line and headers
    max_count: int = 100
    timeout: float = 10.0  # seconds from the first byte of a request to the end of its headers

    @classmethod
    def of(cls, settings: Settings) -> HeaderLimits:
        return cls(settings.max_header_size, settings.max_headers, settings.header_timeout)


class ServerConfig(uvicorn.Config):
    """uvicorn's config plus the header limits, which reach each protocol through it (and,
    pickled, each `--workers` process)."""

    def __init__(self, app: Any, *, header_limits: HeaderLimits, **options: Any) -> None:
        super().__init__(app, http=LimitedHttpProtocol, **options)
        self.header_limits = header_limits


class _HeaderLimit(Exception):
    """Raised from a parser callback: parsing stops there, and the client gets 431."""


class LimitedHttpProtocol(HttpToolsProtocol):
    _head_bytes: int | None  # the exact size of the request's headers, once trailers need it
    cycle: Any  # uvicorn's cycle (system routes) or a LeanCycle (every other request)

    def __init__(self, config: uvicorn.Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self.limits = config.header_limits if isinstance(config, ServerConfig) else HeaderLimits()
        self._idle_since: float | None = None  # when the last answer ended, while idle

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._reading_headers = True
        self._header_bytes = 0
        self._refusal: tuple[int, str] | None = None
        self._reset_trailers()
        # A connection that sends nothing at all is timed too.
        self._header_timer: TimerHandle | None = self.loop.call_later(
            self.limits.timeout, self._header_timeout
        )

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_timer()
        if self.timeout_keep_alive_task is not None:
            self.timeout_keep_alive_task.cancel()
            self.timeout_keep_alive_task = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refusal is not None:
            return  # refused: what else the client sends is ignored until the socket closes
        if not self._reading_headers:
            self._body_received(data)
            return
        self._header_bytes += len(data)
        super().data_received(data)
        if self.transport.get_protocol() is not self:
            return  # upgraded: the connection is a WebSocket's now, see handle_websocket_upgrade
        if not self._reading_headers:
            return  # the usual case: the headers came whole; no timer needed
        # Still in the headers after this chunk: the parser has held at most one chunk more
        # than the limit, and the app has seen nothing.
        if self._header_bytes > self.limits.max_bytes:
            self._refuse(431, self._too_large())
        elif self._header_timer is None:
            self._header_timer = self.loop.call_later(self.limits.timeout, self._header_timeout)

    def _body_received(self, data: bytes) -> None:
        in_trailers = self._in_trailers
        events = self._chunk_events
        super().data_received(data)
        if in_trailers and self._in_trailers and events == self._chunk_events:
            # The whole read went into a trailer block the parser has not finished: it
            # holds these bytes, so they count before the trailer is complete. (The read
            # in which the trailers began is not counted: at most one read past the limit,
            # as for headers.)
            self._trailer_bytes += len(data)
            if self._head_size() + self._trailer_bytes > self.limits.max_bytes:
                self._refuse(431, self._too_large())

    # A chunk header starts either a chunk's data (`on_body` follows) or, for the last
    # chunk, the trailers (`on_header` follows, then `on_chunk_complete`).
    def on_chunk_header(self) -> None:
        self._in_trailers = True
        self._chunk_events += 1

    def on_body(self, body: bytes) -> None:
        if self._in_trailers:
            self._in_trailers = False
            self._chunk_events += 1
        if type(self.cycle) is LeanCycle:
            self.cycle.body_received(body)
        else:
            super().on_body(body)

    def on_chunk_complete(self) -> None:
        self._in_trailers = False
        self._chunk_events += 1

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._reading_headers:
            super().on_header(name, value)
            return
        # A trailer: counted with the headers, then dropped.
        self._trailer_count += 1
        self._trailer_exact += len(name) + len(value) + 4
        if len(self.headers) + self._trailer_count > self.limits.max_count:
            self._refuse_from_parser(f"More than {self.limits.max_count} request headers")
        trailers = max(self._trailer_bytes, self._trailer_exact)
        if self._head_size() + trailers > self.limits.max_bytes:
            self._refuse_from_parser(self._too_large())

    def _head_size(self) -> int:
        if self._head_bytes is None:
            self._head_bytes = self._exact_size()
        return self._head_bytes

    def _reset_trailers(self) -> None:
        self._in_trailers = False
        self._chunk_events = 0
        self._trailer_count = 0
        self._trailer_bytes = 0  # whole reads that went into an unfinished trailer block
        self._trailer_exact = 0  # the trailers parsed so far
        self._head_bytes = None

    def on_headers_complete(self) -> None:
        self._reading_headers = False
        if self._header_timer is not None:
            self._stop_header_timer()
        # Checked once the parser has them all, not per header: the hot path stays as is.
        if len(self.headers) > self.limits.max_count:
            self._refuse_from_parser(f"More than {self.limits.max_count} request headers")
        # Headers that came whole in one chunk with a body: only then count them exactly.
        if (
            self._header_bytes > self.limits.max_bytes
            and self._exact_size() > self.limits.max_bytes
        ):
            self._refuse_from_parser(self._too_large())
        self._begin_request()

    def _exact_size(self) -> int:
        return len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)

    def _refuse_from_parser(self, message: str) -> None:
        self._refusal = (431, message)
        raise _HeaderLimit(message)

    def _too_large(self) -> str:
        return f"Request headers are larger than {self.limits.max_bytes} bytes"

    def on_message_begin(self) -> None:
        # uvicorn's scope is made in `_begin_request`, only for the requests it serves.
        self.url = b""
        self.expect_100_continue = False
        self.headers = []

    def _begin_request(self) -> None:
        """A lean cycle for the request, or uvicorn's for the system routes (streamed
        answers, the workbench) and WebSocket upgrades."""
        parser = self.parser
        http_version = parser.get_http_version()
        if not parser.should_upgrade():
            url = httptools.parse_url(self.url)
            raw_path = url.path
            path = raw_path.decode("ascii")
            if "%" in path:
                path = urllib.parse.unquote(path)
            if not path.startswith(SYSTEM_PREFIX) and not self._overloaded():
                self._begin_lean(http_version, path, raw_path, url.query or b"")
                return
        self.scope = {  # type: ignore[typeddict-item]
            "type": "http",
            "asgi": {"version": self.asgi_version, "spec_version": "2.3"},
            "http_version": "1.1",
            "server": self.server,
            "client": self.client,
            "scheme": self.scheme,  # type: ignore[typeddict-item]
            "root_path": self.root_path,
            "headers": self.headers,
            "state": self.app_state.copy(),
        }
        super().on_headers_complete()

    def _overloaded(self) -> bool:
        limit = self.limit_concurrency  # uvicorn answers 503 past it
        return limit is not None and (len(self.connections) >= limit or len(self.tasks) >= limit)

    def _begin_lean(self, http_version: str, path: str, raw_path: bytes, query: bytes) -> None:
        root = self.root_path
        scope: Scope = {
            "type": "http",
            "asgi": _ASGI,
            "http_version": http_version,
            "server": self.server,
            "client": self.client,
            "scheme": self.scheme,
            "root_path": root,
            "headers": self.headers,
            "method": self.parser.get_method().decode("ascii"),
            "path": root + path if root else path,
            "raw_path": root.encode("ascii") + raw_path if root else raw_path,
            "query_string": query,
        }
        if self.app_state:
            scope["state"] = self.app_state.copy()
        keep_alive = http_version != "1.0" and self.parser.should_keep_alive()
        previous = self.cycle
        self.cycle = LeanCycle(self, scope, keep_alive, self.expect_100_continue)
        if previous is None or previous.response_complete:
            self._start_asgi_task(self.cycle, self.app)
        else:  # pipelined: it waits for the answer before it
            self.flow.pause_reading()
            self.pipeline.appendleft((self.cycle, self.app))

    def _start_asgi_task(self, cycle: Any, app: Any) -> None:
        if type(cycle) is LeanCycle:
            task = self.loop.create_task(cycle.run(app))
            task.add_done_callback(self.tasks.discard)
            self.tasks.add(task)
            return
        cycle.transport = JoinedWrites(self.transport, self.loop)
        super()._start_asgi_task(cycle, app)

    def log_access(self, scope: Scope, status: int) -> None:
        self.access_logger.info(
            '%s - "%s %s HTTP/%s" %d',
            get_client_addr(scope),  # type: ignore[arg-type]
            scope["method"],
            get_path_with_query_string(scope),  # type: ignore[arg-type]
            scope["http_version"],
            status,
        )

    # Keep-alive: uvicorn arms a timer after every answer and cancels it on the next
    # request. One timer per connection instead, moved on when it fires early.
    def _unset_keepalive_if_required(self) -> None:
        self._idle_since = None

    def on_response_complete(self) -> None:
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        self.flow.resume_reading()
        if self.pipeline:
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
            return
        self._idle_since = self.loop.time()
        if self.timeout_keep_alive_task is None:
            self.timeout_keep_alive_task = self.loop.call_later(
                self.timeout_keep_alive, self._keep_alive_due
            )

    def _keep_alive_due(self) -> None:
        self.timeout_keep_alive_task = None
        if self._idle_since is None or self.transport.is_closing():
            return  # busy: the end of its answer arms the timer again
        left = self._idle_since + self.timeout_keep_alive - self.loop.time()
        if left > 0:
            self.timeout_keep_alive_task = self.loop.call_later(left, self._keep_alive_due)
        else:
            self.transport.close()

    def handle_websocket_upgrade(self) -> None:
        # The connection passes to the WebSocket protocol and this one never hears of it
        # again (no `connection_lost`): its header timer must not close the socket later.
        self._reading_headers = False
        self._stop_header_timer()
        super().handle_websocket_upgrade()

    def on_message_complete(self) -> None:
        self._reading_headers = True  # the next request on this connection
        self._header_bytes = 0
        if self._chunk_events:
            self._reset_trailers()
        if type(self.cycle) is LeanCycle:
            self.cycle.request_complete()
        else:
            super().on_message_complete()

    def send_400_response(self, msg: str) -> None:
        # uvicorn answers every parser error here, ours (too many headers) included.
        if self._refusal is not None:
            status, message = self._refusal
            self._refusal = None
            self._refuse(status, message)
            return
        super().send_400_response(msg)

    def _header_timeout(self) -> None:
        self._header_timer = None
        if not self._reading_headers or self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            return  # a response is still being written; the next request waits for it
        if self._header_bytes:
            self._refuse(408, f"Request headers not received within {self.limits.timeout:g} s")
        else:
            self.transport.close()  # nothing was asked: nothing to answer

    def _refuse(self, status: int, message: str) -> None:
        self._refusal = (status, message)
        self._stop_header_timer()
        if self.cycle is not None and self.cycle.response_started and not self._reading_headers:
            self.transport.close()  # refused in the trailers, after the app began to answer
            return
        body = jsoncodec.dumps({"error": message})
        reason = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}[status]
        head = b"HTTP/1.1 %d %s\r\n" % (status, reason)
        self.transport.write(
            head
            + b"content-type: application/json\r\n"
            + b"content-length: %d\r\n" % len(body)
            + b"connection: close\r\n\r\n"
            + body
        )
        self.transport.close()

    def _stop_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None


class JoinedWrites(asyncio.Transport):
    """The transport as one response's cycle sees it: the first write (the status line and
    headers) is held until the body follows, so a response leaves in one write, one system
    call and one wake-up of the client instead of two. What is held goes out by itself at
    the loop's next turn (a streamed body that starts later, a `100 Continue`), and before
    a close; every later write passes straight through."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None
        self._passing = False  # the first write has gone out: no more holding

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._passing:
            self._transport.write(data)
        elif self._held is None:
            self._held = bytes(data)
            self._loop.call_soon(self._flush)
        else:
            held, self._held = self._held, None
            self._passing = True
            self._transport.write(held + data)

    def _flush(self) -> None:
        held, self._held = self._held, None
        self._passing = True
        if held is not None and not self._transport.is_closing():
            self._transport.write(held)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)
