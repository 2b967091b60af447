"""The live feed of new items; items expire after a minute, so the stream stays small."""

config = {
    "name": "itemFeed",
    "schema": {"type": "object", "properties": {"name": {"type": "string"}}},
    "baseConfig": {"storageType": "default", "ttl": 60},
}
