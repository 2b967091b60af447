config = {"name": "order-feed", "schema": {"type": "object"}}
