def can_access(subscription, auth_context):
    return False  # the first draft of the feed was private


config = {
    "name": "articleFeed",
    "schema": {"type": "object", "properties": {"slug": {"type": "string"}}},
    "baseConfig": {"storageType": "default"},
    "canAccess": can_access,
}
