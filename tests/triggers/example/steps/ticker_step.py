"""A cron trigger with seconds: ticks every second while the report asks for ticks."""

from motia import cron


async def wanted(input, ctx):
    return (await ctx.state.get("report", "ticking")) is not False


config = {
    "name": "Ticker",
    "flows": ["maintenance"],
    "triggers": [cron("* * * * * *", condition=wanted)],
}


async def handler(input, ctx):
    assert input is None and ctx.is_cron()
    await ctx.state.update("report", "ticks", [{"type": "increment", "path": "n"}])
