"""The sections of the Settings that group their own keys: `http.cors.*` and `auth.*`
(fields of `Settings.cors` and `Settings.auth`, read by the same rows as the rest)."""

from __future__ import annotations

from dataclasses import dataclass

from motia.settings.kinds import Flag, Integer, Names, Range, Seconds, Text
from motia.settings.row import setting


@dataclass(frozen=True)
class CorsSettings:
    origins: tuple[str, ...] = setting(
        (),
        dev=("*",),
        key="http.cors.origins",
        kind=Names(),
        doc='Origins allowed to call the API from a browser; `"*"` allows any, '
        '`"https://*.example.com"` any subdomain. See [CORS](#cors). `[]`: no CORS headers.',
    )
    methods: tuple[str, ...] = setting(
        ("*",),
        key="http.cors.methods",
        kind=Names(),
        doc='Methods allowed in preflight answers; `"*"` echoes the requested method.',
    )
    headers: tuple[str, ...] = setting(
        ("*",),
        key="http.cors.headers",
        kind=Names(),
        doc='Headers allowed in preflight answers; `"*"` echoes the requested headers.',
    )
    credentials: bool = setting(
        False,
        key="http.cors.credentials",
        kind=Flag(),
        doc="Send `Access-Control-Allow-Credentials: true`.",
    )
    expose_headers: tuple[str, ...] = setting(
        (),
        key="http.cors.exposeHeaders",
        kind=Names(),
        doc="Response headers a browser script may read, besides `x-trace-id`.",
    )
    max_age: int = setting(
        600,
        key="http.cors.maxAge",
        kind=Integer(Range(0)),
        doc="Seconds browsers may cache a preflight answer.",
    )


AUTH = "[authentication](security.md#authentication-jwt)"


@dataclass(frozen=True)
class AuthSettings:
    """JSON Web Tokens for API steps and stream clients (`motia.auth`)."""

    required: bool = setting(
        False,
        key="auth.required",
        kind=Flag(),
        doc="Every API step needs a valid bearer token unless its config says "
        f'`"auth": False`. See {AUTH}.',
    )
    secret: str | None = setting(
        None,
        key="auth.secret",
        kind=Text(min_length=32, secret=True),
        env_aliases=("JWT_SECRET",),
        doc="Shared secret of HS256/HS384/HS512 tokens, at least 32 characters.",
    )
    public_key: str | None = setting(
        None,
        key="auth.publicKey",
        kind=Text(min_length=1),
        env_aliases=("JWT_PUBLIC_KEY",),
        doc="Public key (PEM text, or the path of a PEM file relative to the project "
        "folder) of RS256/ES256 tokens.",
    )
    jwks_url: str | None = setting(
        None,
        key="auth.jwksUrl",
        kind=Text(min_length=1),
        env_aliases=("JWT_JWKS_URL",),
        doc="URL of the identity provider's JSON Web Key Set, for RS256/ES256 tokens; "
        "fetched again when a token names an unknown `kid`.",
    )
    algorithms: tuple[str, ...] | None = setting(
        None,
        key="auth.algorithms",
        kind=Names(),
        shown="`HS256` with a secret; `RS256`, `ES256` with a public key or JWKS URL",
        doc="The only algorithms a token may be signed with; the token's own `alg` header "
        "never widens it, and `none` is never accepted.",
    )
    issuer: str | None = setting(
        None,
        key="auth.issuer",
        kind=Text(min_length=1),
        env_aliases=("JWT_ISSUER",),
        doc="When set, tokens must carry this `iss`.",
    )
    audience: str | None = setting(
        None,
        key="auth.audience",
        kind=Text(min_length=1),
        env_aliases=("JWT_AUDIENCE",),
        doc="When set, tokens must name this `aud`.",
    )
    leeway: float = setting(
        30.0,
        key="auth.leeway",
        kind=Seconds(Range(0, 600)),
        doc="Clock difference allowed when checking `exp`, `nbf` and `iat`.",
    )
    jwks_cache_seconds: float = setting(
        300.0,
        key="auth.jwksCacheSeconds",
        kind=Seconds(Range(0, 86400)),
        doc="How long a fetched key set is used before it is fetched again.",
    )
    realm: str = setting(
        "api",
        key="auth.realm",
        kind=Text(min_length=1),
        doc="The `realm` of the `WWW-Authenticate` header of a 401 answer.",
    )
