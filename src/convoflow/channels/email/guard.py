"""Refusing SMTP hosts inside the instance's own network, like custom-channel URLs and HTTP Request steps.

A Manager enters the SMTP host, so without this check a channel could probe private, loopback or
link-local ports. Self-hosters whose mail relay runs beside convoflow turn internal targets on with
`CONVOFLOW_ALLOW_INTERNAL_HTTP`.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket


class BlockedHost(Exception):
    pass


async def check_host(host: str, *, allow_internal: bool) -> None:
    """BlockedHost when `host` resolves to a non-public address (unless internal targets are allowed)."""
    if allow_internal:
        return
    bare = host.strip("[]")
    try:
        addresses = [ipaddress.ip_address(bare)]
    except ValueError:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(bare, None, type=socket.SOCK_STREAM)
        except OSError:
            raise BlockedHost(f"Cannot resolve {host}") from None
        addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    for address in addresses:
        if not address.is_global:
            raise BlockedHost(f"{host} resolves to a non-public address; internal targets are off")
