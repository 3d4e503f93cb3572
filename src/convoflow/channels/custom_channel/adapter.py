"""The custom channel adapter (CRM-CHAN-06): signed JSON webhooks in and out.

The external system POSTs events to the channel's webhook, signed with the shared secret; convoflow POSTs
each outgoing message to the configured URL, signed the same way and carrying the outbox idempotency key
in `Idempotency-Key`, so the receiver can drop a redelivery. Connecting only checks and stores the
credentials: there is no provider to tell where our webhook is (the user copies `webhook_url`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ValidationError

from convoflow.channels.base import (
    Capabilities,
    ChannelConfig,
    ConnectFailed,
    InboundItem,
    MalformedPayload,
    OutboundMessage,
    RawRequest,
    SendFailed,
    SendResult,
    TransientSendFailure,
)
from convoflow.channels.custom_channel import inbound, outbound, signing
from convoflow.channels.custom_channel.config import CustomChannelCredentials
from convoflow.channels.custom_channel.guard import BlockedUrl, check_url
from convoflow.channels.custom_channel.payloads import Webhook


class CustomChannelAdapter:
    kind: ClassVar[str] = "custom_channel"
    capabilities: ClassVar[Capabilities] = Capabilities(media=True, quick_replies=True, location=True)
    credentials_model: ClassVar[type[BaseModel]] = CustomChannelCredentials

    def __init__(
        self,
        *,
        now: Callable[[], datetime],
        allow_internal: bool = False,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.now = now  # the injected clock: signatures carry a time checked against a replay window
        self.allow_internal = allow_internal
        self.timeout = timeout
        self.transport = transport  # tests pass httpx.MockTransport

    # --- inbound -----------------------------------------------------------------------------
    def verify(self, request: RawRequest, config: ChannelConfig) -> None:
        signing.check(request, secret=config.secrets.get("signing_secret", ""), now=self.now())

    def parse(self, request: RawRequest, config: ChannelConfig) -> list[InboundItem]:
        try:
            webhook = Webhook.model_validate(request.json())
        except ValidationError as exc:
            raise MalformedPayload(
                f"The body is not a custom channel webhook ({exc.error_count()} problems)"
            ) from None
        return inbound.items_of(webhook)

    # --- outbound ----------------------------------------------------------------------------
    async def send(
        self, message: OutboundMessage, *, config: ChannelConfig, idempotency_key: str
    ) -> SendResult:
        if not message.external_id:
            raise SendFailed("The contact has no id on this custom channel")
        url, secret = config.secrets.get("outbound_url", ""), config.secrets.get("signing_secret", "")
        if not url or not secret:
            raise SendFailed("The channel has no outbound URL or signing secret")
        body = outbound.body_of(
            channel_id=message.channel_id,
            contact_id=message.external_id,
            content=message.content,
            contact=message.contact,
        )
        try:
            await check_url(url, allow_internal=self.allow_internal)
        except BlockedUrl as exc:
            raise SendFailed(f"Custom channel: {exc}") from None
        headers = {
            "Content-Type": "application/json",
            signing.IDEMPOTENCY_HEADER: idempotency_key,
            **signing.headers(secret, self.now(), body),
        }
        host = urlsplit(url).hostname
        try:
            async with httpx.AsyncClient(transport=self.transport, timeout=self.timeout) as client:
                response = await client.post(url, content=body, headers=headers)
        except httpx.TimeoutException:
            raise TransientSendFailure(f"Custom channel: {host} did not answer in time") from None
        except httpx.TransportError as exc:
            raise TransientSendFailure(
                f"Custom channel: {host} could not be reached ({type(exc).__name__})"
            ) from None
        return outbound.result_of(response)

    # --- connection --------------------------------------------------------------------------
    async def connect(self, config: ChannelConfig, *, webhook_url: str) -> dict[str, Any]:
        """No provider to call: the URL is checked and its origin kept to show which system is behind."""
        url = config.secrets.get("outbound_url", "")
        try:
            await check_url(url, allow_internal=self.allow_internal)
        except BlockedUrl as exc:
            raise ConnectFailed(str(exc)) from None
        parts = urlsplit(url)
        return {"outbound_origin": f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"}

    async def disconnect(self, config: ChannelConfig) -> None:
        return None
