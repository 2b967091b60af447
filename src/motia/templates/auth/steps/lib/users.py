"""Where users live in state, and the answers the auth steps share.

State keys follow `user:{id}:profile` in the group `users`; the group `emails` maps a
lower-cased email address to the user id, so sign-up and login find a user by email.
"""

import hashlib
from typing import Any

from motia import ApiResponse, FlowContext


def profile_key(user_id: str) -> str:
    return f"user:{user_id}:profile"


def normalise(email: str) -> str:
    return email.strip().lower()


async def user_by_email(ctx: FlowContext, email: str) -> dict[str, Any] | None:
    user_id = await ctx.state.get("emails", normalise(email))
    if user_id is None:
        return None
    user: dict[str, Any] | None = await ctx.state.get("users", profile_key(user_id))
    return user


def digest(secret: str) -> str:
    """What is stored of a one-time secret (a verification token): its SHA-256, never
    the secret itself, so a copy of the database does not hold usable links."""
    return hashlib.sha256(secret.encode()).hexdigest()


def error(status: int, code: str, message: str) -> ApiResponse:
    """Every refusal of these steps: a machine-readable code and a sentence."""
    return {"status": status, "body": {"error": code, "message": message}}


def public(user: dict[str, Any]) -> dict[str, Any]:
    return {k: user[k] for k in ("id", "email", "name", "verified", "createdAt")}
