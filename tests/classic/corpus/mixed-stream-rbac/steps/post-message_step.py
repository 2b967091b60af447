import uuid

config = {
    "type": "api",
    "name": "PostRbacMessage",
    "path": "/rbac/:threadId/messages",
    "method": "POST",
    "emits": ["message.posted"],
    "flows": ["rbac-chat"],
}


async def handler(req, context):
    thread_id = req["pathParams"]["threadId"]
    message_id = uuid.uuid4().hex
    text = req["body"]["text"]
    await context.streams.rbacMessage.set(thread_id, message_id, {"text": text, "moderated": False})
    await context.emit(
        {"topic": "message.posted", "data": {"threadId": thread_id, "id": message_id, "text": text}}
    )
    return {"status": 201, "body": {"id": message_id, "status": "posted"}}
