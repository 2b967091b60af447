"""Live order status: clients subscribe over WebSocket (ws://localhost:3000) or SSE."""

from motia import StreamConfig

config: StreamConfig = {
    "name": "orderStatus",
    "schema": {
        "type": "object",
        "properties": {
            "status": {"type": "string", "enum": ["received", "processed"]},
            "total": {"type": "number"},
        },
        "required": ["status"],
    },
    "baseConfig": {"storageType": "default", "ttl": 3600},
}
