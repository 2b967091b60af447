"""1.0-form JavaScript and TypeScript steps through the Node runner: every trigger type,
conditions asked in the runner, `ctx.trigger` / `getData` / `match` / `enqueue`, and the
new state calls."""

from __future__ import annotations

from pathlib import Path

import pytest

from motia.testing import create_tester
from tests.conftest import write_project
from tests.runners.support import node_project, require

STEPS = {
    "steps/items_stream.py": """
        config = {"name": "items", "schema": {"type": "object"}}
    """,
    "steps/orders.step.ts": """
        import { z } from 'zod'

        const order = z.object({ amount: z.number() })

        export const config = {
          name: 'TsOrders',
          flows: ['orders'],
          triggers: [
            { type: 'http', method: 'POST', path: '/ts/orders', bodySchema: order,
              condition: (req: any) => req.body.amount > 0,
              middleware: [async (req: any, ctx: any, next: () => Promise<any>) => {
                const res = await next()
                return { ...res, headers: { 'x-mw': 'yes' } }
              }] },
            { type: 'queue', topic: 'ts.order', input: order,
              condition: async (input: any) => input.amount >= 10 },
            { type: 'cron', expression: '0 0 * * * *' },
          ],
          enqueues: ['ts.order'],
        } as const

        export const handler = async (input: any, ctx: any) => {
          if (ctx.isApi()) {
            await ctx.enqueue({ topic: 'ts.order', data: ctx.getData() })
            return { status: 201, body: { trigger: ctx.trigger } }
          }
          const label = ctx.match({
            queue: (data: any) => `queue:${data.amount}`,
            default: () => ctx.trigger.type,
          })
          const runs = (await ctx.state.get('ts', 'runs')) ?? []
          await ctx.state.set('ts', 'runs', [...runs, label])
        }
    """,
    "steps/watch.step.js": """
        export const config = {
          name: 'JsWatch',
          triggers: [
            { type: 'state', group: 'counters', condition: (c) => c.new_value?.n >= 2 },
            { type: 'stream', streamName: 'items', condition: (c) => c.type !== 'delete' },
          ],
        }

        export const handler = async (change, ctx) => {
          const key = ctx.isState() ? `state:${change.new_value.n}` : `stream:${change.id}`
          await ctx.state.update('js-seen', key, [{ type: 'increment', path: 'times' }])
          ctx.logger.info('groups', { groups: await ctx.state.listGroups() })
        }
    """,
    "steps/bump_step.py": """
        config = {"name": "Bump", "triggers": [{"type": "queue", "topic": "bump"}]}

        async def handler(data, ctx):
            if data.get("item"):
                await ctx.streams.items.set("g", data["item"], {"x": 1})
            else:
                await ctx.state.update("counters", "c", [{"type": "increment", "path": "n"}])
    """,
}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require("node")
    root = node_project(tmp_path_factory.mktemp("v1node") / "p")
    return write_project(root, STEPS)


async def test_typescript_step_with_http_queue_and_cron_triggers(project: Path) -> None:
    async with create_tester(project) as tester:
        answer = await tester.post("/ts/orders", json={"amount": 12})
        assert answer.status_code == 201, answer.text
        assert answer.headers["x-mw"] == "yes"
        assert answer.json() == {
            "trigger": {"type": "http", "method": "POST", "path": "/ts/orders"}
        }
        refused = await tester.post("/ts/orders", json={"amount": -1})
        assert refused.status_code == 204
        await tester.emit({"topic": "ts.order", "data": {"amount": 3}})  # condition: no
        await tester.wait_until_idle(timeout=20)
        assert await tester.state.get("ts", "runs") == ["queue:12"]
        await tester.run_cron("TsOrders.cron")
        await tester.wait_until_idle(timeout=20)
        assert await tester.state.get("ts", "runs") == ["queue:12", "cron"]


async def test_javascript_state_and_stream_triggers(project: Path) -> None:
    async with create_tester(project) as tester:
        for _ in range(3):
            await tester.emit({"topic": "bump", "data": {}})
            await tester.wait_until_idle(timeout=20)
        await tester.emit({"topic": "bump", "data": {"item": "i1"}})
        await tester.wait_until_idle(timeout=20)
        assert await tester.state.items("js-seen") == {
            "state:2": {"times": 1},
            "state:3": {"times": 1},
            "stream:i1": {"times": 1},
        }
