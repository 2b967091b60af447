"""The scopes a token grants, in the claim spellings identity providers use."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# `scope` (RFC 8693, space-separated), `scp` (Azure AD, Okta) and `scopes` (a list).
SCOPE_CLAIMS = ("scope", "scp", "scopes")


def granted_scopes(claims: Mapping[str, Any]) -> set[str]:
    granted: set[str] = set()
    for name in SCOPE_CLAIMS:
        value = claims.get(name)
        if isinstance(value, str):
            granted.update(value.split())
        elif isinstance(value, list):
            granted.update(item for item in value if isinstance(item, str))
    return granted


def missing_scopes(claims: Mapping[str, Any], required: Iterable[str]) -> list[str]:
    granted = granted_scopes(claims)
    return [scope for scope in required if scope not in granted]
