"""What a browser watches of a run: group = the run id; items `status`, `plan`, `answer`
and one per tool call (`c1`, `c2`, ...); `token` events carry the answer as it is written."""

from motia import StreamConfig

config: StreamConfig = {
    "name": "runOutput",
    "schema": {"type": "object"},
    "baseConfig": {"storageType": "default", "ttl": 86400},
}
