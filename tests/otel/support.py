"""What the OpenTelemetry tests share: a project with one flow (API → Python event →
JavaScript event) and the checks of its spans."""

from __future__ import annotations

from tests.conftest import wait_for
from tests.otel.receiver import Received, Span

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"

PROJECT = {
    "steps/place_order_step.py": """
        config = {
            "type": "api", "name": "PlaceOrder", "method": "POST", "path": "/orders/:shop",
            "emits": ["order.placed"], "flows": ["shop"],
        }

        async def handler(req, ctx):
            await ctx.state.set("orders", req["body"]["id"], req["body"])
            await ctx.emit({"topic": "order.placed", "data": req["body"]})
            return {"status": 201, "body": {"traceId": ctx.trace_id}}
    """,
    "steps/charge_step.py": """
        import asyncio

        config = {
            "type": "event", "name": "Charge", "subscribes": ["order.placed"],
            "emits": ["order.charged"], "flows": ["shop"],
            "infrastructure": {"queue": {"concurrency": 1}},
        }

        async def handler(data, ctx):
            await asyncio.sleep(data.get("sleep", 0))
            ctx.logger.info("charging", {"order": data["id"]})
            await ctx.emit({"topic": "order.charged", "data": data})
    """,
    "steps/notify.step.js": """
        exports.config = {
          type: 'event', name: 'Notify', subscribes: ['order.charged'], emits: [],
          flows: ['shop'],
        }
        exports.handler = async (data, { logger }) => {
          logger.info('notified', { order: data.id })
        }
    """,
    "steps/boom_step.py": """
        config = {"type": "api", "name": "Boom", "method": "GET", "path": "/boom", "emits": []}

        async def handler(req, ctx):
            raise RuntimeError("the handler broke")
    """,
}


def otel_env(endpoint: str, delay_ms: int = 100, **more: str) -> dict[str, str]:
    return {
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": str(delay_ms),
        "OTEL_BLRP_SCHEDULE_DELAY": str(delay_ms),
        **more,
    }


def traceparent(span: str = CALLER_SPAN, trace: str = CALLER_TRACE) -> dict[str, str]:
    return {"traceparent": f"00-{trace}-{span}-01"}


def one(spans: list[Span], name: str) -> Span:
    found = [span for span in spans if span.name == name]
    assert len(found) == 1, (name, [(s.name, s.span_id, s.parent_id) for s in spans])
    return found[0]


def flow_spans(received: Received, trace_id: str) -> dict[str, Span]:
    """The six spans of one flow, checked for their parents, kinds and attributes."""
    spans = wait_for(
        lambda: (found := received.trace(trace_id)) and len(found) >= 6 and found,
        15,
        what=f"the six spans of trace {trace_id}",
    )
    assert len(spans) == 6, [(s.name, s.kind) for s in spans]
    server = one(spans, "POST /orders/:shop")
    api = one(spans, "api PlaceOrder")
    placed = one(spans, "emit order.placed")
    charge = one(spans, "event Charge")
    charged = one(spans, "emit order.charged")
    notify = one(spans, "event Notify")
    assert server.kind == "SERVER"
    assert server.attributes["http.request.method"] == "POST"
    assert server.attributes["http.route"] == "/orders/:shop"
    assert server.attributes["url.path"].startswith("/orders/")
    assert server.attributes["http.response.status_code"] == 201
    assert api.parent_id == server.span_id and api.kind == "INTERNAL"
    assert api.attributes["motia.step"] == "PlaceOrder"
    assert api.attributes["motia.outcome"] == "ok"
    assert placed.parent_id == api.span_id and placed.kind == "PRODUCER"
    assert placed.attributes["motia.topic"] == "order.placed"
    assert charge.parent_id == placed.span_id and charge.kind == "CONSUMER"
    assert charge.attributes["motia.step"] == "Charge"
    assert charge.attributes["motia.topic"] == "order.placed"
    assert charge.attributes["motia.attempt"] == 1
    assert charge.attributes["motia.outcome"] == "ok"
    assert charge.attributes["messaging.message.id"] == placed.attributes["messaging.message.id"]
    assert charged.parent_id == charge.span_id
    assert notify.parent_id == charged.span_id and notify.kind == "CONSUMER"
    assert notify.attributes["motia.outcome"] == "ok"
    return {
        "server": server,
        "api": api,
        "placed": placed,
        "charge": charge,
        "charged": charged,
        "notify": notify,
    }
