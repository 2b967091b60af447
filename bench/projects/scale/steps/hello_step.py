"""Readiness probe of the figure 13 servers."""

import os
from typing import Any

config = {"type": "api", "name": "Hello", "method": "GET", "path": "/hello", "emits": [],
          "flows": ["scale"]}


async def handler(req: dict[str, Any], ctx: Any) -> dict[str, Any]:
    return {"status": 200, "body": {"pid": os.getpid()}}
