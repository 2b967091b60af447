"""Compressing API answers: gzip always, Brotli and Zstandard when their module is
installed (`brotli`, `zstandard`), chosen by the client's `Accept-Encoding`.

Small bodies (below `http.compression.minSize`), answers that already carry a
`Content-Encoding`, and types that are compressed already (images, archives, fonts) or
streamed (`text/event-stream`) are sent as they are.
"""

from __future__ import annotations

import asyncio
import functools
import zlib
from collections.abc import Callable
from typing import Any

from motia.http.response import Headers

Encoder = Callable[[bytes], bytes]

# Bodies this large are compressed off the event loop, so other requests go on meanwhile.
THREAD_FROM = 256 * 1024
VARY = (b"vary", b"Accept-Encoding")

_NOT_COMPRESSIBLE = (
    b"image/",
    b"audio/",
    b"video/",
    b"font/woff",
    b"application/zip",
    b"application/gzip",
    b"application/x-gzip",
    b"application/x-bzip2",
    b"application/x-xz",
    b"application/x-7z-compressed",
    b"application/x-rar-compressed",
    b"application/zstd",
    b"application/octet-stream",
    b"application/pdf",
    b"text/event-stream",
)
# Images that are text.
_COMPRESSIBLE_IMAGES = (b"image/svg+xml", b"image/bmp", b"image/x-icon")


def _gzip(body: bytes) -> bytes:
    encoder = zlib.compressobj(6, zlib.DEFLATED, 31)  # 31: the gzip container
    return encoder.compress(body) + encoder.flush()


def _optional_encoders() -> dict[str, Encoder]:
    """Brotli and Zstandard, each when its module can be imported."""
    found: dict[str, Encoder] = {}
    try:
        brotli: Any = __import__("brotli")
        found["br"] = functools.partial(brotli.compress, quality=4)
    except ImportError:
        pass
    try:
        zstandard: Any = __import__("zstandard")
        found["zstd"] = zstandard.ZstdCompressor(level=3).compress
    except ImportError:
        pass
    return found


# In order of preference, when the client accepts several equally.
ENCODERS: dict[str, Encoder] = {**_optional_encoders(), "gzip": _gzip}


@functools.lru_cache(maxsize=256)
def choose(accept_encoding: str) -> str | None:
    """The encoding to answer with: the client's highest `q` among those we have."""
    best: tuple[float, int, str] | None = None
    star: float | None = None
    refused: set[str] = set()
    order = list(ENCODERS)
    for part in accept_encoding.lower().split(","):
        name, _, params = part.strip().partition(";")
        name = name.strip()
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if name == "*":
            star = q
        elif name == "x-gzip":
            name = "gzip"
        if q <= 0:
            refused.add(name)
            continue
        if name in ENCODERS:
            candidate = (q, -order.index(name), name)
            best = candidate if best is None or candidate > best else best
    if best is not None:
        return best[2]
    if star:
        return next((name for name in order if name not in refused), None)
    return None


def compressible(content_type: bytes) -> bool:
    media = content_type.lower()
    if media.startswith(_COMPRESSIBLE_IMAGES):
        return True
    return not media.startswith(_NOT_COMPRESSIBLE)


class Compressor:
    def __init__(self, min_size: int) -> None:
        self.min_size = min_size

    async def encode(
        self, status: int, accept_encoding: str | None, headers: Headers, body: bytes
    ) -> bytes:
        """`body` as the answer sends it; `headers` gain `Content-Encoding` and `Vary` as
        needed."""
        if len(body) < self.min_size or status < 200 or status in (204, 304):
            return body
        for name, value in headers:
            if name == b"content-encoding" or (name == b"content-type" and not compressible(value)):
                return body
        headers.append(VARY)  # caches must key this answer by Accept-Encoding
        encoding = choose(accept_encoding) if accept_encoding else None
        if encoding is None:
            return body
        encode = ENCODERS[encoding]
        if len(body) >= THREAD_FROM:
            encoded = await asyncio.to_thread(encode, body)
        else:
            encoded = encode(body)
        if len(encoded) >= len(body):
            return body
        headers.append((b"content-encoding", encoding.encode()))
        return encoded
