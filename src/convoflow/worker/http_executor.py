"""The HTTP Request step's calls, made by the relay (WF-STEP-HTTP-01/03).

Private, loopback, link-local and other non-public addresses are refused unless the instance allows
internal targets; the instance's own public host is always refused (loop protection). Redirects are
followed by hand (at most 3), each hop checked again. The response is read up to 1 MB; no retries.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from convoflow.workflows.engine.outcomes import EffectResult

MAX_REDIRECTS = 3
MAX_RESPONSE_BYTES = 1024 * 1024
_REDIRECTS = {301, 302, 303, 307, 308}


class Blocked(Exception):
    pass


async def _addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(info[4][0]) for info in infos]


def _origin(url: str) -> str:
    """host:port with the scheme's default port filled in."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{(parts.hostname or '').lower()}:{port}"


class HttpExecutor:
    def __init__(
        self,
        *,
        client: httpx.AsyncClient | None = None,
        allow_internal: bool = False,
        own_origins: set[str] | None = None,
    ) -> None:
        self._client = client
        self.allow_internal = allow_internal
        # The instance's own public URLs: a workflow must not call back into itself.
        self.own_origins = {_origin(origin) for origin in (own_origins or set())}

    async def _check(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise Blocked("Only http and https URLs with a host can be called")
        host = parts.hostname.lower()
        if _origin(url) in self.own_origins:
            raise Blocked("Calls to this convoflow instance are blocked (loop protection)")
        if self.allow_internal:
            return
        try:
            addresses = await _addresses(host)
        except OSError:
            raise Blocked(f"Cannot resolve {host}") from None
        for address in addresses:
            if not address.is_global:
                raise Blocked(
                    f"{host} resolves to a non-public address ({address}); internal targets are off"
                )

    async def __call__(self, request: dict[str, Any], idempotency_key: str) -> EffectResult:
        client = self._client or httpx.AsyncClient()
        try:
            return await self._call(client, request, idempotency_key)
        finally:
            if self._client is None:
                await client.aclose()

    async def _call(self, client: httpx.AsyncClient, request: dict[str, Any], key: str) -> EffectResult:
        method, url = str(request["method"]), str(request["url"])
        headers = {**dict(request.get("headers") or {}), "Idempotency-Key": key}
        body = request.get("body")
        timeout = float(request.get("timeout") or 10)
        try:
            async with asyncio.timeout(timeout):
                for _hop in range(MAX_REDIRECTS + 1):
                    await self._check(url)
                    async with client.stream(
                        method, url, headers=headers, content=body, timeout=timeout, follow_redirects=False
                    ) as response:
                        location = response.headers.get("location")
                        if response.status_code in _REDIRECTS and location:
                            url = urljoin(url, location)
                            if response.status_code == 303 or (
                                response.status_code in (301, 302) and method == "POST"
                            ):
                                method, body = "GET", None
                            continue
                        raw = await _read_capped(response)
                        return _result(response, raw)
                return EffectResult(False, {}, f"More than {MAX_REDIRECTS} redirects")
        except Blocked as exc:
            return EffectResult(False, {}, str(exc))
        except TimeoutError:
            return EffectResult(False, {}, f"No response within {timeout:g} s")
        except _TooLarge:
            return EffectResult(False, {}, "The response is larger than 1 MB")
        except httpx.HTTPError as exc:
            return EffectResult(False, {}, f"Request failed: {type(exc).__name__}")


class _TooLarge(Exception):
    pass


async def _read_capped(response: httpx.Response) -> bytes:
    chunks, size = [], 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _result(response: httpx.Response, raw: bytes) -> EffectResult:
    status = response.status_code
    document: Any = None
    if "json" in response.headers.get("content-type", ""):
        try:
            document = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError):
            document = None  # mappings only read JSON responses; invalid JSON maps nothing
    ok = 200 <= status < 300
    return EffectResult(ok, {"status": status, "json": document}, None if ok else f"HTTP status {status}")
