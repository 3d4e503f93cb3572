"""The WhatsApp Cloud API adapter (https://developers.facebook.com/docs/whatsapp/cloud-api).

Meta checks the callback URL with a GET (`hub.challenge`, answered when `hub.verify_token` matches) and
signs every POST with `X-Hub-Signature-256`, an HMAC-SHA256 of the raw body keyed with the app secret.
Webhooks are configured per Meta app in its dashboard, so connecting only checks the number and token
with a Graph API call. Every call opens its own httpx client (the relay runs in fresh event loops).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any, ClassVar

import httpx
from pydantic import BaseModel, ValidationError

from convoflow.channels.base import (
    Capabilities,
    ChannelConfig,
    ConnectFailed,
    HookReply,
    InboundItem,
    InvalidSignature,
    MalformedPayload,
    OutboundMessage,
    RawRequest,
    SendFailed,
    SendResult,
    TransientSendFailure,
)
from convoflow.channels.whatsapp_cloud import inbound, outbound
from convoflow.channels.whatsapp_cloud.config import WhatsappCredentials
from convoflow.channels.whatsapp_cloud.payloads import Notification, SendAnswer

SIGNATURE_HEADER = "X-Hub-Signature-256"
DEFAULT_API_URL = "https://graph.facebook.com"
GRAPH_VERSION = "v21.0"


class WhatsappCloudAdapter:
    kind: ClassVar[str] = "whatsapp_cloud"
    capabilities: ClassVar[Capabilities] = Capabilities(
        media=True,
        quick_replies=True,
        location=True,
        templates=True,
        window_hours=24,
        max_text_length=outbound.MAX_TEXT,
    )
    credentials_model: ClassVar[type[BaseModel]] = WhatsappCredentials

    def __init__(
        self,
        *,
        api_url: str = DEFAULT_API_URL,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout
        self.transport = transport

    # --- inbound -----------------------------------------------------------------------------
    def challenge(self, request: RawRequest, config: ChannelConfig) -> HookReply:
        expected = config.secrets.get("verify_token", "")
        given = request.query.get("hub.verify_token", "")
        if (
            request.query.get("hub.mode") != "subscribe"
            or not expected
            or not hmac.compare_digest(given.encode(), expected.encode())
        ):
            raise InvalidSignature("hub.verify_token does not match the channel's verify token")
        return HookReply(request.query.get("hub.challenge", ""))

    def verify(self, request: RawRequest, config: ChannelConfig) -> None:
        secret = config.secrets.get("app_secret", "")
        given = request.header(SIGNATURE_HEADER) or ""
        expected = "sha256=" + hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
        if not secret or not hmac.compare_digest(given.encode(), expected.encode()):
            raise InvalidSignature(f"Missing or wrong {SIGNATURE_HEADER} header")

    def parse(self, request: RawRequest, config: ChannelConfig) -> list[InboundItem]:
        try:
            notification = Notification.model_validate(request.json())
        except ValidationError:
            raise MalformedPayload("The body is not a WhatsApp Cloud API notification") from None
        if notification.object != "whatsapp_business_account":
            raise MalformedPayload(f"Not a WhatsApp notification (object {notification.object[:40]!r})")
        return inbound.items_of(notification, phone_number_id=config.secrets.get("phone_number_id", ""))

    # --- outbound ----------------------------------------------------------------------------
    async def send(
        self, message: OutboundMessage, *, config: ChannelConfig, idempotency_key: str
    ) -> SendResult:
        """The Cloud API takes no idempotency key: a send cut off after Meta accepted it may repeat."""
        to = (message.external_id or message.contact.get("phone") or "").lstrip("+")
        if not to.isdigit():
            raise SendFailed("The contact has no WhatsApp number")
        outbound.check_window(message.content, message.since_last_inbound)
        body = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            **outbound.message_of(message.content),
        }
        response = await self._call(config, "POST", "/messages", json=body)
        if response.status_code != 200:
            raise outbound.error_of(response)
        try:
            answer = SendAnswer.model_validate_json(response.content)
        except ValidationError:
            return SendResult(None)
        return SendResult(answer.messages[0].id if answer.messages else None)

    # --- connection --------------------------------------------------------------------------
    async def connect(self, config: ChannelConfig, *, webhook_url: str) -> dict[str, Any]:
        """Reads the number with the token: proves both. The callback URL is set in the app dashboard."""
        try:
            response = await self._call(
                config, "GET", "", params={"fields": "display_phone_number,verified_name"}
            )
            if response.status_code != 200:
                raise outbound.error_of(response)
        except (SendFailed, TransientSendFailure) as exc:
            raise ConnectFailed(str(exc)) from None
        try:
            number = response.json()
        except ValueError:
            number = {}
        number = number if isinstance(number, dict) else {}
        return {
            "display_phone_number": number.get("display_phone_number"),
            "verified_name": number.get("verified_name"),
        }

    async def disconnect(self, config: ChannelConfig) -> None:
        """Nothing to tell Meta: the app's webhook serves all its numbers, and ours answers 410 now."""
        return None

    # --- the Graph API ------------------------------------------------------------------------
    async def _call(self, config: ChannelConfig, method: str, path: str, **kwargs: Any) -> httpx.Response:
        number, token = config.secrets.get("phone_number_id", ""), config.secrets.get("access_token", "")
        if not number or not token:
            raise SendFailed("The channel has no WhatsApp credentials")
        url = f"{self.api_url}/{GRAPH_VERSION}/{number}{path}"
        headers = {"Authorization": f"Bearer {token}"}
        try:
            async with httpx.AsyncClient(transport=self.transport, timeout=self.timeout) as client:
                return await client.request(method, url, headers=headers, **kwargs)
        except httpx.TimeoutException:
            raise TransientSendFailure("WhatsApp did not answer in time") from None
        except httpx.TransportError as exc:
            raise TransientSendFailure(f"WhatsApp could not be reached ({type(exc).__name__})") from None
