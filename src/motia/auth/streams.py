"""Stream clients authenticated with the same tokens as the API:

    # motia_config.py
    from motia.auth import jwt_stream_auth
    authenticate = jwt_stream_auth

The connection's auth context (what `canAccess` receives) is then the token's claims."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from motia.auth.errors import InvalidToken
from motia.auth.policy import NO_KEY
from motia.auth.scopes import missing_scopes

if TYPE_CHECKING:
    from motia.auth.verifier import TokenVerifier


class JwtStreamAuth:
    """`required=False` lets clients without a token in, anonymous (auth context None);
    a token that is sent must still be valid. `scopes`: what every token must grant."""

    def __init__(
        self,
        *,
        required: bool = True,
        scopes: Iterable[str] = (),
        verifier: TokenVerifier | None = None,
    ) -> None:
        self.required = required
        self.scopes = tuple(scopes)
        self.verifier = verifier

    def bound(self, verifier: TokenVerifier | None) -> JwtStreamAuth:
        """A copy that checks tokens with the running server's verifier."""
        return JwtStreamAuth(required=self.required, scopes=self.scopes, verifier=verifier)

    async def __call__(self, request: dict[str, Any]) -> dict[str, Any] | None:
        token = request.get("token")
        if not token:
            if self.required:
                raise InvalidToken("a bearer token is required")
            return None
        if self.verifier is None:
            raise InvalidToken(f"the server cannot verify tokens: {NO_KEY}")
        claims = await self.verifier.verify(token)
        missing = missing_scopes(claims, self.scopes)
        if missing:
            raise InvalidToken(f"the token lacks scope {' '.join(missing)}")
        return claims


jwt_stream_auth = JwtStreamAuth()


def bind_stream_auth(hook: Any, verifier: TokenVerifier | None) -> Any:
    """The project's `authenticate` hook, bound to the verifier when it is a JwtStreamAuth."""
    return hook.bound(verifier) if isinstance(hook, JwtStreamAuth) else hook
