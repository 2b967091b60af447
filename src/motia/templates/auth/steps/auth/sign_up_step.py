"""Sign up: store the user with an argon2id password hash, then send a verification mail."""

import uuid

from steps.lib.users import error, normalise, profile_key, public

from motia import ApiRequest, ApiResponse, ApiRouteConfig, FlowContext
from motia.auth import hash_password

config: ApiRouteConfig = {
    "type": "api",
    "name": "SignUp",
    "description": "Create an account; it must be verified by email before login",
    "method": "POST",
    "path": "/auth/signup",
    "auth": False,
    "rateLimit": {"requests": 5, "per": "1m", "by": "ip"},
    "bodySchema": {
        "type": "object",
        "properties": {
            "email": {"type": "string", "format": "email", "maxLength": 254},
            "password": {"type": "string", "minLength": 12, "maxLength": 256},
            "name": {"type": "string", "minLength": 1, "maxLength": 100},
        },
        "required": ["email", "password", "name"],
        "additionalProperties": False,
    },
    "emits": ["user.signed_up"],
    "flows": ["auth"],
}


async def handler(req: ApiRequest, ctx: FlowContext) -> ApiResponse:
    body = req["body"]
    email = normalise(body["email"])
    if await ctx.state.get("emails", email) is not None:
        return error(409, "email_taken", "an account with this email exists")
    user_id = str(uuid.uuid4())
    user = {
        "id": user_id,
        "email": email,
        "name": body["name"],
        "passwordHash": hash_password(body["password"]),
        "verified": False,
        "scopes": ["profile:read"],
        "createdAt": ctx.utils.dates.now().isoformat(),
    }
    await ctx.state.set("users", profile_key(user_id), user)
    await ctx.state.set("emails", email, user_id)
    await ctx.emit({"topic": "user.signed_up", "data": {"userId": user_id}})
    return {"status": 201, "body": public(user)}
