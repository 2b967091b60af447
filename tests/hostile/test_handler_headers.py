"""A handler that answers with a header the server cannot send (CR/LF in a value, a name
that is not an HTTP token, characters outside Latin-1) gets the JSON 500 and a log record
naming the step and the header, instead of a dropped connection."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ServerProcess, write_project
from tests.hostile._handler_support import records

STEPS = {
    "steps/header_step.py": """
        HEADERS = {
            "crlf": {"x-next": "a\\r\\nSet-Cookie: stolen=1"},
            "lf": {"location": "/home\\nx: y"},
            "name": {"bad name": "x"},
            "latin": {"x-title": "caf\\u00e9 \\u20ac"},
        }

        config = {"type": "api", "name": "Headers", "method": "GET", "path": "/h/:kind"}

        def handler(req, ctx):
            return {"status": 200, "headers": HEADERS[req["pathParams"]["kind"]], "body": "ok"}
    """,
}


@pytest.mark.parametrize(
    ("kind", "header"),
    [("crlf", "x-next"), ("lf", "location"), ("name", "bad name"), ("latin", "x-title")],
)
def test_an_unsendable_header_answers_500_and_names_the_step_and_header(
    tmp_path: Path, server_factory: Callable[..., ServerProcess], kind: str, header: str
) -> None:
    project = write_project(tmp_path / "project", STEPS)
    server = server_factory(project)
    # A raw socket: the full answer is read as bytes, nothing is hidden by a client.
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(f"GET /h/{kind} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
        raw = b""
        while b"}" not in raw:
            chunk = sock.recv(65536)
            assert chunk, f"the connection closed after {raw!r}"
            raw += chunk
    head, body = raw.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 500 ")
    assert b"stolen" not in head
    assert body.startswith(b'{"error":"Internal server error","traceId":')
    logged = [r for r in records(server) if r.get("step") == "Headers" and r["level"] == "error"]
    assert len(logged) == 1
    assert f"'{header}'" in logged[0]["error"]
    assert logged[0]["error"].startswith("InvalidResponse: the response header")
