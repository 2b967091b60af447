"""Figure 1: the trivial API step, GET returning a small JSON body."""

from typing import Any

config = {
    "type": "api",
    "name": "Hello",
    "method": "GET",
    "path": "/hello",
    "emits": [],
    "flows": ["bench"],
}


async def handler(req: dict[str, Any], ctx: Any) -> dict[str, Any]:
    return {"status": 200, "body": {"message": "hello", "ok": True}}
