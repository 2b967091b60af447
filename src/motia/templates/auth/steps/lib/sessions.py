"""Refresh tokens with rotation and reuse detection.

A login starts a session *family*. Each refresh token may be used once: using it marks it
used and issues the next token of the same family. A used token presented again means
two parties hold the family (one of them stole a token): the whole family is revoked, so
the thief's and the user's tokens stop working together and the user signs in again.
Logout revokes the family too. Access tokens live 15 minutes and are not revocable.
"""

import uuid
from typing import Any

from motia import FlowContext
from motia.auth import InvalidToken, issue_access_token, issue_refresh_token, verify_refresh_token


class SessionRefused(Exception):
    """The refresh token cannot be used; `code` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


async def start(ctx: FlowContext, user: dict[str, Any]) -> dict[str, str]:
    return await _issue(ctx, user, family=str(uuid.uuid4()))


async def rotate(ctx: FlowContext, refresh_token: str) -> dict[str, str]:
    claims = _claims(refresh_token)
    record: dict[str, Any] | None = await ctx.state.get("refresh-tokens", claims["jti"])
    if record is None:
        raise SessionRefused("invalid_token", "unknown refresh token")
    if await _revoked(ctx, record["family"]):
        raise SessionRefused("session_revoked", "this session was signed out")
    if record["used"]:
        await revoke(ctx, record["family"])
        ctx.logger.warn("Refresh token reused: session revoked", {"userId": record["sub"]})
        raise SessionRefused("token_reused", "refresh token used twice: signed out")
    await ctx.state.set("refresh-tokens", claims["jti"], {**record, "used": True})
    user: dict[str, Any] = await ctx.state.get("users", f"user:{record['sub']}:profile")
    return await _issue(ctx, user, family=record["family"])


async def end(ctx: FlowContext, refresh_token: str, user_id: str) -> None:
    """Sign out the session of `refresh_token`, if it is one of `user_id`'s."""
    try:
        claims = _claims(refresh_token)
    except SessionRefused:
        return
    record: dict[str, Any] | None = await ctx.state.get("refresh-tokens", claims["jti"])
    if record is not None and record["sub"] == user_id:
        await revoke(ctx, record["family"])


async def revoke(ctx: FlowContext, family: str) -> None:
    await ctx.state.set("refresh-families", family, {"revoked": True})


async def _revoked(ctx: FlowContext, family: str) -> bool:
    return await ctx.state.get("refresh-families", family) is not None


async def _issue(ctx: FlowContext, user: dict[str, Any], family: str) -> dict[str, str]:
    refresh = issue_refresh_token(user["id"])
    record = {"sub": user["id"], "family": family, "used": False, "expiresAt": refresh.expires_at}
    await ctx.state.set("refresh-tokens", refresh.jti, record)
    return {
        "accessToken": issue_access_token(user["id"], scopes=user["scopes"]),
        "refreshToken": refresh.token,
        "tokenType": "Bearer",
    }


def _claims(refresh_token: str) -> dict[str, Any]:
    try:
        return verify_refresh_token(refresh_token)
    except InvalidToken as exc:
        raise SessionRefused("invalid_token", str(exc)) from None
