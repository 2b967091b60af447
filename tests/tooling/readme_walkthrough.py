"""The curl walk-through of a template's README, replayed against a running server: each
```bash block of curl commands followed by a ```json block must answer what it shows.

In the shown JSON, the string "…" stands for any value (ids, times); everything else must
be equal. A placeholder `<name>` in a command's path, headers or body is the string `name`
of the last answer that had one (`<id>`, `<accessToken>`), or comes from `secrets`: what
only the test can know, such as the token of a mail.
"""

from __future__ import annotations

import itertools
import json
import re
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

FENCE = re.compile(r"```(\w+)\n(.*?)```", re.DOTALL)
PLACEHOLDER = re.compile(r"<(\w+)>")
ANY = "…"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: str | None
    headers: dict[str, str]


@dataclass(frozen=True)
class Step:
    requests: list[Request]
    shown: Any


def steps(readme: str) -> list[Step]:
    """Each bash block with curl commands that is followed by a json block."""
    blocks = FENCE.findall(readme)
    found = []
    for (kind, text), (next_kind, next_text) in itertools.pairwise(blocks):
        requests = [parse_curl(line) for line in _commands(text) if line.startswith("curl ")]
        if kind == "bash" and requests and next_kind == "json":
            found.append(Step(requests, json.loads(next_text)))
    return found


def _commands(block: str) -> list[str]:
    joined = block.replace("\\\n", " ")
    return [line.split(" #")[0].strip() for line in joined.splitlines() if line.strip()]


def parse_curl(command: str) -> Request:
    words = shlex.split(command)
    method, body, url = "GET", None, ""
    headers: dict[str, str] = {}
    i = 1
    while i < len(words):
        word = words[i]
        if word == "-X":
            method, i = words[i + 1], i + 2
        elif word in ("-d", "--data"):
            body, i = words[i + 1], i + 2
            method = "POST" if method == "GET" else method
        elif word == "-H":
            name, _, value = words[i + 1].partition(":")
            headers[name.strip().lower()] = value.strip()
            i += 2
        elif word.startswith("-"):
            i += 1
        else:
            url, i = word, i + 1
    path = "/" + url.split("/", 1)[1] if "/" in url else "/"
    return Request(method, path, body, headers)


def matches(shown: Any, actual: Any) -> bool:
    if shown == ANY:
        return True
    if isinstance(shown, dict):
        return (
            isinstance(actual, dict)
            and shown.keys() == actual.keys()
            and all(matches(v, actual[k]) for k, v in shown.items())
        )
    if isinstance(shown, list):
        return (
            isinstance(actual, list)
            and len(shown) == len(actual)
            and all(matches(a, b) for a, b in zip(shown, actual, strict=True))
        )
    return bool(shown == actual)


def replay(
    readme: str,
    client: httpx.Client,
    before_id_request: Callable[[str], None] = lambda _id: None,
    timeout: float = 15.0,
    secrets: dict[str, Callable[[], str]] | None = None,
) -> int:
    """Run every step; the last request of each is repeated until it answers what the
    README shows (the flow behind it is asynchronous) or `timeout` passes. Returns the
    number of steps checked."""
    found = steps(readme)
    assert found, "the README shows no curl walk-through"
    known: dict[str, str] = {}
    given = secrets or {}

    def fill(text: str) -> str:
        for name in PLACEHOLDER.findall(text):
            if name in given:
                value = given[name]()
            else:
                assert name in known, f"no answer so far had a {name!r} for {text}"
                value = known[name]
            text = text.replace(f"<{name}>", value)
        return text

    for step in found:
        answer: Any = None
        for n, request in enumerate(step.requests):
            if "<id>" in request.path:
                assert "id" in known, f"no id yet for {request.path}"
                before_id_request(known["id"])
            path = fill(request.path)
            headers = {k: fill(v) for k, v in request.headers.items()}
            body = None if request.body is None else json.loads(fill(request.body))
            deadline = time.monotonic() + timeout
            while True:
                response = client.request(request.method, path, json=body, headers=headers)
                answer = response.json() if response.content else None
                last = n == len(step.requests) - 1
                if not last or matches(step.shown, answer) or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            if isinstance(answer, dict):
                known.update((k, v) for k, v in answer.items() if isinstance(v, str))
        assert matches(step.shown, answer), (
            f"the README shows {json.dumps(step.shown)}\nbut {step.requests[-1]} answers "
            f"{json.dumps(answer)}"
        )
    return len(found)
