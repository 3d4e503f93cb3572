"""The channel adapter protocol: adapters know the wire format, never the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol


@dataclass(frozen=True)
class OutboundMessage:
    channel_id: int
    external_id: str | None  # the contact's identity on the channel, when it has one
    contact: dict[str, Any]  # name, phone, email: what phone- and email-addressed channels need
    content: dict[str, Any]  # conversations.content shape: {"type": "text", "text": ...}


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str | None
    data: dict[str, Any] = field(default_factory=dict)


class SendFailed(Exception):
    """The provider refused the message for good (bad number, window closed): no retry."""


class TransientSendFailure(Exception):
    """Try again later (timeout, 5xx, 429); `retry_after` seconds when the provider said so."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ChannelAdapter(Protocol):
    kind: ClassVar[str]

    async def send(
        self, message: OutboundMessage, *, config: dict[str, Any], idempotency_key: str
    ) -> SendResult:
        """Hands the message to the provider; raises SendFailed or TransientSendFailure."""
        ...
