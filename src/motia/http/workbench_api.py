"""The workbench's view of the project under /__motia/api: flows, steps and their source,
state, streams, cron jobs, node positions, and a live feed of logs, spans and stream
changes (Server-Sent Events)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from motia import jsoncodec
from motia.files import replace_atomically
from motia.runtime.cron import next_fire_time
from motia.runtime.streams import event_frame
from motia.steps.schema_example import example_of
from motia.workbench_model import flows, step_node

if TYPE_CHECKING:
    from motia.runtime.runtime import Runtime

Endpoint = Callable[[Request], Awaitable[Response]]
LAYOUT_FILE = "motia-workbench.json"
LIVE_BUFFER = 2000


class WorkbenchApi:
    def __init__(self, runtime: Runtime, prefix: str) -> None:
        self.runtime = runtime
        self.prefix = prefix

    def routes(self, guard: Callable[[Endpoint], Endpoint]) -> list[BaseRoute]:
        p = self.prefix
        return [
            Route(f"{p}/flows", guard(self.flows)),
            Route(f"{p}/flows/{{flow}}/layout", guard(self.save_layout), methods=["POST"]),
            Route(f"{p}/steps/{{name}}", guard(self.step)),
            Route(f"{p}/state", guard(self.state_groups)),
            Route(f"{p}/state/{{group}}", guard(self.state_group)),
            Route(
                f"{p}/state/{{group}}/{{key}}",
                guard(self.state_item),
                methods=["GET", "PUT", "DELETE"],
            ),
            Route(f"{p}/streams", guard(self.streams)),
            Route(f"{p}/streams/{{name}}/{{group}}", guard(self.stream_group)),
            Route(f"{p}/cron", guard(self.cron)),
            Route(f"{p}/cron/{{name}}/run", guard(self.run_cron), methods=["POST"]),
            Route(f"{p}/live", guard(self.live)),
        ]

    # --- flows and steps -------------------------------------------------------------

    async def flows(self, request: Request) -> Response:
        project_dir = self.runtime.settings.project_dir
        layout = _read_layout(project_dir / LAYOUT_FILE)
        graphs = flows(self.runtime.project.steps, project_dir)
        for graph in graphs:
            graph["positions"] = layout.get(graph["id"], {})
        return _json(
            {
                "items": graphs,
                "problems": [str(p) for p in self.runtime.project.problems],
                # Stack traces show frames in these files as the user's own.
                "projectDir": str(project_dir.resolve()),
            }
        )

    async def save_layout(self, request: Request) -> Response:
        try:
            body = jsoncodec.loads(await request.body())
        except jsoncodec.JSONDecodeError:
            return _error(400, "the body must be JSON")
        positions = body.get("positions") if isinstance(body, dict) else None
        if not isinstance(positions, dict) or not all(
            isinstance(p, dict)
            and isinstance(p.get("x"), (int, float))
            and isinstance(p.get("y"), (int, float))
            for p in positions.values()
        ):
            return _error(400, "'positions' must map step names to {x, y}")
        path = self.runtime.settings.project_dir / LAYOUT_FILE
        layout = _read_layout(path)
        layout[request.path_params["flow"]] = {
            name: {"x": float(p["x"]), "y": float(p["y"])} for name, p in positions.items()
        }
        # The file sits in the user's project, where editors and watchers read it.
        replace_atomically(path, jsoncodec.dumps_str(layout) + "\n")
        return _json({"saved": len(positions)})

    async def step(self, request: Request) -> Response:
        name = request.path_params["name"]
        step = next((s for s in self.runtime.project.steps if s.name == name), None)
        if step is None:
            return _error(404, f"no step named {name!r}")
        node = step_node(step, self.runtime.settings.project_dir)
        node["config"] = _json_safe(step.raw_config)
        node["schemas"] = {
            "body": step.body_schema.json_schema if step.body_schema else None,
            "input": step.input_schema.json_schema if step.input_schema else None,
            "responses": {str(k): v.json_schema for k, v in step.response_schemas.items()},
        }
        # The endpoint tester prefills the request body with a value the schema accepts.
        node["bodyExample"] = example_of(step.body_schema.json_schema) if step.body_schema else None
        try:
            node["source"] = step.file.read_text(encoding="utf-8")
        except OSError:
            node["source"] = None
        return _json(node)

    # --- state ------------------------------------------------------------------------

    async def state_groups(self, request: Request) -> Response:
        return _json({"items": await self.runtime.state.groups()})

    async def state_group(self, request: Request) -> Response:
        return _json({"items": await self.runtime.state.items(request.path_params["group"])})

    async def state_item(self, request: Request) -> Response:
        group, key = request.path_params["group"], request.path_params["key"]
        state = self.runtime.state
        if request.method == "PUT":
            try:
                value = jsoncodec.loads(await request.body())
            except jsoncodec.JSONDecodeError as exc:
                return _error(400, f"the value must be JSON: {exc}")
            return _json({"value": await state.set(group, key, value)})
        if request.method == "DELETE":
            return _json({"deleted": await state.delete(group, key)})
        value = await state.get(group, key)
        if value is None:
            return _error(404, f"no value for {group}/{key}")
        return _json({"value": value})

    # --- streams ------------------------------------------------------------------------

    async def streams(self, request: Request) -> Response:
        service = self.runtime.streams
        items = []
        for name, definition in sorted(service.definitions.items()):
            items.append(
                {
                    "name": name,
                    "schema": definition.schema.json_schema if definition.schema else None,
                    "ttl": definition.config.base_config.ttl,
                    "groups": await service.store.groups(name),
                    # Open subscriptions in this process: WebSocket and SSE clients.
                    "subscribers": service.hub.listener_count(name),
                }
            )
        return _json({"items": items})

    async def stream_group(self, request: Request) -> Response:
        name, group = request.path_params["name"], request.path_params["group"]
        if name not in self.runtime.streams.definitions:
            return _error(404, f"no stream named {name!r}")
        items = await self.runtime.streams.store.get_group(name, group)
        return _json({"items": items})

    # --- cron -------------------------------------------------------------------------

    async def cron(self, request: Request) -> Response:
        runtime = self.runtime
        timezone = runtime.settings.cron_timezone
        now = runtime.clock.now()
        items = []
        for step in runtime.project.steps:
            if step.type != "cron":
                continue
            expression = step.cron.cron
            last = runtime.cron.last_run.get(step.name)
            items.append(
                {
                    "name": step.name,
                    "expression": expression,
                    "description": _describe_cron(expression),
                    "timezone": timezone,
                    "nextRun": _iso(next_fire_time(expression, now, timezone)),
                    "lastRun": _iso(last) if last else None,
                    "flows": step.flows,
                }
            )
        return _json({"items": items})

    async def run_cron(self, request: Request) -> Response:
        name = request.path_params["name"]
        step = next(
            (s for s in self.runtime.project.steps if s.name == name and s.type == "cron"), None
        )
        if step is None:
            return _error(404, f"no cron step named {name!r}")
        trace_id = await self.runtime.cron.run_now(step)
        return _json({"traceId": trace_id})

    # --- live feed ----------------------------------------------------------------------

    async def live(self, request: Request) -> Response:
        """Server-Sent Events: `log`, `span` and `stream` events as they happen."""
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue(maxsize=LIVE_BUFFER)

        def offer(kind: str, payload: Any) -> None:
            with contextlib.suppress(asyncio.QueueFull):  # a slow viewer misses lines, no more
                queue.put_nowait((kind, payload))

        runtime = self.runtime
        unsubscribers = [
            runtime.sink.subscribe(lambda record: offer("log", record)),
            runtime.streams.hub.subscribe_all(lambda event: offer("stream", event_frame(event))),
        ]
        if runtime.recorder is not None:
            unsubscribers.append(
                runtime.recorder.subscribe_spans(lambda span: offer("span", span.as_dict()))
            )

        async def events() -> AsyncIterator[str]:
            try:
                yield ": connected\n\n"
                while not await request.is_disconnected():
                    try:
                        async with asyncio.timeout(15):
                            kind, payload = await queue.get()
                    except TimeoutError:
                        yield ": keepalive\n\n"
                        continue
                    yield f"event: {kind}\ndata: {jsoncodec.dumps_str(payload)}\n\n"
            finally:
                for unsubscribe in unsubscribers:
                    unsubscribe()

        return StreamingResponse(
            events(), media_type="text/event-stream", headers={"cache-control": "no-cache"}
        )


def _describe_cron(expression: str) -> str:
    from cron_descriptor import get_description  # only the workbench needs it

    try:
        return str(get_description(expression))
    except Exception:
        return expression


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _read_layout(path: Any) -> dict[str, Any]:
    """`motia-workbench.json`: {flow: {step: {x, y}}}."""
    try:
        data = jsoncodec.loads(path.read_bytes())
    except (OSError, jsoncodec.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _json_safe(value: Any) -> Any:
    """Configs hold functions (middleware, canAccess) and Pydantic classes: name them."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, type):
        return f"<class {value.__name__}>"
    if callable(value):
        return f"<function {getattr(value, '__name__', type(value).__name__)}>"
    return str(value)


def _json(body: Any, status: int = 200) -> Response:
    return Response(jsoncodec.dumps(body), status_code=status, media_type="application/json")


def _error(status: int, message: str) -> Response:
    return _json({"error": message}, status)
