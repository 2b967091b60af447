"""The pieces of `motia.auth` on their own: the verifier's configuration and checks, the
JWKS cache (with a fake fetch and clock), scopes, token and password helpers, and the
challenge the HTTP gate writes."""

from __future__ import annotations

import asyncio
import re
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import jwt
import pytest

from motia.auth import (
    InvalidToken,
    JwtStreamAuth,
    granted_scopes,
    hash_password,
    issue_access_token,
    issue_refresh_token,
    password_needs_rehash,
    verify_password,
    verify_refresh_token,
)
from motia.auth.errors import KeysUnavailable
from motia.auth.keys import REFETCH_INTERVAL, JwksKeys
from motia.auth.policy import required_scopes, verifier_for
from motia.auth.verifier import TokenVerifier
from motia.errors import SettingsError
from motia.http.auth_gate import ApiAuth, AuthRefused
from motia.logs import Logger, LogSink
from motia.settings import AuthSettings, Settings
from motia.steps.config import StepAuth
from tests.auth.support import (
    SECRET,
    claims,
    ec_key,
    hs256,
    hs256_keyed_with,
    jwk_of,
    public_pem,
    rsa_key,
)


def settings(tmp_path: Path, **auth: Any) -> Settings:
    return Settings(project_dir=tmp_path, auth=AuthSettings(**auth))


# --- configuration -----------------------------------------------------------------------------


def test_no_key_means_no_verifier(tmp_path: Path) -> None:
    assert verifier_for(settings(tmp_path)) is None


def test_default_algorithms_follow_the_configured_keys(tmp_path: Path) -> None:
    hs = verifier_for(settings(tmp_path, secret=SECRET))
    assert hs is not None and hs.algorithms == ("HS256",)
    both = verifier_for(settings(tmp_path, secret=SECRET, public_key=public_pem(rsa_key())))
    assert both is not None and both.algorithms == ("HS256", "RS256", "ES256")


@pytest.mark.parametrize(
    ("auth", "message"),
    [
        ({"secret": SECRET, "algorithms": ("HS256", "none")}, "'none' (unsigned tokens) is never"),
        ({"secret": SECRET, "algorithms": ("XS1",)}, "'XS1' is not supported"),
        ({"jwks_url": "http://idp/jwks", "algorithms": ("HS256",)}, "HS256, which needs a secret"),
        ({"secret": SECRET, "algorithms": ("RS256",)}, "RS256, which needs a public key"),
        ({"algorithms": ("HS256",)}, "auth.algorithms is set but no key"),
        ({"public_key": "-----BEGIN PUBLIC KEY-----\nnope\n"}, "is not a PEM public key"),
        ({"public_key": "keys/missing.pem"}, "missing.pem cannot be read"),
    ],
    ids=["none", "unsupported", "hs-no-secret", "rs-no-key", "no-key", "bad-pem", "no-file"],
)
def test_configuration_that_cannot_work_is_refused(
    tmp_path: Path, auth: dict[str, Any], message: str
) -> None:
    with pytest.raises(SettingsError, match=re.escape(message)):
        verifier_for(settings(tmp_path, **auth))


def test_public_key_may_be_a_file_of_the_project(tmp_path: Path) -> None:
    key = rsa_key()
    (tmp_path / "public.pem").write_text(public_pem(key))
    verifier = verifier_for(settings(tmp_path, public_key="public.pem"))
    assert verifier is not None and verifier.algorithms == ("RS256", "ES256")


# --- verification -------------------------------------------------------------------------------


async def test_verifier_returns_claims_and_refuses_refresh_tokens() -> None:
    verifier = TokenVerifier(("HS256",), secret=SECRET, leeway=0)
    token_claims = claims(aud=None, iss=None)
    assert await verifier.verify(hs256(token_claims)) == token_claims
    refresh = issue_refresh_token("user-42", secret=SECRET, issuer="", audience="")
    with pytest.raises(InvalidToken, match="a refresh token is not an access token"):
        await verifier.verify(refresh.token)


