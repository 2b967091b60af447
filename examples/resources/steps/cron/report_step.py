from motia import CronConfig, FlowContext

config: CronConfig = {
    "type": "cron",
    "name": "ResourceReport",
    "description": "Count processed resources every minute",
    "cron": "* * * * *",
    "emits": [],
    "flows": ["resource-processing"],
}


async def handler(ctx: FlowContext) -> None:
    resources = await ctx.state.get_group("resources")
    ctx.logger.info("Resource report", {"processed": len(resources)})
