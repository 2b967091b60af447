"""Live status of each resource, grouped by kind, and of its approval (group `approvals`);
browsers watch it over WebSocket."""

from motia import StreamConfig

config: StreamConfig = {
    "name": "resourceStatus",
    "schema": {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "status": {
                "type": "string",
                "enum": [
                    "accepted",
                    "processed",
                    "awaiting approval",
                    "approved",
                    "rejected",
                    "expired",
                ],
            },
            "updatedAt": {"type": "string"},
        },
        "required": ["name", "status"],
    },
    "baseConfig": {"storageType": "default", "ttl": 3600},
}
