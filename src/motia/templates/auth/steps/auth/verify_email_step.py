"""Verify an email address with the link's token: `GET /auth/verify?token=...`."""

from datetime import datetime
from typing import Any

from steps.lib.users import digest, error, profile_key

from motia import ApiRequest, ApiResponse, ApiRouteConfig, FlowContext

config: ApiRouteConfig = {
    "type": "api",
    "name": "VerifyEmail",
    "description": "Mark an address verified with the token from its mail (once)",
    "method": "GET",
    "path": "/auth/verify",
    "auth": False,
    "rateLimit": {"requests": 60, "per": "1m", "by": "ip"},
    "queryParams": [{"name": "token", "description": "the token from the mail"}],
    "emits": [],
    "flows": ["auth"],
}


async def handler(req: ApiRequest, ctx: FlowContext) -> ApiResponse:
    token = req["queryParams"].get("token", "")
    if isinstance(token, list):
        token = token[0] if token else ""
    key = digest(token)
    pending: dict[str, Any] | None = await ctx.state.get("verifications", key)
    if pending is None:
        return error(400, "invalid_token", "this link is not valid (or was used already)")
    await ctx.state.delete("verifications", key)  # a link works once
    if datetime.fromisoformat(pending["expiresAt"]) < ctx.utils.dates.now():
        return error(400, "expired_token", "this link has expired: sign up again")
    user: dict[str, Any] = await ctx.state.get("users", profile_key(pending["userId"]))
    await ctx.state.set("users", profile_key(user["id"]), {**user, "verified": True})
    return {"status": 200, "body": {"verified": True, "email": user["email"]}}
