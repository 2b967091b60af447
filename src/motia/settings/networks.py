"""Addresses and networks (CIDR) that a setting lists, such as the trusted proxies."""

from __future__ import annotations

import ipaddress
from typing import Any

from motia.settings.kinds import Invalid, Kind, Names


class Networks(Kind):
    """IP addresses or CIDR networks (`10.0.0.0/8`, `::1`); from the environment,
    comma-separated. Kept as written; `motia.http.proxies` compiles them."""

    def parse(self, value: object) -> tuple[str, ...]:
        items = Names().parse(value)
        for item in items:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise Invalid(
                    f"has {item!r}, which is not an IP address or network (e.g. 10.0.0.0/8)"
                ) from None
        return items

    def describe(self) -> str:
        return "list of IP addresses or CIDR networks"

    def show(self, value: Any) -> str:
        return "`[" + ", ".join(f'"{item}"' for item in value) + "]`"
