"""The workbench page at /__motia/: static files shipped inside the package (no Node, no
CDN). The page holds no data and no secret; everything it shows comes from the guarded
JSON API, so a configured token is asked for by the page and checked by the API."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from motia.http.internal_guard import InternalGuard
from motia.system_paths import SYSTEM_PREFIX

if TYPE_CHECKING:
    from motia.runtime.runtime import Runtime

STATIC_DIR = Path(__file__).resolve().parent.parent / "workbench" / "static"
FAVICON = STATIC_DIR / "favicon.svg"
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}
SECURITY_HEADERS = {
    "cache-control": "no-cache",
    "x-content-type-options": "nosniff",
    # The token may arrive in the address (?token=): never pass it on to another site.
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "content-security-policy": (
        "default-src 'self'; connect-src 'self'; img-src 'self' data:; "
        "style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'; "
        "base-uri 'none'; form-action 'self'"
    ),
}


ICON_HEADERS = {"cache-control": "public, max-age=86400", "x-content-type-options": "nosniff"}


class WorkbenchUi:
    def __init__(self, runtime: Runtime, static_dir: Path = STATIC_DIR) -> None:
        self.runtime = runtime
        self.static_dir = static_dir
        self.access = InternalGuard(runtime.settings)

    def routes(self) -> list[BaseRoute]:
        return [
            Route(SYSTEM_PREFIX, self.redirect),
            Route(f"{SYSTEM_PREFIX}/", self.index),
            Route(f"{SYSTEM_PREFIX}/index.html", self.index),
            Route(f"{SYSTEM_PREFIX}/static/{{name:path}}", self.static),
            Route(f"{SYSTEM_PREFIX}/favicon.svg", self.favicon),
        ]

    async def redirect(self, request: Request) -> Response:
        if not self.runtime.settings.internal_api_enabled:
            return _not_found()
        refused = self.access.host_refusal(request.headers)
        if refused is not None:
            return JSONResponse({"error": refused[1]}, status_code=refused[0])
        query = request.url.query
        return RedirectResponse(
            f"{SYSTEM_PREFIX}/" + (f"?{query}" if query else ""), status_code=307
        )

    async def index(self, request: Request) -> Response:
        return self._file(request, "index.html")

    async def favicon(self, request: Request) -> Response:
        """Served even where the workbench is off: the API docs page uses it too."""
        return Response(favicon_bytes(), media_type=MEDIA_TYPES[".svg"], headers=ICON_HEADERS)

    async def static(self, request: Request) -> Response:
        return self._file(request, request.path_params["name"])

    def _file(self, request: Request, name: str) -> Response:
        if not self.runtime.settings.internal_api_enabled:
            return _not_found()
        # A page served under another site's name would run as that site (DNS rebinding).
        refused = self.access.host_refusal(request.headers)
        if refused is not None:
            return JSONResponse({"error": refused[1]}, status_code=refused[0])
        # Only plain file names in the static folder: no "..", no sub-folders, no dot-files.
        if "/" in name or "\\" in name or name.startswith(".") or not name:
            return _not_found()
        path = self.static_dir / name
        media_type = MEDIA_TYPES.get(path.suffix)
        if media_type is None or not path.is_file():
            return _not_found()
        body = path.read_bytes()
        # "no-cache" keeps an upgraded package from running with stale modules; the ETag
        # lets the page's many small modules revalidate with an empty 304 instead.
        etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
        headers = {**SECURITY_HEADERS, "etag": etag}
        if etag in _etags(request.headers.get("if-none-match", "")):
            return Response(status_code=304, headers=headers)
        return Response(body, media_type=media_type, headers=headers)


def _etags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",")}


def _not_found() -> Response:
    return JSONResponse({"error": "not found"}, status_code=404)


@functools.cache
def favicon_bytes() -> bytes:
    return FAVICON.read_bytes()
