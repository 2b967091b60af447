"""One runner process: started with the protocol socket, asked to load and invoke, and
answering the context calls its handlers make."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from motia.errors import MotiaError
from motia.logs import Logger
from motia.runners import protocol
from motia.runners.languages import RunnerLanguage
from motia.runners.protocol import Answer, Call, FileReport, Hello, Log, ProtocolError
from motia.tasks import start_task


class RunnerFailed(MotiaError):
    """A runner could not start, stopped, or broke the protocol."""


class RemoteHandlerError(MotiaError):
    """A handler running in a runner raised; the message and stack are the runner's."""

    def __init__(self, error: protocol.RemoteError) -> None:
        self.remote = error
        name = f"{error.name}: " if error.name else ""
        super().__init__(f"{name}{error.message}")

    @property
    def stack(self) -> str | None:
        return self.remote.stack


class CallTarget(Protocol):
    """Serves the context calls of one invocation."""

    async def call(self, method: str, args: list[Any]) -> Any: ...

    def log(self, level: str, message: str, fields: Any) -> None: ...


class _Channel(asyncio.Protocol):
    def __init__(self, runner: RunnerProcess) -> None:
        self._runner = runner

    def data_received(self, data: bytes) -> None:
        self._runner._received(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self._runner._channel_lost()


class RunnerProcess:
    """A started runner. `exited` resolves with the exit status when the process ends."""

    def __init__(
        self,
        language: RunnerLanguage,
        project_dir: Path,
        logger: Logger,
        on_lost: Callable[[RunnerProcess], None] | None = None,
    ) -> None:
        self.language = language
        self._on_lost = on_lost
        self._killed = False
        self.project_dir = project_dir
        self.logger = logger
        self._requests = protocol.Requests()
        self._decoder = protocol.FrameDecoder()
        self._pending: dict[int, asyncio.Future[Answer]] = {}
        self._targets: dict[int, CallTarget] = {}
        self._transport: asyncio.Transport | None = None
        self._process: asyncio.subprocess.Process | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        loop = asyncio.get_running_loop()
        self._hello: asyncio.Future[Hello] = loop.create_future()
        self.exited: asyncio.Future[int] = loop.create_future()
        self.failure: str | None = None

    @property
    def alive(self) -> bool:
        """Started, not killed, and its socket still open."""
        return (
            not self._killed
            and not self.exited.done()
            and self._transport is not None
            and not self._transport.is_closing()
        )

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    async def start(self, binary: str, timeout: float) -> Hello:
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        env = {
            **os.environ,
            "MOTIA_RUNNER_FD": str(child.fileno()),
            "MOTIA_PROJECT_DIR": str(self.project_dir),
            **self.language.environment(binary),
        }
        try:
            self._process = await asyncio.create_subprocess_exec(
                *self.language.command(binary),
                cwd=self.project_dir,
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                pass_fds=(child.fileno(),),
                start_new_session=True,  # a Ctrl-C in the terminal reaches the server only
            )
        except OSError as exc:
            parent.close()
            raise RunnerFailed(f"cannot start the {self.language.label} runner: {exc}") from exc
        finally:
            child.close()
        loop = asyncio.get_running_loop()
        self._transport, _ = await loop.create_unix_connection(lambda: _Channel(self), sock=parent)
        assert self._process.stdout is not None and self._process.stderr is not None
        self._spawn(self._forward_output(self._process.stdout, "info"), "forwarding its output")
        self._spawn(self._forward_output(self._process.stderr, "warn"), "forwarding its errors")
        self._spawn(self._wait_for_exit(), "waiting for its exit")
        try:
            async with asyncio.timeout(timeout):
                done, _ = await asyncio.wait(
                    (self._hello, self.exited), return_when=asyncio.FIRST_COMPLETED
                )
        except TimeoutError:
            self.kill()
            raise RunnerFailed(
                f"the {self.language.label} runner did not start within {timeout:g} s"
            ) from None
        if self._hello not in done:
            raise RunnerFailed(
                f"the {self.language.label} runner exited with status {self.exited.result()} "
                "before it was ready" + (f": {self.failure}" if self.failure else "")
            )
        hello = self._hello.result()
        if hello.protocol != protocol.PROTOCOL_VERSION:
            self.kill()
            raise RunnerFailed(
                f"the {self.language.label} runner speaks protocol {hello.protocol}, "
                f"this server speaks {protocol.PROTOCOL_VERSION}"
            )
        return hello

    async def load(self, files: list[str]) -> list[FileReport]:
        rid, frame = self._requests.load(files)
        answer = await self._request(rid, frame)
        if not answer.ok:
            assert answer.error is not None
            raise RunnerFailed(
                f"the {self.language.label} runner could not load the steps: {answer.error.message}"
            )
        return protocol.parse_load_answer(answer.value)

    async def invoke(
        self, file: str, kind: str, input: Any, ctx: dict[str, Any], target: CallTarget
    ) -> Any:
        rid, frame = self._requests.invoke(file, kind, input, ctx)
        self._targets[rid] = target
        try:
            answer = await self._request(rid, frame)
        except asyncio.CancelledError:
            # The caller gave up (a handler timeout): tell the runner, which may drop it.
            if self._transport is not None and not self._transport.is_closing():
                self._transport.write(protocol.cancel(rid))
            raise
        finally:
            del self._targets[rid]
        if answer.ok:
            return answer.value
        assert answer.error is not None
        raise RemoteHandlerError(answer.error)

    async def ping(self, timeout: float) -> bool:
        """Whether the runner answers within `timeout`: a handler that blocks its event
        loop (a busy loop, a synchronous wait) stops every invocation of the runner."""
        rid, frame = self._requests.ping()
        try:
            async with asyncio.timeout(timeout):
                await self._request(rid, frame)
        except TimeoutError:
            return False
        return True

    @property
    def in_flight(self) -> int:
        return len(self._targets)

    async def _request(self, rid: int, frame: bytes) -> Answer:
        if self.exited.done() or self._transport is None or self._transport.is_closing():
            raise RunnerFailed(f"the {self.language.label} runner is not running")
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._pending[rid] = future
        self._transport.write(frame)
        try:
            return await future
        finally:
            self._pending.pop(rid, None)

    # --- incoming frames ------------------------------------------------------------

    def _received(self, data: bytes) -> None:
        try:
            frames = self._decoder.feed(data)
        except ProtocolError as exc:
            self._broken(str(exc))
            return
        for frame in frames:
            if isinstance(frame, Answer):
                future = self._pending.get(frame.re)
                if future is not None and not future.done():
                    future.set_result(frame)
            elif isinstance(frame, Call):
                self._spawn(self._serve_call(frame), f"serving its call to {frame.method!r}")
            elif isinstance(frame, Log):
                target = self._targets.get(frame.inv) if frame.inv is not None else None
                if target is not None:
                    target.log(frame.level, frame.msg, frame.fields)
                else:
                    getattr(self.logger, frame.level)(frame.msg, frame.fields)
            elif isinstance(frame, Hello) and not self._hello.done():
                self._hello.set_result(frame)

    async def _serve_call(self, call: Call) -> None:
        target = self._targets.get(call.inv)
        try:
            if target is None:
                raise RunnerFailed(
                    f"'{call.method}' was called after its invocation finished or timed out"
                )
            reply = protocol.ok(call.id, await target.call(call.method, call.args))
        except Exception as exc:
            reply = protocol.err(call.id, exc)
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(reply)

    def _broken(self, reason: str) -> None:
        self.failure = f"protocol error: {reason}"
        self.logger.error(f"the {self.language.label} runner broke the protocol: {reason}")
        self.kill()

    def _channel_lost(self) -> None:
        # The runner closed its end: it is exiting. Fail what waits for it now rather than
        # when the exit status arrives.
        self._fail_pending()
        if self._on_lost is not None:
            self._on_lost(self)

    def _fail_pending(self) -> None:
        status = self.exited.result() if self.exited.done() else None
        reason = (
            f"the {self.language.label} runner stopped"
            + (f" with status {status}" if status is not None else "")
            + (f" ({self.failure})" if self.failure else "")
            + " while this call was running"
        )
        for future in self._pending.values():
            if not future.done():
                future.set_exception(RunnerFailed(reason))

    async def _forward_output(self, pipe: asyncio.StreamReader, level: str) -> None:
        log = getattr(self.logger, level)
        while True:
            try:
                line = await pipe.readline()
            except ValueError:  # a line over the stream limit: read it in pieces
                line = await pipe.read(1 << 16)
            if not line:
                return
            text = line.decode("utf-8", "replace").rstrip()
            if text:
                if level == "warn":
                    self.failure = text[-500:]
                log(text)

    async def _wait_for_exit(self) -> None:
        assert self._process is not None
        status = await self._process.wait()
        # Let the output readers log the last lines (a crash's stack) first.
        await asyncio.sleep(0)
        if not self.exited.done():
            self.exited.set_result(status)
        self._fail_pending()
        if self._transport is not None:
            self._transport.close()

    def _spawn(self, coro: Any, what: str) -> None:
        task = start_task(coro, self.logger, f"the {self.language.label} runner: {what}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- stopping -------------------------------------------------------------------

    async def stop(self, timeout: float) -> None:
        """Ask the runner to finish its work and exit; kill it after `timeout`."""
        if self._process is None or self.exited.done():
            return
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(protocol.SHUTDOWN)
        try:
            async with asyncio.timeout(timeout):
                await asyncio.shield(self.exited)
        except TimeoutError:
            self.kill()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(5):
                    await asyncio.shield(self.exited)
        for task in list(self._tasks):
            task.cancel()

    def kill(self) -> None:
        self._killed = True
        if self._process is not None and self._process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._process.kill()
