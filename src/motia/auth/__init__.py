"""JSON Web Token authentication for API steps and stream clients, and the helpers a login
step needs: issuing access and refresh tokens, hashing passwords.

Needs `pip install 'motia-python[auth]'` (PyJWT and argon2-cffi). Names are loaded on first
use, so importing `motia.auth` alone costs nothing."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from motia.auth.errors import InvalidToken
    from motia.auth.passwords import hash_password, password_needs_rehash, verify_password
    from motia.auth.scopes import granted_scopes
    from motia.auth.streams import JwtStreamAuth, jwt_stream_auth
    from motia.auth.tokens import (
        RefreshToken,
        issue_access_token,
        issue_refresh_token,
        verify_refresh_token,
    )
    from motia.auth.verifier import TokenVerifier

_HOMES = {
    "InvalidToken": "motia.auth.errors",
    "JwtStreamAuth": "motia.auth.streams",
    "RefreshToken": "motia.auth.tokens",
    "TokenVerifier": "motia.auth.verifier",
    "granted_scopes": "motia.auth.scopes",
    "hash_password": "motia.auth.passwords",
    "issue_access_token": "motia.auth.tokens",
    "issue_refresh_token": "motia.auth.tokens",
    "jwt_stream_auth": "motia.auth.streams",
    "password_needs_rehash": "motia.auth.passwords",
    "verify_password": "motia.auth.passwords",
    "verify_refresh_token": "motia.auth.tokens",
}

__all__ = [
    "InvalidToken",
    "JwtStreamAuth",
    "RefreshToken",
    "TokenVerifier",
    "granted_scopes",
    "hash_password",
    "issue_access_token",
    "issue_refresh_token",
    "jwt_stream_auth",
    "password_needs_rehash",
    "verify_password",
    "verify_refresh_token",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'motia.auth' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
