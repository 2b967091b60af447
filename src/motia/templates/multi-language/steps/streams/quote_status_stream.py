"""Live quote status for browsers."""

from motia import StreamConfig

config: StreamConfig = {
    "name": "quoteStatus",
    "schema": {
        "type": "object",
        "properties": {"status": {"type": "string"}},
        "required": ["status"],
    },
    "baseConfig": {"storageType": "default", "ttl": 3600},
}
