"""Live status of each batch for browsers: group `batches`, one item per batch."""

from motia import StreamConfig

config: StreamConfig = {
    "name": "batchStatus",
    "schema": {
        "type": "object",
        "properties": {
            "status": {
                "type": "string",
                "enum": [
                    "checking",
                    "rejected",
                    "awaiting review",
                    "approved",
                    "expired",
                    "reported",
                ],
            },
            "updatedAt": {"type": "string"},
            "problems": {"type": "array", "items": {"type": "string"}},
            "reviewer": {"type": "string"},
            "report": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["status"],
    },
    "baseConfig": {"storageType": "default", "ttl": 86400},
}
