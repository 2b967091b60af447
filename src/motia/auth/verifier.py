"""Checks a bearer token: its algorithm against the allow-list, its signature against the
configured key, then `exp`, `nbf`, `iss` and `aud`. Built once from the settings."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt

from motia.auth.errors import InvalidToken
from motia.auth.keys import (
    EC,
    HMAC,
    RSA,
    SUPPORTED,
    Fetch,
    JwksKeys,
    fetch_json,
    fits,
    read_public_key,
)
from motia.errors import SettingsError
from motia.settings import AuthSettings

# A refresh token says so in this claim; it is never accepted where an access token is.
TOKEN_TYPE_CLAIM = "type"
REFRESH = "refresh"


class TokenVerifier:
    def __init__(
        self,
        algorithms: tuple[str, ...],
        *,
        secret: str | None = None,
        public_key: Any = None,
        jwks: JwksKeys | None = None,
        issuer: str | None = None,
        audience: str | None = None,
        leeway: float = 30.0,
    ) -> None:
        self.algorithms = algorithms
        self._secret = secret
        self._public_key = public_key
        self._jwks = jwks
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway
        required = ["exp"]
        if issuer is not None:
            required.append("iss")
        if audience is not None:
            required.append("aud")
        self._options: Any = {"require": required}

    @classmethod
    def from_settings(
        cls,
        auth: AuthSettings,
        project_dir: Path,
        *,
        fetch: Fetch = fetch_json,
        clock: Callable[[], float] = time.monotonic,
    ) -> TokenVerifier | None:
        """None when no key is configured: then nothing can be verified."""
        if auth.secret is None and auth.public_key is None and auth.jwks_url is None:
            return None
        algorithms = auth.algorithms or _default_algorithms(auth)
        _check_algorithms(algorithms, auth)
        jwks = None
        if auth.jwks_url is not None:
            jwks = JwksKeys(auth.jwks_url, auth.jwks_cache_seconds, fetch=fetch, clock=clock)
        public_key = (
            read_public_key(auth.public_key, project_dir) if auth.public_key is not None else None
        )
        return cls(
            algorithms,
            secret=auth.secret,
            public_key=public_key,
            jwks=jwks,
            issuer=auth.issuer,
            audience=auth.audience,
            leeway=auth.leeway,
        )

    async def verify(self, token: str) -> dict[str, Any]:
        """The token's claims, or InvalidToken saying why not."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise InvalidToken("the token is not a well-formed JWT") from None
        algorithm = header.get("alg")
        if not isinstance(algorithm, str) or algorithm not in self.algorithms:
            raise InvalidToken(f"tokens signed with {_shown(algorithm)} are not accepted")
        kid = header.get("kid")
        key = await self._key(algorithm, kid if isinstance(kid, str) else None)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                issuer=self._issuer,
                audience=self._audience,
                leeway=self._leeway,
                options=self._options,
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("the token has expired") from None
        except jwt.ImmatureSignatureError:
            raise InvalidToken("the token is not valid yet") from None
        except jwt.InvalidAudienceError:
            raise InvalidToken("the token is not meant for this audience") from None
        except jwt.InvalidIssuerError:
            raise InvalidToken("the token comes from another issuer") from None
        except jwt.MissingRequiredClaimError as exc:
            raise InvalidToken(f"the token has no {exc.claim!r} claim") from None
        except jwt.InvalidSignatureError:
            raise InvalidToken("the token's signature is not valid") from None
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"the token is not valid: {exc}") from None
        if claims.get(TOKEN_TYPE_CLAIM) == REFRESH:
            raise InvalidToken("a refresh token is not an access token")
        return claims

    async def _key(self, algorithm: str, kid: str | None) -> Any:
        if algorithm in HMAC:
            return self._secret  # only allowed when a secret is configured
        if self._public_key is not None and fits(self._public_key, algorithm):
            return self._public_key
        if self._jwks is not None:
            return await self._jwks.key(kid, algorithm)
        raise InvalidToken(f"no configured key checks {algorithm} tokens")


def _shown(value: object) -> str:
    """A header value of the token, as messages quote it: short, whatever the client sent."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _default_algorithms(auth: AuthSettings) -> tuple[str, ...]:
    algorithms: tuple[str, ...] = ("HS256",) if auth.secret is not None else ()
    if auth.public_key is not None or auth.jwks_url is not None:
        algorithms += ("RS256", "ES256")
    return algorithms


def _check_algorithms(algorithms: tuple[str, ...], auth: AuthSettings) -> None:
    """The allow-list must be one the configured keys can serve, and never `none`."""
    for algorithm in algorithms:
        if algorithm.lower() == "none":
            raise SettingsError("auth.algorithms: 'none' (unsigned tokens) is never accepted")
        if algorithm not in SUPPORTED:
            raise SettingsError(
                f"auth.algorithms: {algorithm!r} is not supported; use some of: "
                + ", ".join(SUPPORTED)
            )
        if algorithm in HMAC and auth.secret is None:
            raise SettingsError(
                f"auth.algorithms lists {algorithm}, which needs a secret: set JWT_SECRET "
                "(or auth.secret in config.yml)"
            )
        if algorithm in RSA + EC and auth.public_key is None and auth.jwks_url is None:
            raise SettingsError(
                f"auth.algorithms lists {algorithm}, which needs a public key: set "
                "JWT_PUBLIC_KEY or JWT_JWKS_URL (or auth.publicKey / auth.jwksUrl in config.yml)"
            )
