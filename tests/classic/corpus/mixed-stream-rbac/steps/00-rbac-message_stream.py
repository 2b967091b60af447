async def can_access(subscription, auth_context):
    if not auth_context:
        return False
    if auth_context.get("role") == "admin":
        return True
    return subscription["groupId"].startswith(auth_context["userId"] + "-")


config = {
    "name": "rbacMessage",
    "schema": {
        "type": "object",
        "properties": {"text": {"type": "string"}, "moderated": {"type": "boolean"}},
    },
    "baseConfig": {"storageType": "default"},
    "canAccess": can_access,
}
