"""Live progress of each job for browsers: group `jobs`, one item per job."""

from motia import StreamConfig

config: StreamConfig = {
    "name": "jobProgress",
    "schema": {
        "type": "object",
        "properties": {
            "kind": {"type": "string"},
            "status": {
                "type": "string",
                "enum": ["queued", "running", "retrying", "done", "failed", "cancelled"],
            },
            "done": {"type": "integer"},
            "total": {"type": "integer"},
        },
        "required": ["status", "done", "total"],
    },
    "baseConfig": {"storageType": "default", "ttl": 86400},
}
