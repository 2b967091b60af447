import uuid

config = {
    "type": "api",
    "name": "ScheduleReminder",
    "path": "/reminders",
    "method": "POST",
    "bodySchema": {
        "type": "object",
        "properties": {"who": {"type": "string", "minLength": 1}, "text": {"type": "string"}},
        "required": ["who", "text"],
    },
    "emits": ["reminder.scheduled"],
    "flows": ["reminders"],
}


async def handler(req, ctx):
    reminder = {"id": uuid.uuid4().hex[:12], **req["body"], "status": "scheduled"}
    await ctx.state.set("reminders", reminder["id"], reminder)
    await ctx.emit({"topic": "reminder.scheduled", "data": reminder})
    return {"status": 201, "body": {"id": reminder["id"], "status": "scheduled"}}