async def test_leeway_lets_a_slightly_late_token_in() -> None:
    late = hs256(claims(aud=None, iss=None, exp=int(time.time()) - 10))
    assert await TokenVerifier(("HS256",), secret=SECRET, leeway=30).verify(late)
    with pytest.raises(InvalidToken, match="expired"):
        await TokenVerifier(("HS256",), secret=SECRET, leeway=0).verify(late)


async def test_a_token_for_some_audience_is_refused_when_none_is_configured() -> None:
    verifier = TokenVerifier(("HS256",), secret=SECRET)
    with pytest.raises(InvalidToken, match="not meant for this audience"):
        await verifier.verify(hs256(claims(iss=None, aud="billing-api")))


async def test_algorithm_outside_the_allow_list_is_refused_before_any_key() -> None:
    verifier = TokenVerifier(("RS256",), public_key=rsa_key().public_key())
    with pytest.raises(InvalidToken, match="'HS256' are not accepted"):
        await verifier.verify(hs256(claims()))


async def test_with_a_secret_and_a_public_key_each_family_uses_its_own_key(
    tmp_path: Path,
) -> None:
    key = ec_key()
    pem = public_pem(key)
    verifier = verifier_for(settings(tmp_path, secret=SECRET, public_key=pem))
    assert verifier is not None
    payload = claims(aud=None, iss=None)
    assert await verifier.verify(jwt.encode(payload, key, algorithm="ES256")) == payload
    assert await verifier.verify(hs256(payload)) == payload
    # HS256 is allowed here, but only ever checked against the secret, never the PEM.
    with pytest.raises(InvalidToken, match="signature is not valid"):
        await verifier.verify(hs256_keyed_with(payload, pem))
    with pytest.raises(InvalidToken, match="no configured key checks RS256 tokens"):
        await verifier.verify(jwt.encode(payload, rsa_key(), algorithm="RS256"))


# --- the JWKS cache -----------------------------------------------------------------------------


class FakeIdp:
    def __init__(self, *keys: dict[str, Any]) -> None:
        self.keys = list(keys)
        self.fetches = 0
        self.down = False
        self.now = 1000.0

    async def fetch(self, url: str) -> dict[str, Any]:
        self.fetches += 1
        if self.down:
            raise OSError("connection refused")
        return {"keys": self.keys}

    def clock(self) -> float:
        return self.now

    def jwks(self, cache_seconds: float = 300) -> JwksKeys:
        return JwksKeys("http://idp/jwks", cache_seconds, fetch=self.fetch, clock=self.clock)


async def test_key_set_is_cached_then_fetched_again_when_stale() -> None:
    key = rsa_key()
    idp = FakeIdp(jwk_of(key, "k1"))
    jwks = idp.jwks(cache_seconds=60)
    assert await jwks.key("k1", "RS256") is not None
    idp.now += 30
    await jwks.key("k1", "RS256")
    assert idp.fetches == 1
    idp.now += 31
    await jwks.key("k1", "RS256")
    assert idp.fetches == 2


async def test_unknown_kid_fetches_again_but_not_more_than_once_an_interval() -> None:
    first, second = rsa_key(), ec_key()
    idp = FakeIdp(jwk_of(first, "k1"))
    jwks = idp.jwks()
    await jwks.key("k1", "RS256")
    idp.keys.append(jwk_of(second, "k2"))
    with pytest.raises(InvalidToken, match="no key 'k2' for ES256"):
        await jwks.key("k2", "ES256")  # fetched the moment before: no second fetch yet
    assert idp.fetches == 1
    idp.now += REFETCH_INTERVAL
    assert await jwks.key("k2", "ES256") is not None
    assert idp.fetches == 2
    for _ in range(5):  # a flood of made-up kids costs one fetch an interval
        with pytest.raises(InvalidToken):
            await jwks.key("made-up", "RS256")
    assert idp.fetches == 2


