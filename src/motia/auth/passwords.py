"""Password hashes for a login step: argon2id (RFC 9106), salted, with its parameters in the
hash so they can be raised later (`password_needs_rehash`)."""

from __future__ import annotations

from functools import cache
from typing import Any

from motia.auth.errors import INSTALL_HINT


@cache
def _hasher() -> Any:
    try:
        from argon2 import PasswordHasher
    except ImportError:
        raise ImportError(f"password hashing needs argon2-cffi: {INSTALL_HINT}") from None
    return PasswordHasher()  # argon2id with the library's current recommended cost


def hash_password(password: str) -> str:
    """A self-describing argon2id hash (`$argon2id$v=19$m=...`) to store instead of it."""
    hashed: str = _hasher().hash(password)
    return hashed


def verify_password(password: str, password_hash: str) -> bool:
    """Whether `password` is the one `password_hash` was made from; a malformed hash is
    False, never an exception (a login answers the same for every failure)."""
    hasher = _hasher()
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

    try:
        return bool(hasher.verify(password_hash, password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's: after a successful
    login, hash the password again and store the new hash."""
    return bool(_hasher().check_needs_rehash(password_hash))
