config = {
    "name": "ticker",
    "schema": {"type": "object", "properties": {"sentAt": {"type": "integer"}}},
    "baseConfig": {"storageType": "default"},
}
