config = {
    "type": "noop",
    "name": "OpsReview",
    "description": "A person reviews the ingestion report",
    "virtualSubscribes": ["ops.notified"],
    "virtualEmits": [],
    "flows": ["ingestion"],
}
