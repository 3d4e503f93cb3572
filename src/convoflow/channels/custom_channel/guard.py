"""Refusing custom-channel URLs that point into the instance's own network (like the HTTP Request step).

A Manager enters the outbound URL, so without this check a channel could probe private, loopback,
link-local or cloud-metadata addresses. Self-hosters that run the connector beside convoflow turn
internal targets on with `CONVOFLOW_ALLOW_INTERNAL_HTTP`.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit


class BlockedUrl(Exception):
    pass


async def check_url(url: str, *, allow_internal: bool) -> None:
    """BlockedUrl for a URL that is not http(s) or whose host resolves to a non-public address."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BlockedUrl("Only http and https URLs with a host can be called")
    if allow_internal:
        return
    host = parts.hostname
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except OSError:
            raise BlockedUrl(f"Cannot resolve {host}") from None
        addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    for address in addresses:
        if not address.is_global:
            raise BlockedUrl(f"{host} resolves to a non-public address; internal targets are off")
