"""The Telegram channel adapter: Bot API webhooks in, Bot API calls out (https://core.telegram.org/bots/api).

Every call opens its own httpx client: the outbox relay runs each pass in a fresh event loop, and a
client must not outlive its loop. The bot token is part of every Bot API URL, so no URL is ever put in
an error message or a log line.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any, ClassVar

import httpx
from pydantic import BaseModel, ValidationError

from convoflow.channels.base import (
    WEBHOOK_SECRET,
    Capabilities,
    ChannelConfig,
    ConnectFailed,
    InboundItem,
    InvalidSignature,
    MalformedPayload,
    OutboundMessage,
    RawRequest,
    SendFailed,
    SendResult,
    TransientSendFailure,
)
from convoflow.channels.telegram import inbound, outbound
from convoflow.channels.telegram.config import TelegramCredentials
from convoflow.channels.telegram.payloads import ApiResponse, Message, Update

log = logging.getLogger("convoflow.channels.telegram")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
DEFAULT_API_URL = "https://api.telegram.org"
ALLOWED_UPDATES = ["message", "callback_query"]


class TelegramAdapter:
    kind: ClassVar[str] = "telegram"
    capabilities: ClassVar[Capabilities] = Capabilities(
        media=True, quick_replies=True, location=True, max_text_length=outbound.MAX_TEXT
    )
    credentials_model: ClassVar[type[BaseModel]] = TelegramCredentials

    def __init__(
        self,
        *,
        api_url: str = DEFAULT_API_URL,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout
        self.transport = transport  # tests pass httpx.MockTransport

    # --- inbound -----------------------------------------------------------------------------
    def verify(self, request: RawRequest, config: ChannelConfig) -> None:
        """The secret token we gave setWebhook must come back in its header (constant-time compare)."""
        expected = config.secrets.get(WEBHOOK_SECRET)
        given = request.header(SECRET_HEADER)
        if not expected or given is None or not hmac.compare_digest(given.encode(), expected.encode()):
            raise InvalidSignature(f"Missing or wrong {SECRET_HEADER} header")

    def parse(self, request: RawRequest, config: ChannelConfig) -> list[InboundItem]:
        try:
            update = Update.model_validate(request.json())
        except ValidationError:
            raise MalformedPayload("The body is not a Telegram Update") from None
        return inbound.items_of(update)

    # --- outbound ----------------------------------------------------------------------------
    async def send(
        self, message: OutboundMessage, *, config: ChannelConfig, idempotency_key: str
    ) -> SendResult:
        """Telegram takes no idempotency key: a send cut off after Telegram accepted it may repeat."""
        if not message.external_id:
            raise SendFailed("The contact has no Telegram chat")
        method, params = outbound.request_for(message.content, outbound.chat_id(message.external_id))
        result = await self._call(config, method, params)
        try:
            sent = Message.model_validate(result)
        except ValidationError:
            return SendResult(None)  # accepted all the same
        return SendResult(inbound.provider_id(sent.chat.id, sent.message_id))

    # --- connection --------------------------------------------------------------------------
    async def connect(self, config: ChannelConfig, *, webhook_url: str) -> dict[str, Any]:
        """getMe checks the token; setWebhook points the bot at us with the secret token."""
        try:
            me = await self._call(config, "getMe", {})
            await self._call(
                config,
                "setWebhook",
                {
                    "url": webhook_url,
                    "secret_token": config.secrets.get(WEBHOOK_SECRET, ""),
                    "allowed_updates": ALLOWED_UPDATES,
                },
            )
        except (SendFailed, TransientSendFailure) as exc:
            raise ConnectFailed(str(exc)) from None
        me = me if isinstance(me, dict) else {}
        return {"bot_id": me.get("id"), "bot_username": me.get("username")}

    async def disconnect(self, config: ChannelConfig) -> None:
        try:
            await self._call(config, "deleteWebhook", {})
        except (SendFailed, TransientSendFailure) as exc:
            log.warning("telegram.delete_webhook.failed", extra={"reason": str(exc)})

    # --- the Bot API ------------------------------------------------------------------------
    async def _call(self, config: ChannelConfig, method: str, params: dict[str, Any]) -> Any:
        token = config.secrets.get("bot_token")
        if not token:
            raise SendFailed("The channel has no bot token")
        try:
            async with httpx.AsyncClient(transport=self.transport, timeout=self.timeout) as client:
                response = await client.post(f"{self.api_url}/bot{token}/{method}", json=params)
        except httpx.TimeoutException:
            raise TransientSendFailure(f"Telegram did not answer {method} in time") from None
        except httpx.TransportError as exc:  # the message may hold the URL, hence the token
            raise TransientSendFailure(f"Telegram could not be reached ({type(exc).__name__})") from None
        return _result(response)


def _result(response: httpx.Response) -> Any:
    """The `result` of a successful call; Transient for 429 and 5xx, SendFailed for the rest."""
    try:
        body: ApiResponse | None = ApiResponse.model_validate_json(response.content)
    except ValidationError:
        body = None
    description = (body.description if body else None) or f"HTTP {response.status_code}"
    if response.status_code == 429 or (body is not None and body.error_code == 429):
        retry_after = body.parameters.retry_after if body and body.parameters else None
        if retry_after is None:
            retry_after = _seconds(response.headers.get("retry-after"))
        raise TransientSendFailure(f"Telegram: {description}", retry_after=retry_after)
    if response.status_code >= 500:
        raise TransientSendFailure(f"Telegram: {description}")
    if body is None or not body.ok or response.status_code >= 400:
        raise SendFailed(f"Telegram: {description}")
    return body.result


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
