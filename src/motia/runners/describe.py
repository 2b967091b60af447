"""Read the configs of a language's step files once, at load: a short-lived runner loads
them and reports, then exits. The long-lived runner of the running server is separate."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from motia.runners import protocol
from motia.runners.languages import RunnerLanguage
from motia.runners.process import RunnerFailed
from motia.runners.protocol import Answer, FileReport, Hello

DESCRIBE_TIMEOUT = 60.0


def describe_files(
    language: RunnerLanguage, binary: str, project_dir: Path, files: list[Path]
) -> list[FileReport]:
    """One report per file, in order; raises RunnerFailed when the runner itself fails."""
    parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    env = {
        **os.environ,
        "MOTIA_RUNNER_FD": str(child.fileno()),
        "MOTIA_PROJECT_DIR": str(project_dir),
        **language.environment(binary),
    }
    # Output goes to a file: a step that prints a lot at import must not fill a pipe that
    # nobody reads while we wait for frames.
    with tempfile.TemporaryFile() as output:
        try:
            process = subprocess.Popen(
                language.command(binary),
                cwd=project_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                pass_fds=(child.fileno(),),
                start_new_session=True,
            )
        except OSError as exc:
            parent.close()
            raise RunnerFailed(f"cannot start the {language.label} runner: {exc}") from exc
        finally:
            child.close()
        try:
            return _exchange(language, parent, [str(f) for f in files])
        except (RunnerFailed, OSError) as exc:
            process.kill()
            process.wait()
            output.seek(0)
            tail = output.read().decode("utf-8", "replace").strip()[-2000:]
            raise RunnerFailed(f"{exc}" + (f"; it printed:\n{tail}" if tail else "")) from None
        finally:
            parent.close()
            _finish(process)


def _exchange(language: RunnerLanguage, sock: socket.socket, files: list[str]) -> list[FileReport]:
    deadline = time.monotonic() + DESCRIBE_TIMEOUT
    decoder = protocol.FrameDecoder()
    pending: list[protocol.Incoming] = []

    def next_frame() -> protocol.Incoming:
        while not pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RunnerFailed(
                    f"the {language.label} runner did not answer within {DESCRIBE_TIMEOUT:g} s"
                )
            sock.settimeout(remaining)
            try:
                chunk = sock.recv(1 << 16)
            except TimeoutError:
                continue
            if not chunk:
                raise RunnerFailed(f"the {language.label} runner exited before it answered")
            try:
                pending.extend(decoder.feed(chunk))
            except protocol.ProtocolError as exc:
                raise RunnerFailed(
                    f"the {language.label} runner broke the protocol: {exc}"
                ) from None
        return pending.pop(0)

    hello = next_frame()
    if not isinstance(hello, Hello):
        raise RunnerFailed(f"the {language.label} runner did not start with a hello frame")
    if hello.protocol != protocol.PROTOCOL_VERSION:
        raise RunnerFailed(
            f"the {language.label} runner speaks protocol {hello.protocol}, "
            f"this server speaks {protocol.PROTOCOL_VERSION}"
        )
    rid, frame = protocol.Requests().load(files)
    sock.sendall(frame)
    while True:
        answer = next_frame()
        if isinstance(answer, Answer) and answer.re == rid:
            break
    if not answer.ok:
        assert answer.error is not None
        raise RunnerFailed(f"the {language.label} runner could not load: {answer.error.message}")
    with contextlib.suppress(OSError):
        sock.sendall(protocol.SHUTDOWN)
    return protocol.parse_load_answer(answer.value)


def _finish(process: subprocess.Popen[bytes]) -> None:
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
