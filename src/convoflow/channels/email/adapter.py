"""The email channel adapter (`other_email`): SMTP out through aiosmtplib, raw emails in through the webhook.

Inbound: a mail-forwarding service or a local MTA pipe POSTs the raw RFC 5322 message
(`Content-Type: message/rfc822`) to the channel's webhook, signed like the custom channel
(`X-Convoflow-Timestamp`, `X-Convoflow-Signature` = HMAC-SHA256 of "{timestamp}." + body with the
channel's `inbound_secret`). Outbound: one SMTP transaction per message; connecting logs in once to check
the account. 4xx replies, refused connections and timeouts are transient; 5xx replies are final.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar

import aiosmtplib
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
from convoflow.channels.email import inbound, outbound, signing
from convoflow.channels.email.config import EmailCredentials
from convoflow.channels.email.guard import BlockedHost, check_host

CONTENT_TYPES = ("message/rfc822", "text/plain", "application/octet-stream")
MAX_REASON = 300


class EmailAdapter:
    kind: ClassVar[str] = "other_email"
    capabilities: ClassVar[Capabilities] = Capabilities(media=True, quick_replies=True, threads=True)
    credentials_model: ClassVar[type[BaseModel]] = EmailCredentials

    def __init__(
        self,
        *,
        now: Callable[[], datetime],
        allow_internal: bool = False,
        timeout: float = 30.0,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.now = now  # signatures carry a time checked against a replay window; the Date header
        self.allow_internal = allow_internal
        self.timeout = timeout
        self.tls_context = tls_context  # None: the system's trusted certificates

    # --- inbound -----------------------------------------------------------------------------
    def verify(self, request: RawRequest, config: ChannelConfig) -> None:
        signing.check(request, secret=config.secrets.get("inbound_secret", ""), now=self.now())

    def parse(self, request: RawRequest, config: ChannelConfig) -> list[InboundItem]:
        media_type = (request.header("content-type") or "").split(";")[0].strip().lower()
        if media_type not in CONTENT_TYPES:
            raise MalformedPayload("Post the raw email as Content-Type: message/rfc822")
        return inbound.items_of(request.body)

    # --- outbound ----------------------------------------------------------------------------
    async def send(
        self, message: OutboundMessage, *, config: ChannelConfig, idempotency_key: str
    ) -> SendResult:
        credentials = _credentials(config, SendFailed)
        to_address = message.external_id or message.contact.get("email")
        if not to_address or "@" not in str(to_address):
            raise SendFailed("The contact has no email address")
        mid = outbound.message_id(
            channel_id=message.channel_id,
            idempotency_key=idempotency_key,
            from_address=credentials.from_address,
        )
        email = outbound.build(
            credentials=credentials,
            to_address=str(to_address),
            to_name=message.contact.get("name") or None,
            content=message.content,
            reply_to=message.reply_to,
            message_id=mid,
            date=self.now().timestamp(),
        )
        await self._guard(credentials, SendFailed)
        try:
            await aiosmtplib.send(
                email,
                sender=credentials.from_address,
                recipients=[str(to_address)],
                **self._options(credentials),
            )
        except aiosmtplib.SMTPException as exc:
            raise _failure(exc, credentials.smtp_host) from None
        except OSError as exc:
            raise TransientSendFailure(
                f"SMTP: {credentials.smtp_host} could not be reached ({type(exc).__name__})"
            ) from None
        return SendResult(mid)

    # --- connection --------------------------------------------------------------------------
    async def connect(self, config: ChannelConfig, *, webhook_url: str) -> dict[str, Any]:
        """Logs in to the SMTP server once; the user points their mail forwarder at `webhook_url`."""
        credentials = _credentials(config, ConnectFailed)
        await self._guard(credentials, ConnectFailed)
        client = aiosmtplib.SMTP(**self._options(credentials))
        try:
            await client.connect()
            if credentials.smtp_username:
                await client.login(credentials.smtp_username, credentials.smtp_password or "")
            await client.quit()
        except aiosmtplib.SMTPException as exc:
            raise ConnectFailed(f"SMTP: {_reason(exc)}") from None
        except OSError as exc:
            raise ConnectFailed(f"SMTP: {credentials.smtp_host} could not be reached ({exc})") from None
        finally:
            client.close()
        return {"from_address": credentials.from_address, "smtp_host": credentials.smtp_host}

    async def disconnect(self, config: ChannelConfig) -> None:
        return None  # nothing registered at the provider: the forwarder keeps posting and gets 410

    def _options(self, credentials: EmailCredentials) -> dict[str, Any]:
        return {
            "hostname": credentials.smtp_host,
            "port": credentials.smtp_port,
            "use_tls": credentials.smtp_security == "tls",
            "start_tls": credentials.smtp_security == "starttls",
            "username": credentials.smtp_username,
            "password": credentials.smtp_password if credentials.smtp_username else None,
            "timeout": self.timeout,
            "tls_context": self.tls_context,
        }

    async def _guard(self, credentials: EmailCredentials, error: type[Exception]) -> None:
        try:
            await check_host(credentials.smtp_host, allow_internal=self.allow_internal)
        except BlockedHost as exc:
            raise error(f"SMTP: {exc}") from None


def _credentials(config: ChannelConfig, error: type[Exception]) -> EmailCredentials:
    try:
        return EmailCredentials.from_secrets(config.secrets)
    except ValidationError:
        raise error("The channel's SMTP credentials are incomplete; enter them again") from None


def _failure(exc: aiosmtplib.SMTPException, host: str) -> Exception:
    """4xx replies, timeouts and lost connections: try again; 5xx replies: refused for good."""
    if isinstance(exc, aiosmtplib.SMTPTimeoutError):
        return TransientSendFailure(f"SMTP: {host} did not answer in time")
    if isinstance(exc, aiosmtplib.SMTPConnectError | aiosmtplib.SMTPServerDisconnected):
        return TransientSendFailure(f"SMTP: {host} could not be reached ({_reason(exc)})")
    code = _code(exc)
    if code is not None and 400 <= code < 500:
        return TransientSendFailure(f"SMTP: {_reason(exc)}")
    return SendFailed(f"SMTP: {_reason(exc)}")


def _code(exc: aiosmtplib.SMTPException) -> int | None:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        return exc.recipients[0].code
    return exc.code if isinstance(exc, aiosmtplib.SMTPResponseException) else None


def _reason(exc: aiosmtplib.SMTPException) -> str:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        first = exc.recipients[0]
        return f"{first.code} {first.message}"[:MAX_REASON]
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return f"{exc.code} {exc.message}"[:MAX_REASON]
    return (str(exc) or type(exc).__name__)[:MAX_REASON]
