"""Who may use the workbench, the internal API under /__motia/api and `POST /emit`.

The internal API can run cron jobs, redrive and purge dead letters, write state and inject
events, so it must not be reachable from another site through the user's browser:

- a page on another site (cross-site request forgery): writes must come from the same
  origin (`Sec-Fetch-Site`, `Origin`) and, for the internal API, carry a JSON content type,
  which a page cannot send to another site without the server's consent (CORS);
- a name of the attacker's that resolves to 127.0.0.1 (DNS rebinding): in dev, only
  local host names and the configured ones are served;
- anyone on the network: a token, required in `motia start`, where these are off without
  one.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlsplit

from motia.settings import Settings

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Sec-Fetch-Site values of requests a page of this server (or the user) made.
SAME_SITE_FETCHES = frozenset({"same-origin", "none"})

Refusal = tuple[int, str]


class InternalGuard:
    def __init__(self, settings: Settings) -> None:
        self.enabled = settings.internal_api_enabled
        token = settings.workbench_token
        self._token = token.encode() if token else None
        hosts = settings.workbench_allowed_hosts
        self._any_host = "*" in hosts or (settings.mode == "start" and not hosts)
        self._hosts = LOCAL_HOSTS | frozenset(hosts)

    def host_refusal(self, headers: Mapping[str, str]) -> Refusal | None:
        """Refuses a Host header that is neither local nor configured (DNS rebinding)."""
        if self._any_host:
            return None
        name = host_name(headers.get("host", ""))
        if name in self._hosts:
            return None
        return 403, (
            f"the host {name!r} is not allowed for the workbench and internal API; "
            "add it to workbench.allowedHosts"
        )

    def token_accepted(self, headers: Mapping[str, str], query_string: bytes) -> bool:
        """The token, from `Authorization: Bearer …` or `?token=…`, when one is set."""
        if self._token is None:
            return True
        supplied = headers.get("authorization", "")
        if supplied.lower().startswith("bearer "):
            candidate = supplied[7:].strip()
        else:
            query = parse_qsl(query_string.decode("latin-1"))
            candidate = next((value for key, value in query if key == "token"), "")
        # Constant-time comparison: the time taken says nothing about the token.
        return hmac.compare_digest(candidate.encode(), self._token)

    def refusal(
        self,
        method: str,
        headers: Mapping[str, str],
        query_string: bytes,
        *,
        json_required: bool,
    ) -> Refusal | None:
        """The answer to a request that may not go on, or None. `json_required`: a write
        must declare a JSON body (a missing content type is refused too)."""
        if not self.enabled:
            return 404, "the internal API is disabled"
        refused = self.host_refusal(headers)
        if refused is not None:
            return refused
        if not self.token_accepted(headers, query_string):
            return 401, "a valid workbench token is required"
        if method in SAFE_METHODS:
            return None
        if cross_site(headers):
            return 403, "cross-site requests may not change anything here"
        media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        is_json = media == "application/json" or media.endswith("+json")
        if not is_json and (json_required or media):
            return 415, "the request must have Content-Type: application/json"
        return None


def cross_site(headers: Mapping[str, str]) -> bool:
    """Sent by a page of another origin: browsers say so in `Sec-Fetch-Site`, and older
    ones in an `Origin` that is not this server's. Non-browser clients send neither."""
    site = headers.get("sec-fetch-site")
    if site is not None and site not in SAME_SITE_FETCHES:
        return True
    origin = headers.get("origin")
    if origin is None:
        return False
    netloc = urlsplit(origin).netloc.lower() if origin != "null" else ""
    return netloc != headers.get("host", "").lower()


def host_name(host: str) -> str:
    """The name of a Host header: `[::1]:3000` → `::1`, `Example.com:80` → `example.com`."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host[1:]
    return host.rsplit(":", 1)[0] if ":" in host else host
