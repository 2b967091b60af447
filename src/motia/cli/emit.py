"""`motia emit`: send one event to a running server."""

from __future__ import annotations

import http.client
import json
import sys

from motia.errors import MotiaError


def emit_event(
    topic: str,
    message: str,
    host: str,
    port: int,
    token: str | None = None,
    *,
    delay: float | None = None,
    at: str | None = None,
    key: str | None = None,
) -> None:
    try:
        data = json.loads(message)
    except json.JSONDecodeError as exc:
        raise MotiaError(f"--message is not valid JSON: {exc}") from None
    if delay is not None and at is not None:
        raise MotiaError("give --delay or --at, not both")
    event: dict[str, object] = {"topic": topic, "data": data}
    # The server checks these as it checks `ctx.emit`'s, and names the field when refusing.
    for field, value in (("delay", delay), ("at", at), ("key", key)):
        if value is not None:
            event[field] = value
    body = json.dumps(event)
    connection = http.client.HTTPConnection(host, port, timeout=10)
    try:
        headers = {"content-type": "application/json"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        connection.request("POST", "/emit", body, headers)
        response = connection.getresponse()
        answer = response.read().decode()
    except OSError as exc:
        raise MotiaError(f"cannot reach a Motia server on {host}:{port}: {exc}") from None
    finally:
        connection.close()
    if response.status == 401:
        hint = "pass --token or set MOTIA_WORKBENCH_TOKEN" if not token else "the token is wrong"
        raise MotiaError(f"the server refused the event (401): {hint}")
    if response.status != 200:
        raise MotiaError(f"the server refused the event ({response.status}): {answer}")
    print(answer)
    try:
        subscribers = json.loads(answer).get("subscribers")
    except (json.JSONDecodeError, AttributeError):
        return
    if subscribers == 0:
        print(
            f"warning: no step subscribes to topic '{topic}', so the event goes nowhere "
            "(`motia flows` lists the topics each step subscribes to)",
            file=sys.stderr,
        )
