config = {
    "type": "cron",
    "name": "ReminderSweep",
    "cron": "* * * * *",
    "emits": [],
    "flows": ["reminders"],
}


async def handler(ctx):
    reminders = await ctx.state.get_group("reminders")
    sent = [r for r in reminders if r.get("status") == "sent"]
    await ctx.state.set("audit", "sweep", {"sent": len(sent)})