async def test_key_must_fit_the_algorithm_and_its_declared_alg() -> None:
    key = rsa_key()
    idp = FakeIdp({**jwk_of(key, "k1"), "alg": "RS512"})
    jwks = idp.jwks()
    with pytest.raises(InvalidToken):
        await jwks.key("k1", "RS256")
    with pytest.raises(InvalidToken):
        await jwks.key("k1", "ES256")
    assert await jwks.key("k1", "RS512") is not None


async def test_encryption_and_unknown_keys_are_skipped() -> None:
    key = rsa_key()
    idp = FakeIdp(
        {**jwk_of(rsa_key(), "enc"), "use": "enc"},
        {"kty": "XYZ", "kid": "odd"},
        jwk_of(key, "sig"),
    )
    jwks = idp.jwks()
    assert await jwks.key(None, "RS256") is not None  # the only signing key: no kid needed
    with pytest.raises(InvalidToken):
        await jwks.key("enc", "RS256")


async def test_fetch_failure_keeps_the_keys_it_has() -> None:
    idp = FakeIdp(jwk_of(rsa_key(), "k1"))
    jwks = idp.jwks(cache_seconds=10)
    await jwks.key("k1", "RS256")
    idp.down = True
    idp.now += 11
    assert await jwks.key("k1", "RS256") is not None


async def test_fetch_failure_without_keys_is_keys_unavailable_and_not_retried_at_once() -> None:
    idp = FakeIdp()
    idp.down = True
    jwks = idp.jwks()
    for _ in range(3):
        with pytest.raises(KeysUnavailable, match="cannot be fetched: connection refused"):
            await jwks.key("k1", "RS256")
    assert idp.fetches == 1
    idp.down = False
    idp.keys = [jwk_of(rsa_key(), "k1")]
    idp.now += REFETCH_INTERVAL
    assert await jwks.key("k1", "RS256") is not None
    assert idp.fetches == 2


async def test_known_keys_serve_while_a_stale_set_is_fetched_again() -> None:
    idp = FakeIdp(jwk_of(rsa_key(), "k1"))
    jwks = idp.jwks(cache_seconds=10)
    await jwks.key("k1", "RS256")
    release = asyncio.Event()
    plain_fetch = idp.fetch

    async def slow_fetch(url: str) -> dict[str, Any]:
        await release.wait()
        return await plain_fetch(url)

    jwks._fetch = slow_fetch
    idp.now += 11
    fetching = asyncio.create_task(jwks.key("k1", "RS256"))
    await asyncio.sleep(0)  # the first request now holds the fetch
    # Another request with the same kid does not wait for the slow provider.
    assert await asyncio.wait_for(jwks.key("k1", "RS256"), 1) is not None
    release.set()
    assert await fetching is not None
    assert idp.fetches == 2


# --- policy and scopes --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("step_auth", "required", "expected"),
    [
        (None, False, None),
        (None, True, ()),
        (False, True, None),
        (True, False, ()),
        (StepAuth(scopes=["a", "b"]), False, ("a", "b")),
    ],
)
def test_required_scopes(step_auth: object, required: bool, expected: object) -> None:
    assert required_scopes(step_auth, required) == expected


def test_scopes_are_read_from_every_common_claim() -> None:
    assert granted_scopes({"scope": "a b"}) == {"a", "b"}
    assert granted_scopes({"scp": ["c"], "scopes": ["d", 1]}) == {"c", "d"}
    assert granted_scopes({"scp": "e f"}) == {"e", "f"}
    assert granted_scopes({}) == set()


# --- token and password helpers -------------------------------------------------------------------


def test_access_token_carries_sub_scope_and_expiry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWT_SECRET", SECRET)
    monkeypatch.delenv("MOTIA_AUTH_SECRET", raising=False)
    token = issue_access_token("u1", scopes=["a", "b"], ttl=60, claims={"role": "admin"})
    decoded = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert decoded["sub"] == "u1" and decoded["scope"] == "a b" and decoded["role"] == "admin"
    assert decoded["exp"] - decoded["iat"] == 60 and decoded["jti"]


