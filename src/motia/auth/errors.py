"""Why a token was refused, in words a client may read (no key material, no internals)."""

from __future__ import annotations


class InvalidToken(Exception):
    """The token is missing, malformed, badly signed, expired or not meant for us."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class KeysUnavailable(Exception):
    """The keys to check the token with cannot be had now (the JWKS URL does not answer)."""


INSTALL_HINT = "JWT authentication needs PyJWT: pip install 'motia-python[auth]'"
