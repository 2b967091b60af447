"""Tokens a login step hands out: short-lived access tokens for the API and streams, and
long-lived refresh tokens with a `jti`, so a project can keep them in state to rotate and
revoke them.

The signing key is the `secret` argument, else the MOTIA_AUTH_SECRET or JWT_SECRET
environment variable (the one the server verifies with); issuer and audience default to
MOTIA_AUTH_ISSUER / JWT_ISSUER and MOTIA_AUTH_AUDIENCE / JWT_AUDIENCE."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from motia.auth.errors import InvalidToken
from motia.auth.verifier import REFRESH, TOKEN_TYPE_CLAIM

ACCESS_TTL = 15 * 60
REFRESH_TTL = 30 * 24 * 3600
MIN_SECRET = 32


@dataclass(frozen=True)
class RefreshToken:
    token: str
    jti: str  # keep it (in state) to rotate or revoke the token
    expires_at: int  # Unix time


def issue_access_token(
    sub: str,
    *,
    scopes: Iterable[str] = (),
    ttl: float = ACCESS_TTL,
    claims: Mapping[str, Any] | None = None,
    secret: str | None = None,
    algorithm: str = "HS256",
    issuer: str | None = None,
    audience: str | None = None,
) -> str:
    """A signed access token for `sub`, valid for `ttl` seconds, granting `scopes` (the
    space-separated `scope` claim). `claims` adds claims of your own (roles, tenant...)."""
    now = int(time.time())
    body: dict[str, Any] = {**(claims or {}), "sub": sub, "iat": now, "exp": now + int(ttl)}
    body["jti"] = uuid.uuid4().hex
    scope = " ".join(scopes)
    if scope:
        body["scope"] = scope
    return _sign(body, secret, algorithm, issuer, audience)


def issue_refresh_token(
    sub: str,
    *,
    ttl: float = REFRESH_TTL,
    secret: str | None = None,
    algorithm: str = "HS256",
    issuer: str | None = None,
    audience: str | None = None,
) -> RefreshToken:
    """A refresh token for `sub`: never accepted by API steps, only by
    `verify_refresh_token`. Store its `jti` to allow it once (rotation) or to revoke it."""
    now = int(time.time())
    jti = uuid.uuid4().hex
    expires_at = now + int(ttl)
    body = {"sub": sub, "iat": now, "exp": expires_at, "jti": jti, TOKEN_TYPE_CLAIM: REFRESH}
    token = _sign(body, secret, algorithm, issuer, audience)
    return RefreshToken(token, jti, expires_at)


def verify_refresh_token(
    token: str,
    *,
    secret: str | None = None,
    algorithms: Iterable[str] = ("HS256",),
    issuer: str | None = None,
    audience: str | None = None,
    leeway: float = 30.0,
) -> dict[str, Any]:
    """The claims (`sub`, `jti`, `exp`) of a valid refresh token, or InvalidToken. Whether
    its `jti` is still allowed is the project's to check, in state."""
    # "" means none, even when the environment names one.
    issuer = (issuer if issuer is not None else _env("ISSUER")) or None
    audience = (audience if audience is not None else _env("AUDIENCE")) or None
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            _secret(secret),
            algorithms=list(algorithms),
            issuer=issuer,
            audience=audience,
            leeway=leeway,
            options={"require": ["exp", "sub", "jti"]},
        )
    except jwt.ExpiredSignatureError:
        raise InvalidToken("the refresh token has expired") from None
    except jwt.PyJWTError as exc:
        raise InvalidToken(f"the refresh token is not valid: {exc}") from None
    if claims.get(TOKEN_TYPE_CLAIM) != REFRESH:
        raise InvalidToken("not a refresh token")
    return claims


def _sign(
    body: dict[str, Any],
    secret: str | None,
    algorithm: str,
    issuer: str | None,
    audience: str | None,
) -> str:
    issuer = issuer if issuer is not None else _env("ISSUER")
    audience = audience if audience is not None else _env("AUDIENCE")
    if issuer:
        body["iss"] = issuer
    if audience:
        body["aud"] = audience
    key = _secret(secret) if algorithm.startswith("HS") else secret
    if key is None:
        raise ValueError(f"{algorithm} tokens need a private key: pass secret=<PEM text>")
    return jwt.encode(body, key, algorithm=algorithm)


def _secret(secret: str | None) -> str:
    value = secret if secret is not None else _env("SECRET")
    if not value:
        raise ValueError("no signing secret: set JWT_SECRET or pass secret=")
    if len(value) < MIN_SECRET:
        raise ValueError(f"the signing secret must be at least {MIN_SECRET} characters long")
    return value


def _env(name: str) -> str | None:
    """The setting's own variable first, as the server reads it, then the common name."""
    return os.environ.get(f"MOTIA_AUTH_{name}") or os.environ.get(f"JWT_{name}")
