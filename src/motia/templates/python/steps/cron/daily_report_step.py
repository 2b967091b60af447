"""Every day at 09:00 (cron.timezone in config.yml), summarise the orders."""

from motia import CronConfig, FlowContext

config: CronConfig = {
    "type": "cron",
    "name": "DailyOrderReport",
    "description": "Count processed orders every morning",
    "cron": "0 9 * * *",
    "emits": [],
    "flows": ["orders"],
}


async def handler(ctx: FlowContext) -> None:
    orders = await ctx.state.get_group("orders")
    processed = [o for o in orders if o.get("status") == "processed"]
    report = {"orders": len(orders), "processed": len(processed)}
    await ctx.state.set("reports", "latest", report)
    ctx.logger.info("Daily order report", report)
