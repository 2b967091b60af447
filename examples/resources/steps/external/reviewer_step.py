from motia import NoopConfig

config: NoopConfig = {
    "type": "noop",
    "name": "HumanReview",
    "description": "A person reviews processed resources",
    "virtualSubscribes": ["resource.processed"],
    "virtualEmits": [{"topic": "resource.approved", "label": "approved"}],
    "flows": ["resource-processing"],
}
