from motia import http

config = {"name": "Report", "triggers": [http("GET", "/report")]}


async def handler(request, ctx):
    return {
        "status": 200,
        "body": {
            "orders": await ctx.state.list("orders"),
            "paid": await ctx.state.get("report", "paid"),
            "feed": await ctx.state.get("report", "feed"),
            "ticks": await ctx.state.get("report", "ticks"),
            "groups": sorted(await ctx.state.list_groups()),
        },
    }
