"""Log in with email and password: an access token (15 min) and a refresh token."""

from steps.lib import sessions
from steps.lib.users import error, user_by_email

from motia import ApiRequest, ApiResponse, ApiRouteConfig, FlowContext
from motia.auth import hash_password, verify_password

# Compared against when no user has the email, so both answers take as long.
UNKNOWN_USER_HASH = hash_password("there is no such user")

config: ApiRouteConfig = {
    "type": "api",
    "name": "Login",
    "description": "Exchange email and password for an access and a refresh token",
    "method": "POST",
    "path": "/auth/login",
    "auth": False,
    "rateLimit": {"requests": 10, "per": "1m", "by": "ip"},
    "bodySchema": {
        "type": "object",
        "properties": {
            "email": {"type": "string", "maxLength": 254},
            "password": {"type": "string", "maxLength": 256},
        },
        "required": ["email", "password"],
        "additionalProperties": False,
    },
    "emits": [],
    "flows": ["auth"],
}


async def handler(req: ApiRequest, ctx: FlowContext) -> ApiResponse:
    user = await user_by_email(ctx, req["body"]["email"])
    password_hash = user["passwordHash"] if user else UNKNOWN_USER_HASH
    if not verify_password(req["body"]["password"], password_hash) or user is None:
        return error(401, "invalid_credentials", "wrong email or password")
    if not user["verified"]:
        return error(403, "email_not_verified", "verify your email address first")
    return {"status": 200, "body": await sessions.start(ctx, user)}
