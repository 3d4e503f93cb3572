"""Storing what a channel's webhook brought (DESIGN §1 step 1), in the request's one transaction.

The route finds the channel, lets its adapter verify and parse the request, then hands the items here:
messages go through `record_inbound()` (contact, conversation, message, events, contact queue) and
receipts through `record_status()`. No workflow code runs here: the engine picks the events up.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from convoflow.channels.base import InboundItem, InboundMessage, SenderProfile
from convoflow.channels.models import Channel
from convoflow.contacts.identities import ChannelProfile
from convoflow.conversations import messages
from convoflow.conversations.content import CONTENT_ADAPTER, MessageContent, UnsupportedContent
from convoflow.errors import Gone, NotFound

MAX_WEBHOOK_BYTES = 256 * 1024  # no provider's single update comes near; larger bodies are 413
MAX_ID = 2**63 - 1


@dataclass(frozen=True)
class IngestResult:
    received: int = 0  # messages stored now
    duplicates: int = 0  # messages stored by an earlier delivery (CRM-CHAN-02)
    receipts: int = 0  # receipts that moved a message's status forward


def webhook_channel(session: Session, *, channel_id: str, token: str) -> Channel:
    """The channel a webhook URL names: 404 for an unknown id or a wrong token, 410 once disconnected."""
    channel = None
    if channel_id.isascii() and channel_id.isdigit() and 0 < int(channel_id) <= MAX_ID:
        channel = session.get(Channel, int(channel_id))
    if channel is None or not hmac.compare_digest(channel.token.encode(), token.encode()):
        raise NotFound("Unknown channel webhook", error="unknown_channel")
    if channel.state == "disconnected":
        raise Gone("This channel is disconnected", error="channel_disconnected")
    return channel


def record(session: Session, *, channel: Channel, items: list[InboundItem]) -> IngestResult:
    """Stores every item; a message seen before on the channel changes nothing (CRM-CHAN-02)."""
    received = duplicates = receipts = 0
    for item in items:
        if isinstance(item, InboundMessage):
            inbound = messages.record_inbound(
                session,
                channel=channel,
                external_id=item.external_id,
                content=_content(item.content),
                provider_message_id=item.provider_message_id,
                profile=_profile(item.profile),
            )
            duplicates += inbound.duplicate
            received += not inbound.duplicate
        else:
            receipts += messages.record_status(
                session,
                channel=channel,
                provider_message_id=item.provider_message_id,
                status=item.status,
                reason=item.reason,
            )
    return IngestResult(received, duplicates, receipts)


def _content(raw: dict[str, Any]) -> MessageContent:
    """The message content, or `unsupported` when it breaks our content rules (CRM-MSG-02)."""
    try:
        return CONTENT_ADAPTER.validate_python(raw)
    except ValidationError:
        kind = str(raw.get("type", "unknown"))[:64]
        return UnsupportedContent(description=f"A {kind} message convoflow cannot show")


def _profile(profile: SenderProfile) -> ChannelProfile:
    # The username has no contact field yet: it is read by adapters but not stored.
    return ChannelProfile(
        first_name=profile.first_name,
        last_name=profile.last_name,
        email=profile.email,
        phone=profile.phone,
        language=profile.language,
    )
