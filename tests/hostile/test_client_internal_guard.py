"""The rules of motia.http.internal_guard on their own: host names as Host headers carry
them, and which requests count as cross-site."""

from __future__ import annotations

from pathlib import Path

import pytest

from motia.http.internal_guard import InternalGuard, cross_site, host_name
from motia.settings import Settings


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("localhost:3000", "localhost"),
        ("LOCALHOST", "localhost"),
        ("127.0.0.1:80", "127.0.0.1"),
        ("[::1]:3000", "::1"),
        ("[::1]", "::1"),
        ("evil.example", "evil.example"),
        ("", ""),
    ],
)
def test_host_names(header: str, name: str) -> None:
    assert host_name(header) == name


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, False),  # curl, scripts, motia emit
        ({"sec-fetch-site": "same-origin", "origin": "http://h:1", "host": "h:1"}, False),
        ({"sec-fetch-site": "none"}, False),
        ({"sec-fetch-site": "same-site", "host": "127.0.0.1:1"}, True),  # another port
        ({"sec-fetch-site": "cross-site"}, True),
        ({"origin": "https://evil.example", "host": "127.0.0.1:3000"}, True),
        ({"origin": "null", "host": "127.0.0.1:3000"}, True),
        ({"origin": "http://127.0.0.1:3000", "host": "127.0.0.1:3000"}, False),
    ],
)
def test_cross_site(headers: dict[str, str], expected: bool) -> None:
    assert cross_site(headers) is expected


def test_start_without_allowed_hosts_answers_any_host_but_needs_the_token() -> None:
    token = "a-token-of-16-chars-or-more"
    guard = InternalGuard(Settings(Path("."), mode="start", workbench_token=token))
    assert guard.host_refusal({"host": "api.example.com"}) is None
    assert guard.refusal("GET", {"host": "api.example.com"}, b"", json_required=True) == (
        401,
        "a valid workbench token is required",
    )
    assert guard.refusal("GET", {}, f"token={token}".encode(), json_required=True) is None
    dev = InternalGuard(Settings(Path("."), mode="dev", workbench_allowed_hosts=("*",)))
    assert dev.host_refusal({"host": "anything.example"}) is None
