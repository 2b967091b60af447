"""A state trigger: runs when an order becomes paid, and for no other change."""

from motia import state


async def becomes_paid(change, ctx):
    old, new = change["old_value"] or {}, change["new_value"] or {}
    return new.get("status") == "paid" and old.get("status") != "paid"


config = {
    "name": "OnPaid",
    "flows": ["orders"],
    "triggers": [state(group="orders", condition=becomes_paid)],
}


async def handler(change, ctx):
    order = change["new_value"]
    await ctx.state.update("report", "paid", [{"type": "increment", "path": change["key"]}])
    await ctx.streams["order-feed"].set(
        "all", change["key"], {"amount": order["amount"], "status": "paid"}
    )
