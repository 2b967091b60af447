"""Small projects the test-kit tests run: written into a temporary folder per test."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import write_project

SHOP = {
    "steps/api/create_order_step.py": """
        config = {
            "type": "api",
            "name": "CreateOrder",
            "method": "POST",
            "path": "/orders",
            "bodySchema": {
                "type": "object",
                "properties": {"item": {"type": "string", "minLength": 1}},
                "required": ["item"],
            },
            "emits": ["order.created"],
            "flows": ["shop"],
        }


        async def handler(req, ctx):
            order = {"id": "o-" + req["body"]["item"], "item": req["body"]["item"]}
            await ctx.state.set("orders", order["id"], {**order, "status": "created"})
            await ctx.streams.orderStatus.set("orders", order["id"], {"status": "created"})
            await ctx.emit({"topic": "order.created", "data": order})
            return {"status": 201, "body": order}
    """,
    "steps/api/get_order_step.py": """
        config = {
            "type": "api",
            "name": "GetOrder",
            "method": "GET",
            "path": "/orders/:id",
            "emits": [],
        }


        async def handler(req, ctx):
            order = await ctx.state.get("orders", req["pathParams"]["id"])
            if order is None:
                return {"status": 404, "body": {"error": "no such order"}}
            return {"status": 200, "body": order}
    """,
    "steps/events/reserve_step.py": """
        config = {
            "type": "event",
            "name": "ReserveStock",
            "subscribes": ["order.created"],
            "emits": ["stock.reserved"],
            "input": {
                "type": "object",
                "properties": {"id": {"type": "string"}},
                "required": ["id"],
            },
            "flows": ["shop"],
        }


        async def handler(order, ctx):
            await ctx.state.set("stock", order["item"], {"reservedFor": order["id"]})
            await ctx.emit({"topic": "stock.reserved", "data": order})
    """,
    "steps/events/charge_step.py": """
        config = {
            "type": "event",
            "name": "ChargeCard",
            "subscribes": ["stock.reserved"],
            "emits": ["order.charged"],
            "infrastructure": {
                "queue": {"maxRetries": 5, "backoff": {"type": "exponential", "delay": 2}}
            },
            "flows": ["shop"],
        }


        async def handler(order, ctx):
            attempts = await ctx.state.get("attempts", order["id"]) or []
            attempts.append({"attempt": ctx.attempt, "at": ctx.utils.dates.now().isoformat()})
            await ctx.state.set("attempts", order["id"], attempts)
            if ctx.attempt < 3:
                raise ConnectionError(f"payment gateway down (attempt {ctx.attempt})")
            current = await ctx.state.get("orders", order["id"]) or order
            await ctx.state.set("orders", order["id"], {**current, "status": "charged"})
            await ctx.streams.orderStatus.set("orders", order["id"], {"status": "charged"})
            await ctx.emit({"topic": "order.charged", "data": order})
    """,
    "steps/events/follow_up_step.py": """
        config = {
            "type": "event",
            "name": "FollowUp",
            "subscribes": ["order.charged"],
            "emits": ["order.followed_up"],
            "infrastructure": {"queue": {"delaySeconds": 30}},
            "flows": ["shop"],
        }


        async def handler(order, ctx):
            at = ctx.utils.dates.now().isoformat()
            await ctx.emit({"topic": "order.followed_up", "data": {**order, "at": at}})
    """,
    "steps/events/doomed_step.py": """
        config = {
            "type": "event",
            "name": "Doomed",
            "subscribes": ["doomed"],
            "emits": [],
            "infrastructure": {"queue": {"maxRetries": 2, "backoff": {"delay": 5}}},
        }


        async def handler(data, ctx):
            raise ValueError(f"boom: {data['why']}")
    """,
    "steps/events/audit_step.py": """
        import os

        config = {"type": "event", "name": "Audit", "subscribes": ["audit"], "emits": []}


        def handler(data, ctx):
            # A sync handler: runs in a worker thread, context calls block until done.
            ctx.state.set("audit", data["id"], {"region": os.environ.get("SHOP_REGION")})
    """,
    "steps/events/ledger_step.py": """
        config = {
            "type": "event",
            "name": "Ledger",
            "subscribes": ["ledger.entry"],
            "emits": [],
            "infrastructure": {"queue": {"type": "fifo", "backoff": {"delay": 10}}},
        }


        async def handler(entry, ctx):
            if entry.get("flaky") and ctx.attempt == 1:
                raise TimeoutError("ledger busy")
            book = await ctx.state.get("ledger", "book") or []
            await ctx.state.set("ledger", "book", [*book, entry["n"]])
    """,
    "steps/cron/sweep_step.py": """
        config = {
            "type": "cron",
            "name": "Sweep",
            "cron": "*/5 * * * *",
            "emits": ["sweep.done"],
        }


        async def handler(ctx):
            runs = (await ctx.state.get("sweep", "runs") or 0) + 1
            await ctx.state.set("sweep", "runs", runs)
            at = ctx.utils.dates.now().isoformat()
            await ctx.emit({"topic": "sweep.done", "data": {"run": runs, "at": at}})
    """,
    "steps/streams/order_status_stream.py": """
        config = {
            "name": "orderStatus",
            "schema": {
                "type": "object",
                "properties": {"status": {"type": "string"}},
                "required": ["status"],
            },
            "baseConfig": {"storageType": "default"},
        }
    """,
}

BROKEN_CRON = {
    "steps/cron/broken_step.py": """
        config = {"type": "cron", "name": "Broken", "cron": "* * * * *", "emits": []}


        async def handler(ctx):
            raise RuntimeError("the report could not be built")
    """,
}


def shop(root: Path) -> Path:
    return write_project(root / "shop", SHOP)


def broken_cron(root: Path) -> Path:
    return write_project(root / "broken", BROKEN_CRON)
