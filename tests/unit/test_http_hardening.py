"""The pieces of HTTP hardening that need no server: origin patterns, the CORS settings
check and the header-values kind."""

from __future__ import annotations

from pathlib import Path

import pytest

from motia.errors import SettingsError
from motia.settings import load_settings
from motia.settings.kinds import HeaderValues, Invalid
from motia.settings.origins import Origins, origin_problem


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://app.example.com", True),
        ("https://a.b.example.com", True),
        ("https://APP.example.com", True),
        ("https://example.com", False),
        ("http://app.example.com", False),
        ("https://app.example.com.evil.example", False),
        ("https://evilexample.com", False),
        ("https://exact.example", True),
        ("https://exact.example:8443", False),
        ("null", False),
    ],
)
def test_origin_patterns(origin: str, allowed: bool) -> None:
    origins = Origins.of(["https://*.example.com", "https://exact.example"])
    assert origins.allows(origin) is allowed


def test_star_allows_every_origin() -> None:
    assert Origins.of(["*"]).allows("https://anything.example")


@pytest.mark.parametrize(
    "origin", ["https://app.*.com", "https://*", "*.example.com", "https://a*.example.com"]
)
def test_unreadable_patterns_are_refused(origin: str) -> None:
    problem = origin_problem(origin)
    assert problem is not None and origin in problem


def test_star_with_credentials_is_refused_in_the_settings(tmp_path: Path) -> None:
    environ = {"MOTIA_CORS_ORIGINS": "*", "MOTIA_CORS_CREDENTIALS": "true"}
    with pytest.raises(SettingsError, match=r"http\.cors\.origins.*http\.cors\.credentials"):
        load_settings(tmp_path, "start", environ=environ)


def test_listed_origins_with_credentials_load(tmp_path: Path) -> None:
    environ = {"MOTIA_CORS_ORIGINS": "https://*.example.com", "MOTIA_CORS_CREDENTIALS": "true"}
    settings = load_settings(tmp_path, "dev", environ=environ)
    assert settings.cors.credentials is True


def test_header_values_from_yaml_and_json() -> None:
    kind = HeaderValues()
    expected = (("x-frame-options", None), ("referrer-policy", "same-origin"))
    assert kind.parse({"X-Frame-Options": False, "Referrer-Policy": "same-origin"}) == expected
    assert kind.parse('{"X-Frame-Options": false, "Referrer-Policy": "same-origin"}') == expected


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("not json", "JSON object"),
        ("[1]", "mapping"),
        ({"bad name": "x"}, "not a valid header name"),
        ({"X-A": 5}, "not a string"),
        ({"X-A": "a\r\nX-B: b"}, "control character"),
        ({"X-A": "caf\u00e9\u2603"}, "Latin-1"),
    ],
)
def test_header_values_refused(value: object, problem: str) -> None:
    with pytest.raises(Invalid, match=problem):
        HeaderValues().parse(value)
