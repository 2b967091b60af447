"""Which API steps need a token, and with what scopes; and the verifier of a run, which
imports PyJWT only when a key is configured."""

from __future__ import annotations

from typing import TYPE_CHECKING

from motia.auth.errors import INSTALL_HINT
from motia.errors import SettingsError
from motia.settings import Settings

if TYPE_CHECKING:
    from motia.auth.verifier import TokenVerifier

NO_KEY = (
    "no key to verify tokens is configured: set JWT_SECRET (at least 32 characters), "
    "JWT_PUBLIC_KEY or JWT_JWKS_URL (or auth.secret, auth.publicKey, auth.jwksUrl in "
    "config.yml)"
)


def required_scopes(step_auth: object, required_by_default: bool) -> tuple[str, ...] | None:
    """The scopes an API step's token must grant (maybe none), or None when the step is
    open. `step_auth` is its `auth` config: None (the project default), a bool, or an
    object with `scopes`."""
    if step_auth is None:
        return () if required_by_default else None
    if step_auth is False:
        return None
    if step_auth is True:
        return ()
    scopes: list[str] = getattr(step_auth, "scopes", [])
    return tuple(scopes)


def verifier_for(settings: Settings) -> TokenVerifier | None:
    """The run's verifier, or None when no key is configured."""
    auth = settings.auth
    if auth.secret is None and auth.public_key is None and auth.jwks_url is None:
        if auth.algorithms:
            raise SettingsError(f"auth.algorithms is set but {NO_KEY}")
        return None
    try:
        from motia.auth.verifier import TokenVerifier
    except ImportError as exc:
        raise SettingsError(f"{INSTALL_HINT} ({exc})") from None
    return TokenVerifier.from_settings(auth, settings.project_dir)
