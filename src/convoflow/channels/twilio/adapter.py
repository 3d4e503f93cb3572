"""The Twilio SMS adapter: form-encoded webhooks signed with `X-Twilio-Signature`, the Messages REST API out.

Twilio signs each webhook with the account's auth token over the exact URL it called plus the sorted form
fields, so the signature is checked against the public webhook URL saved when the channel was connected
(not the URL this process sees behind a proxy). Outgoing messages ask Twilio to post their status
callbacks to that same URL. Every call opens its own httpx client (the relay runs in fresh event loops).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import parse_qsl

import httpx
from pydantic import BaseModel, ValidationError
from twilio.request_validator import RequestValidator

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
from convoflow.channels.twilio import inbound, outbound
from convoflow.channels.twilio.config import TwilioCredentials
from convoflow.channels.twilio.payloads import IncomingPhoneNumber, IncomingPhoneNumbers, MessageResource
from convoflow.channels.twilio.phones import e164

log = logging.getLogger("convoflow.channels.twilio")

SIGNATURE_HEADER = "X-Twilio-Signature"
DEFAULT_API_URL = "https://api.twilio.com"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


class TwilioAdapter:
    kind: ClassVar[str] = "twilio"
    capabilities: ClassVar[Capabilities] = Capabilities(
        media=True, quick_replies=True, max_text_length=outbound.MAX_BODY
    )
    credentials_model: ClassVar[type[BaseModel]] = TwilioCredentials

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
    def verify(self, request: RawRequest, config: ChannelConfig) -> None:
        form = _form(request)
        url = str(config.settings.get("webhook_url") or "")
        token = config.secrets.get("auth_token", "")
        signature = request.header(SIGNATURE_HEADER)
        if not url or not token or not signature:
            raise InvalidSignature(f"Missing {SIGNATURE_HEADER} header")
        if not RequestValidator(token).validate(url, dict(form), signature):
            raise InvalidSignature(f"Wrong {SIGNATURE_HEADER}")

    def parse(self, request: RawRequest, config: ChannelConfig) -> list[InboundItem]:
        return inbound.items_of(_form(request), account_sid=config.secrets.get("account_sid", ""))

    def acknowledge(self, request: RawRequest) -> HookReply:
        """An empty TwiML document: received, and nothing to answer automatically."""
        return HookReply(EMPTY_TWIML, media_type="text/xml")

    # --- outbound ----------------------------------------------------------------------------
    async def send(
        self, message: OutboundMessage, *, config: ChannelConfig, idempotency_key: str
    ) -> SendResult:
        """Twilio's Messages API takes no idempotency key: a send cut off after it was accepted may repeat."""
        to = e164(message.external_id or message.contact.get("phone") or "")
        if to is None:
            raise SendFailed("The contact has no phone number Twilio can text")
        params: dict[str, str] = {"To": to, "From": config.secrets.get("phone_number", "")}
        params.update(outbound.params_for(message.content))
        if config.settings.get("webhook_url"):
            params["StatusCallback"] = str(config.settings["webhook_url"])
        response = await self._call(config, "POST", "/Messages.json", data=params)
        if response.status_code not in (200, 201):
            raise outbound.error_of(response)
        try:
            return SendResult(MessageResource.model_validate_json(response.content).sid)
        except ValidationError:
            return SendResult(None)

    # --- connection --------------------------------------------------------------------------
    async def connect(self, config: ChannelConfig, *, webhook_url: str) -> dict[str, Any]:
        """Finds the number in the account (which checks the credentials) and points its SMS URL at us."""
        number = config.secrets.get("phone_number", "")
        try:
            found = await self._number(config, number)
            if found is None:
                raise ConnectFailed(f"{number} is not a phone number of this Twilio account")
            response = await self._call(
                config,
                "POST",
                f"/IncomingPhoneNumbers/{found.sid}.json",
                data={"SmsUrl": webhook_url, "SmsMethod": "POST"},
            )
            if response.status_code != 200:
                raise outbound.error_of(response)
        except (SendFailed, TransientSendFailure) as exc:
            raise ConnectFailed(str(exc)) from None
        return {"webhook_url": webhook_url, "phone_number": number, "phone_number_sid": found.sid}

    async def disconnect(self, config: ChannelConfig) -> None:
        """Clears the number's SMS URL if it still points at this channel."""
        ours = config.settings.get("webhook_url")
        try:
            found = await self._number(config, config.secrets.get("phone_number", ""))
            if found is not None and ours and found.sms_url == ours:
                path = f"/IncomingPhoneNumbers/{found.sid}.json"
                await self._call(config, "POST", path, data={"SmsUrl": ""})
        except (SendFailed, TransientSendFailure) as exc:
            log.warning("twilio.clear_sms_url.failed", extra={"reason": str(exc)})

    # --- the REST API -------------------------------------------------------------------------
    async def _number(self, config: ChannelConfig, number: str) -> IncomingPhoneNumber | None:
        response = await self._call(
            config, "GET", "/IncomingPhoneNumbers.json", params={"PhoneNumber": number}
        )
        if response.status_code != 200:
            raise outbound.error_of(response)
        try:
            page = IncomingPhoneNumbers.model_validate_json(response.content)
        except ValidationError:
            raise SendFailed("Twilio answered the number lookup with an unexpected body") from None
        return next((found for found in page.numbers if found.phone_number == number), None)

    async def _call(self, config: ChannelConfig, method: str, path: str, **kwargs: Any) -> httpx.Response:
        sid, token = config.secrets.get("account_sid", ""), config.secrets.get("auth_token", "")
        if not sid or not token:
            raise SendFailed("The channel has no Twilio credentials")
        url = f"{self.api_url}/2010-04-01/Accounts/{sid}{path}"
        try:
            async with httpx.AsyncClient(transport=self.transport, timeout=self.timeout) as client:
                return await client.request(method, url, auth=(sid, token), **kwargs)
        except httpx.TimeoutException:
            raise TransientSendFailure("Twilio did not answer in time") from None
        except httpx.TransportError as exc:
            raise TransientSendFailure(f"Twilio could not be reached ({type(exc).__name__})") from None


def _form(request: RawRequest) -> Mapping[str, str]:
    """The form fields (Twilio sends each once); MalformedPayload when the body is no URL-encoded form."""
    try:
        return dict(parse_qsl(request.body.decode("utf-8"), keep_blank_values=True, strict_parsing=True))
    except (UnicodeDecodeError, ValueError):
        raise MalformedPayload("The body is not a URL-encoded form") from None
