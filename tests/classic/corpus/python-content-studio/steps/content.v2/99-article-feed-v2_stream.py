async def can_access(subscription, auth_context):
    return subscription["groupId"] == "published"


config = {
    "name": "articleFeed",
    "schema": {
        "type": "object",
        "properties": {"slug": {"type": "string"}, "headline": {"type": "string"}},
    },
    "baseConfig": {"storageType": "default"},
    "canAccess": can_access,
}
