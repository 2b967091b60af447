"""GET /__motia/stream-client.js: the browser stream client, shipped inside the package so
that pages work offline and behind firewalls. Served in every mode: it is public code with
no data, like the page that imports it."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from motia.system_paths import SYSTEM_PREFIX

CLIENT_PATH = f"{SYSTEM_PREFIX}/stream-client.js"
CLIENT_FILE = Path(__file__).resolve().parent / "stream_client.js"
HEADERS = {
    # Revalidated on each load, so a page never runs a client older than its server.
    "cache-control": "no-cache",
    "x-content-type-options": "nosniff",
    # A module script from another origin (a page served elsewhere) needs CORS.
    "access-control-allow-origin": "*",
}


class StreamClientScript:
    def __init__(self, source: Path = CLIENT_FILE) -> None:
        self._body = source.read_bytes()

    def routes(self) -> list[BaseRoute]:
        return [Route(CLIENT_PATH, self.serve, methods=["GET", "HEAD"])]

    async def serve(self, request: Request) -> Response:
        return Response(self._body, media_type="text/javascript; charset=utf-8", headers=HEADERS)
