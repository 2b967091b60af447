"""A blocking test client for runner processes: starts a runner with the protocol socket
on an inherited fd and exchanges raw frames with it, so the child side can be tested on its own."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

Frame = dict[str, Any]


class RawRunner:
    """One runner process and its end of the socket pair."""

    def __init__(self, command: list[str], project_dir: Path, env: dict[str, str] | None = None):
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock = parent
        self._buffer = b""
        self._next_id = 0
        child_fd = child.fileno()
        full_env = {
            **os.environ,
            "MOTIA_RUNNER_FD": str(child_fd),
            "MOTIA_PROJECT_DIR": str(project_dir),
            **(env or {}),
        }
        self.process = subprocess.Popen(
            command,
            cwd=project_dir,
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=(child_fd,),
        )
        child.close()

    def send(self, frame: Frame) -> None:
        self.sock.sendall(json.dumps(frame).encode() + b"\n")

    def request(self, frame: Frame) -> int:
        """Send a request with a fresh id; returns the id."""
        self._next_id += 1
        self.send({**frame, "id": self._next_id})
        return self._next_id

    def read(self, timeout: float = 10.0) -> Frame:
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no frame within {timeout} s; stderr: {self.stderr_so_far()}")
            self.sock.settimeout(remaining)
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise EOFError(f"runner closed the socket; stderr: {self.stderr_so_far()}")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        frame: Frame = json.loads(line)
        return frame

    def read_until(self, predicate: Any, timeout: float = 10.0) -> tuple[Frame, list[Frame]]:
        """Read frames until one matches; returns it and the frames read before it."""
        seen: list[Frame] = []
        deadline = time.monotonic() + timeout
        while True:
            frame = self.read(max(0.01, deadline - time.monotonic()))
            if predicate(frame):
                return frame, seen
            seen.append(frame)

    def stderr_so_far(self) -> str:
        if self.process.poll() is None:
            return "(runner still running)"
        assert self.process.stderr is not None
        return self.process.stderr.read().decode(errors="replace")[-4000:]

    def close(self) -> None:
        self.sock.close()
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(5)
        for pipe in (self.process.stdout, self.process.stderr):
            if pipe is not None:
                pipe.close()
