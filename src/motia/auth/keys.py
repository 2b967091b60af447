"""The keys tokens are checked with: a shared secret (HS*), a PEM public key or a JSON Web
Key Set fetched from the identity provider (RS*, ES*, PS*).

The key is chosen by the algorithm family the configuration allows, never by what the token
says it is: an HS256 token is only ever checked against the secret, so a public key can not
be turned into an HMAC secret."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from motia.auth.errors import InvalidToken, KeysUnavailable
from motia.errors import SettingsError

HMAC = ("HS256", "HS384", "HS512")
RSA = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
EC = ("ES256", "ES384", "ES512")
SUPPORTED = HMAC + RSA + EC

# A token naming an unknown `kid` fetches the key set again, but not more often than this:
# a client sending made-up kids must not turn the server into a JWKS flooder.
REFETCH_INTERVAL = 1.0
FETCH_TIMEOUT = 5.0

Fetch = Callable[[str], Awaitable[dict[str, Any]]]


def read_public_key(value: str, project_dir: Path) -> Any:
    """PEM text, or the path of a PEM file relative to the project folder."""
    text = value
    if not value.lstrip().startswith("-----BEGIN"):
        path = Path(value) if Path(value).is_absolute() else project_dir / value
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise SettingsError(
                f"auth.publicKey: {path} cannot be read ({exc.strerror}); give the PEM text "
                "or the path of a PEM file"
            ) from None
    try:
        key = load_pem_public_key(text.encode())
    except ValueError:
        raise SettingsError(
            "auth.publicKey (JWT_PUBLIC_KEY) is not a PEM public key: expected "
            "'-----BEGIN PUBLIC KEY-----'"
        ) from None
    if not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        raise SettingsError("auth.publicKey: only RSA and EC public keys are supported")
    return key


def fits(key: Any, algorithm: str) -> bool:
    if algorithm in RSA:
        return isinstance(key, rsa.RSAPublicKey)
    if algorithm in EC:
        return isinstance(key, ec.EllipticCurvePublicKey)
    return False


async def fetch_json(url: str) -> dict[str, Any]:
    def get() -> dict[str, Any]:
        with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT) as answer:
            data = json.loads(answer.read())
        if not isinstance(data, dict):
            raise ValueError("the key set is not a JSON object")
        return data

    return await asyncio.to_thread(get)


class JwksKeys:
    """The key set at a JWKS URL, kept for `cache_seconds` and fetched again at once (within
    REFETCH_INTERVAL) when a token names a `kid` it does not hold: keys rotate."""

    def __init__(
        self,
        url: str,
        cache_seconds: float,
        *,
        fetch: Fetch = fetch_json,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self._cache_seconds = cache_seconds
        self._fetch = fetch
        self._clock = clock
        self._keys: list[_Key] | None = None
        self._fetched_at = 0.0
        self._failure: str | None = None  # why the last fetch failed
        self._lock = asyncio.Lock()

    async def key(self, kid: str | None, algorithm: str) -> Any:
        if self._keys is None or self._age() >= self._cache_seconds:
            # Stale keys keep serving while one request fetches the set again.
            await self._refresh(self._stale, wait=self._keys is None)
        found = self._find(kid, algorithm)
        if found is None:
            # A kid we do not hold: the provider may have rotated. Wait for that fetch.
            def missing() -> bool:
                return self._find(kid, algorithm) is None and self._age() >= REFETCH_INTERVAL

            await self._refresh(missing, wait=True)
            found = self._find(kid, algorithm)
        if found is None:
            if self._keys is None:
                raise KeysUnavailable(self._failure or f"the key set at {self.url} is empty")
            raise InvalidToken(
                f"no key {kid[:40]!r} for {algorithm} in the key set"
                if kid
                else "the token names no key (`kid`)"
            )
        return found

    def _age(self) -> float:
        return self._clock() - self._fetched_at

    def _stale(self) -> bool:
        if self._keys is None:  # never fetched, or failed: retried once an interval
            return self._failure is None or self._age() >= REFETCH_INTERVAL
        return self._age() >= self._cache_seconds

    async def _refresh(self, needed: Callable[[], bool], *, wait: bool) -> None:
        """One fetch at a time; callers that came while it ran see its result."""
        if self._lock.locked() and not wait:
            return
        async with self._lock:
            if needed():
                await self._fetch_now()

    async def _fetch_now(self) -> None:
        try:
            data = await self._fetch(self.url)
            entries = data.get("keys", [])
            if not isinstance(entries, list):
                raise ValueError("its `keys` is not a list")
            keys = [key for entry in entries if (key := _signing_key(entry)) is not None]
        except Exception as exc:
            self._fetched_at = self._clock()  # a dead URL is not asked again at once either
            self._failure = f"the key set at {self.url} cannot be fetched: {exc}"
            return  # keep the keys we have, if any
        self._keys = keys
        self._failure = None
        self._fetched_at = self._clock()

    def _find(self, kid: str | None, algorithm: str) -> Any:
        candidates = [
            key
            for key in self._keys or []
            if fits(key.key, algorithm) and key.algorithm in (None, algorithm)
        ]
        if kid is None:
            return candidates[0].key if len(candidates) == 1 else None
        return next((key.key for key in candidates if key.kid == kid), None)


@dataclass(frozen=True)
class _Key:
    kid: str | None
    algorithm: str | None  # the JWK's own `alg`, when it names one
    key: Any


def _signing_key(entry: object) -> _Key | None:
    """A signing key of the set; keys for encryption or of a type PyJWT does not know are
    skipped, not fatal to the whole set."""
    if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
        return None
    try:
        jwk = jwt.PyJWK(entry)
    except jwt.PyJWTError:
        return None
    algorithm = entry.get("alg")
    return _Key(jwk.key_id, algorithm if isinstance(algorithm, str) else None, jwk.key)
