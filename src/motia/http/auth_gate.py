"""Bearer tokens on API steps: checked after routing and before the body is read, so a
request without a valid token costs no more than its headers. Steps without `auth` (and
projects without `auth.required`) never get here."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from motia.auth.errors import InvalidToken, KeysUnavailable
from motia.auth.policy import NO_KEY, required_scopes
from motia.auth.scopes import missing_scopes
from motia.http.response import Headers

if TYPE_CHECKING:
    from motia.auth.verifier import TokenVerifier
    from motia.logs import Logger
    from motia.settings import Settings
    from motia.steps.model import Step

UNAVAILABLE = "Service unavailable: the keys to verify tokens cannot be fetched now"

# RFC 6750 allows these characters in error_description; anything else becomes '?'.
_NOT_ALLOWED = re.compile(r"[^\x20\x21\x23-\x5b\x5d-\x7e]")


class AuthRefused(Exception):
    """The answer to a request whose token is missing, invalid or short of a scope."""

    def __init__(self, status: int, message: str, headers: Headers) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers


class ApiAuth:
    def __init__(self, settings: Settings, verifier: TokenVerifier | None, logger: Logger) -> None:
        self._logger = logger
        self._required = settings.auth.required
        self._realm = _quoted(settings.auth.realm)
        self._verifier = verifier

    def scopes(self, step: Step) -> tuple[str, ...] | None:
        """What the step's token must grant, or None when the step is open."""
        return required_scopes(step.api.auth, self._required)

    async def claims(self, scopes: tuple[str, ...], headers: dict[str, str]) -> dict[str, Any]:
        """The verified claims of the request's bearer token, or AuthRefused."""
        authorization = headers.get("authorization", "")
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            # RFC 6750 3.1: a request with no credentials gets the challenge, no error code.
            raise AuthRefused(
                401,
                "Unauthorized: a bearer token is required",
                [(b"www-authenticate", f"Bearer realm={self._realm}".encode())],
            )
        if self._verifier is None:
            raise self._invalid(f"the server cannot verify tokens: {NO_KEY}")
        try:
            claims = await self._verifier.verify(token)
        except InvalidToken as exc:
            raise self._invalid(exc.description) from None
        except KeysUnavailable as exc:
            # The URL and the network error are for the log, not for the client.
            self._logger.error(f"cannot verify tokens: {exc}")
            raise AuthRefused(503, UNAVAILABLE, [(b"retry-after", b"5")]) from None
        missing = missing_scopes(claims, scopes)
        if missing:
            description = f"the token lacks scope {' '.join(missing)}"
            challenge = (
                f'Bearer realm={self._realm}, error="insufficient_scope", '
                f"scope={_quoted(' '.join(scopes))}, error_description={_quoted(description)}"
            )
            raise AuthRefused(
                403, f"Forbidden: {description}", [(b"www-authenticate", challenge.encode())]
            )
        return claims

    def _invalid(self, description: str) -> AuthRefused:
        challenge = (
            f'Bearer realm={self._realm}, error="invalid_token", '
            f"error_description={_quoted(description)}"
        )
        return AuthRefused(
            401, f"Unauthorized: {description}", [(b"www-authenticate", challenge.encode())]
        )


def _quoted(text: str) -> str:
    return '"' + _NOT_ALLOWED.sub("?", text)[:200] + '"'
