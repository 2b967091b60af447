"""Compression: large answers are gzip-encoded for clients that accept it, with
`Vary: Accept-Encoding`; small, already compressed or opted-out answers are not."""

from __future__ import annotations

import gzip
from collections.abc import Iterator

import httpx
import pytest

from motia.http import compression
from tests.conftest import ServerProcess, start_server, write_project
from tests.http.support import module_server

pytestmark = pytest.mark.slow


def api(name: str, path: str, body: str, extra: str = "", headers: str = "{}") -> str:
    return f"""
        config = {{"type": "api", "name": "{name}", "method": "GET", "path": "{path}",
                  "emits": []{extra}}}

        async def handler(req, ctx):
            return {{"status": 200, "body": {body}, "headers": {headers}}}
    """


BIG = '{"items": ["item %d" % i for i in range(600)]}'
FILES = {
    "steps/big_step.py": api("Big", "/big", BIG),
    "steps/medium_step.py": api("Medium", "/medium", '"m" * 1500'),
    "steps/small_step.py": api("Small", "/small", '{"ok": True}'),
    "steps/png_step.py": api(
        "Png", "/png", 'b"\\x89PNG" + b"\\x00" * 5000', headers='{"Content-Type": "image/png"}'
    ),
    "steps/own_step.py": api(
        "Own", "/own", '"x" * 5000', headers='{"Content-Encoding": "identity-of-my-own"}'
    ),
    "steps/off_step.py": api("Off", "/off", BIG, ', "compression": False'),
    "steps/on_step.py": api("On", "/on", BIG, ', "compression": True'),
    "config.yml": """
        http:
          compression:
            minSize: 2kib
    """,
}
GZIP = {"Accept-Encoding": "gzip"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with module_server(tmp_path_factory, "compression", FILES) as running:
        yield running


@pytest.fixture(scope="module")
def disabled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("compression-off")
    project = write_project(root / "project", FILES)
    running = start_server(project, env={"MOTIA_COMPRESSION_ENABLED": "false"}, log_dir=root)
    yield running
    running.stop()


def raw_get(
    server: ServerProcess, path: str, headers: dict[str, str]
) -> tuple[httpx.Response, bytes]:
    """The answer and its body as sent, not decoded."""
    with server.client.stream("GET", path, headers=headers) as response:
        return response, b"".join(response.iter_raw())


def test_a_large_answer_is_gzipped_and_decodes(server: ServerProcess) -> None:
    decoded = server.client.get("/big", headers=GZIP)  # httpx decodes gzip itself
    assert decoded.status_code == 200
    assert decoded.headers["content-encoding"] == "gzip"
    assert decoded.json()["items"][599] == "item 599"
    raw, body = raw_get(server, "/big", GZIP)
    assert body[:2] == b"\x1f\x8b"
    assert int(raw.headers["content-length"]) == len(body)
    assert len(body) < len(decoded.content)
    assert gzip.decompress(body) == decoded.content
    assert "accept-encoding" in raw.headers["vary"].lower()


def test_without_accept_encoding_the_answer_is_plain_but_varies(server: ServerProcess) -> None:
    for accept in ("identity", "gzip;q=0", "br;q=0, gzip;q=0, zstd;q=0"):
        raw, body = raw_get(server, "/big", {"Accept-Encoding": accept})
        assert "content-encoding" not in raw.headers, accept
        assert body.startswith(b'{"items"')
        assert "accept-encoding" in raw.headers["vary"].lower()


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("/small", "below the minimum size"),
        ("/medium", "below http.compression.minSize of 2 KiB"),
        ("/png", "an image is compressed already"),
        ("/off", "the step turned it off"),
    ],
)
def test_answers_that_stay_uncompressed(server: ServerProcess, path: str, why: str) -> None:
    raw, body = raw_get(server, path, GZIP)
    assert raw.status_code == 200
    assert "content-encoding" not in raw.headers, why
    assert int(raw.headers["content-length"]) == len(body)


def test_a_content_encoding_the_handler_set_is_left_alone(server: ServerProcess) -> None:
    raw, body = raw_get(server, "/own", GZIP)
    assert raw.headers.get_list("content-encoding") == ["identity-of-my-own"]
    assert body == b"x" * 5000


def test_disabled_globally_a_step_turns_it_on(disabled: ServerProcess) -> None:
    assert "content-encoding" not in raw_get(disabled, "/big", GZIP)[0].headers
    assert raw_get(disabled, "/on", GZIP)[0].headers["content-encoding"] == "gzip"


def test_head_is_not_compressed(server: ServerProcess) -> None:
    response = server.client.head("/big", headers=GZIP)
    assert response.status_code == 200
    assert "content-encoding" not in response.headers


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        ("gzip", "gzip"),
        ("gzip, deflate", "gzip"),
        ("deflate", None),
        ("*", next(iter(compression.ENCODERS))),
        ("*;q=0.5, gzip;q=0", next((n for n in compression.ENCODERS if n != "gzip"), None)),
        ("identity", None),
        ("GZIP;q=0.8", "gzip"),
        ("gzip;q=bad", None),
        ("x-gzip", "gzip"),
    ],
)
def test_choose_reads_accept_encoding(accept: str, chosen: str | None) -> None:
    assert compression.choose(accept) == chosen
