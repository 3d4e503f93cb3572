"""The channel adapter protocol: adapters know the wire format, never the database.

A webhook request reaches an adapter as a `RawRequest`; `verify()` authenticates it and `parse()` turns
it into `InboundItem`s (messages and delivery receipts) that `channels.ingest` stores. Outgoing messages
leave through `send()`, called by the outbox relay with no transaction open. `connect()` and
`disconnect()` tell the provider where our webhook is when a channel is connected or disconnected.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict


@dataclass(frozen=True)
class RawRequest:
    """An inbound webhook request as received: the exact body bytes and lower-cased header names."""

    method: str
    headers: Mapping[str, str]
    body: bytes
    query: Mapping[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> Any:
        """The body as JSON; MalformedPayload when it is not."""
        try:
            return json.loads(self.body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise MalformedPayload("The request body is not valid JSON") from None


WEBHOOK_SECRET = "webhook_secret"  # the key of the generated webhook secret in ChannelConfig.secrets


@dataclass(frozen=True)
class ChannelConfig:
    """What an adapter needs to talk to one channel: its settings and its decrypted credentials.

    `secrets` always holds `webhook_secret`, a random value generated when the channel is connected,
    for providers that echo a shared secret on every webhook (Telegram's secret token).
    """

    channel_id: int
    settings: Mapping[str, Any] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Capabilities:
    """What a channel can carry (CRM-CHAN-05): senders see other content refused (CRM-MSG-05)."""

    text: bool = True
    media: bool = False
    quick_replies: bool = False
    location: bool = False
    templates: bool = False
    window_hours: int | None = None  # a customer-service window (WhatsApp's 24 hours), if any
    threads: bool = False  # replies name the message they answer (email's In-Reply-To): see ReplyTarget
    max_text_length: int | None = None


@dataclass(frozen=True)
class SenderProfile:
    """What the provider tells about the sender; every part optional."""

    first_name: str | None = None
    last_name: str | None = None
    username: str | None = None
    language: str | None = None  # an ISO 639-1 code
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class InboundMessage:
    """A message from a contact: `content` has the shape of `conversations.content`."""

    external_id: str  # the contact's identity on the channel (CRM-CHAN table)
    provider_message_id: str  # unique on the channel: a redelivery is stored once (CRM-CHAN-02)
    content: dict[str, Any]
    profile: SenderProfile = field(default_factory=SenderProfile)


ReceiptStatus = Literal["sent", "delivered", "read", "failed"]


@dataclass(frozen=True)
class StatusReceipt:
    """The provider's news about one of our outgoing messages (CRM-MSG-03)."""

    provider_message_id: str
    status: ReceiptStatus
    reason: str | None = None


InboundItem = InboundMessage | StatusReceipt


@dataclass(frozen=True)
class ReplyTarget:
    """The message an outgoing one answers, for threading channels (`Capabilities.threads`)."""

    provider_message_id: str  # its id at the provider (an email's Message-ID)
    content: dict[str, Any]  # its stored content (an email's subject)


@dataclass(frozen=True)
class OutboundMessage:
    channel_id: int
    external_id: str | None  # the contact's identity on the channel, when it has one
    contact: dict[str, Any]  # name, phone, email: what phone- and email-addressed channels need
    content: dict[str, Any]  # conversations.content shape: {"type": "text", "text": ...}
    # Set for channels with a customer-service window (`Capabilities.window_hours`): how long ago, by the
    # relay's clock, the contact last wrote on this channel; None when it never did.
    since_last_inbound: timedelta | None = None
    # Set for threading channels (`Capabilities.threads`): the contact's latest incoming message on this
    # channel, else our latest sent one, so a workflow's emails to one contact stay in one thread.
    reply_to: ReplyTarget | None = None


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str | None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class HookReply:
    """A webhook answer in the provider's own format (TwiML, a verification challenge), not our JSON."""

    body: str
    media_type: str = "text/plain"


class InvalidSignature(Exception):
    """The webhook request is not from the provider: missing or wrong signature or secret."""


class MalformedPayload(Exception):
    """The webhook body is not what the provider sends (not JSON, not the documented shape)."""


class ConnectFailed(Exception):
    """The provider refused the credentials or the webhook registration; the reason is its own words."""


class SendFailed(Exception):
    """The provider refused the message for good (bad number, window closed): no retry."""


class TransientSendFailure(Exception):
    """Try again later (timeout, 5xx, 429); `retry_after` seconds when the provider said so."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class NoCredentials(BaseModel):
    """The credentials of a channel kind that needs none."""

    model_config = ConfigDict(extra="forbid")


class ChannelAdapter(Protocol):
    kind: ClassVar[str]  # the API `source`: webchat, telegram, whatsapp_cloud, ...
    capabilities: ClassVar[Capabilities]
    credentials_model: ClassVar[type[BaseModel]]  # validates what a user enters to connect the channel

    def verify(self, request: RawRequest, config: ChannelConfig) -> None:
        """Authenticates a webhook request before it is parsed; raises InvalidSignature."""
        ...

    def parse(self, request: RawRequest, config: ChannelConfig) -> list[InboundItem]:
        """The messages and receipts in a verified request; [] for updates we ignore.

        Raises MalformedPayload when the body is not the provider's documented shape.
        """
        ...

    async def send(
        self, message: OutboundMessage, *, config: ChannelConfig, idempotency_key: str
    ) -> SendResult:
        """Hands the message to the provider; raises SendFailed or TransientSendFailure."""
        ...

    async def connect(self, config: ChannelConfig, *, webhook_url: str) -> dict[str, Any]:
        """Checks the credentials and points the provider at `webhook_url`; raises ConnectFailed.

        Returns settings worth keeping on the channel (the bot's name, say).
        """
        ...

    async def disconnect(self, config: ChannelConfig) -> None:
        """Asks the provider to stop calling our webhook; best effort, never raises."""
        ...


@runtime_checkable
class AnswersChallenge(Protocol):
    """An adapter whose provider checks the webhook URL with a GET before using it (Meta's hub.challenge)."""

    def challenge(self, request: RawRequest, config: ChannelConfig) -> HookReply:
        """The answer the provider expects; raises InvalidSignature when the request is not its check."""
        ...


@runtime_checkable
class Acknowledges(Protocol):
    """An adapter whose provider expects a reply body of its own to every accepted webhook (Twilio)."""

    def acknowledge(self, request: RawRequest) -> HookReply:
        """The body answered with 200 once the request's items are stored."""
        ...
