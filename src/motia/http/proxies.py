"""The client behind trusted reverse proxies.

A proxy passes the address of whoever it talks to in `X-Forwarded-For` (or RFC 7239
`Forwarded`) and the scheme in `X-Forwarded-Proto`. Anyone can send those headers, so they
are believed only from a peer listed in `http.trustedProxies`; the chain is then walked
from the right, skipping trusted hops, and the first address that is not a trusted proxy
is the client. Whatever a client wrote to the left of that is never looked at."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ClientResolver:
    def __init__(self, trusted: tuple[str, ...]) -> None:
        self._networks: tuple[Network, ...] = tuple(
            ipaddress.ip_network(item, strict=False) for item in trusted
        )

    def resolve(self, scope: Mapping[str, Any], headers: Mapping[str, str]) -> tuple[str, str]:
        """The client's address ("" when the server does not know it, a Unix socket, say)
        and scheme (`http` or `https`)."""
        peer = scope.get("client")
        address: str = peer[0] if peer else ""
        scheme: str = scope.get("scheme", "http")
        if not self._networks or not self.trusted(address):
            return address, scheme
        forwarded = headers.get("forwarded")
        if forwarded is not None:
            elements = _forwarded_elements(forwarded)
            hops = [element.get("for", "") for element in elements]
            index = self._client_index(hops)
            if index is not None:
                proto = elements[index].get("proto", "").lower()
                return hops[index], proto if proto in ("http", "https") else scheme
            return address, scheme
        chain = headers.get("x-forwarded-for")
        if chain is not None:
            hops = [hop.strip() for hop in chain.split(",")]
            index = self._client_index(hops)
            if index is not None:
                address = hops[index]
        proto_header = headers.get("x-forwarded-proto")
        if proto_header is not None:
            # The nearest proxy's word: it is trusted, whatever a client wrote before it.
            proto = proto_header.rsplit(",", 1)[-1].strip().lower()
            if proto in ("http", "https"):
                scheme = proto
        return address, scheme

    def trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in network for network in self._networks)

    def _client_index(self, hops: list[str]) -> int | None:
        """The rightmost hop that is not a trusted proxy; the leftmost when all are."""
        hops_left = [index for index, hop in enumerate(hops) if hop]
        for index in reversed(hops_left):
            if not self.trusted(hops[index]):
                return index
        return hops_left[0] if hops_left else None


def _forwarded_elements(value: str) -> list[dict[str, str]]:
    """`for=192.0.2.60;proto=https, for="[2001:db8::1]:4711"` as one dict per hop, the
    `for` address without port or brackets."""
    elements: list[dict[str, str]] = []
    for element in value.split(","):
        pairs: dict[str, str] = {}
        for pair in element.split(";"):
            name, _, raw = pair.partition("=")
            pairs[name.strip().lower()] = raw.strip().strip('"')
        if "for" in pairs:
            pairs["for"] = _node_address(pairs["for"])
        elements.append(pairs)
    return elements


def _node_address(node: str) -> str:
    if node.startswith("["):  # "[2001:db8::1]:4711"
        return node[1:].split("]", 1)[0]
    if node.count(":") == 1:  # "192.0.2.43:47011"
        return node.split(":", 1)[0]
    return node
