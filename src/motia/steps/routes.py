"""API routes compiled once: a dict lookup for static paths, one regex per parameterised
path (`/pets/:id`), checked in the order steps were loaded. Built from the steps, below the
runtime that rebuilds it on reload and the HTTP app that matches requests with it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote

from motia.steps.model import Step

_PARAM = re.compile(r":([A-Za-z_][A-Za-z0-9_]*)")


@dataclass
class _Route:
    methods: dict[str, Step] = field(default_factory=dict)


@dataclass(frozen=True)
class Match:
    step: Step | None
    path_params: dict[str, str]
    allowed: tuple[str, ...]  # methods the path accepts; empty when the path is unknown


class Router:
    def __init__(self, steps: Sequence[Step]) -> None:
        self._static: dict[str, _Route] = {}
        self._dynamic: list[tuple[re.Pattern[str], _Route]] = []
        dynamic_index: dict[str, _Route] = {}
        for step in steps:
            if step.type != "api":
                continue
            path = normalise(step.api.path)
            if ":" in path or "*" in path:
                route = dynamic_index.get(path)
                if route is None:
                    route = dynamic_index[path] = _Route()
                    self._dynamic.append((_compile(path), route))
            else:
                route = self._static.setdefault(path, _Route())
            route.methods.setdefault(step.api.method, step)
        self.routes = [(s.api.method, s.api.path, s) for s in steps if s.type == "api"]

    def match(self, method: str, path: str, raw_path: bytes | None = None) -> Match:
        """`path` is the decoded path; parameters are matched on `raw_path` when given, so
        an encoded slash (`%2F`) stays inside its parameter."""
        route = self._static.get(normalise(path))
        params: dict[str, str] = {}
        if route is None:
            target = normalise(raw_path.decode("latin-1")) if raw_path else normalise(path)
            for pattern, candidate in self._dynamic:
                found = pattern.fullmatch(target)
                if found is not None:
                    route = candidate
                    params = {k: unquote(v) for k, v in found.groupdict().items()}
                    break
            else:
                return Match(None, {}, ())
        step = route.methods.get(method)
        if step is None and method == "HEAD":
            step = route.methods.get("GET")
        return Match(step, params, tuple(route.methods))


def normalise(path: str) -> str:
    return path.rstrip("/") or "/"


def _compile(path: str) -> re.Pattern[str]:
    pattern = ""
    for index, piece in enumerate(_PARAM.split(path)):
        if index % 2:
            pattern += f"(?P<{piece}>[^/]+)"
        else:
            pattern += re.escape(piece).replace(r"\*", ".*")
    return re.compile(pattern)