def test_signing_needs_a_long_enough_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JWT_SECRET", raising=False)
    monkeypatch.delenv("MOTIA_AUTH_SECRET", raising=False)
    with pytest.raises(ValueError, match="no signing secret"):
        issue_access_token("u1")
    with pytest.raises(ValueError, match="at least 32 characters"):
        issue_access_token("u1", secret="short")


def test_refresh_token_round_trip_and_its_jti() -> None:
    refresh = issue_refresh_token("u1", ttl=3600, secret=SECRET, issuer="", audience="")
    decoded = verify_refresh_token(refresh.token, secret=SECRET, issuer="", audience="")
    assert decoded["sub"] == "u1" and decoded["jti"] == refresh.jti
    assert decoded["exp"] == refresh.expires_at
    access = issue_access_token("u1", secret=SECRET, issuer="", audience="")
    with pytest.raises(InvalidToken, match="not a refresh token"):
        verify_refresh_token(access, secret=SECRET, issuer="", audience="")
    expired = issue_refresh_token("u1", ttl=-120, secret=SECRET, issuer="", audience="")
    with pytest.raises(InvalidToken, match="expired"):
        verify_refresh_token(expired.token, secret=SECRET, issuer="", audience="")


def test_passwords_are_hashed_with_argon2id() -> None:
    stored = hash_password("correct horse")
    assert stored.startswith("$argon2id$")
    assert stored != hash_password("correct horse")  # salted
    assert verify_password("correct horse", stored)
    assert not verify_password("wrong horse", stored)
    assert not verify_password("correct horse", "not-a-hash")
    assert not password_needs_rehash(stored)


# --- the stream hook and the HTTP challenge ------------------------------------------------------


async def test_stream_hook_without_a_bound_verifier_refuses() -> None:
    with pytest.raises(InvalidToken, match="cannot verify tokens"):
        await JwtStreamAuth()({"token": "x", "headers": {}, "url": "/"})
    assert await JwtStreamAuth(required=False)({"token": None}) is None


class Saying:
    """A verifier that refuses with the given description."""

    def __init__(self, description: str) -> None:
        self.description = description

    async def verify(self, token: str) -> dict[str, Any]:
        raise InvalidToken(self.description)


async def test_challenge_never_carries_quotes_or_line_breaks(tmp_path: Path) -> None:
    base = settings(tmp_path)
    realm = replace(base, auth=replace(base.auth, realm='my "api"'))
    gate = ApiAuth(realm, Saying('a"b\r\nc'), Logger(LogSink("error", "json"), None, None, []))  # type: ignore[arg-type]
    with pytest.raises(AuthRefused) as refused:
        await gate.claims((), {"authorization": "Bearer t"})
    header = dict(refused.value.headers)[b"www-authenticate"].decode()
    assert header == 'Bearer realm="my ?api?", error="invalid_token", error_description="a?b??c"'


# --- without the `auth` extra -------------------------------------------------------------------


def _without(monkeypatch: pytest.MonkeyPatch, package: str, *modules: str) -> None:
    for name in list(sys.modules):
        if name == package or name.startswith(package + ".") or name in modules:
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, package, None)  # `import package` now fails


def test_a_key_without_pyjwt_says_which_extra_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _without(monkeypatch, "jwt", "motia.auth.verifier", "motia.auth.keys")
    with pytest.raises(SettingsError, match=re.escape("pip install 'motia-python[auth]'")):
        verifier_for(settings(tmp_path, secret=SECRET))
    assert verifier_for(settings(tmp_path)) is None  # no key: PyJWT is not needed


def test_password_hashing_without_argon2_says_which_extra_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from motia.auth import passwords

    _without(monkeypatch, "argon2")
    passwords._hasher.cache_clear()
    try:
        with pytest.raises(ImportError, match=re.escape("pip install 'motia-python[auth]'")):
            hash_password("pw")
    finally:
        passwords._hasher.cache_clear()
