"""Web Chat reads for the widget: its channel by public key, and a visitor's messages since a cursor.

The cursor is a message id below which the visitor has seen everything it will ever be shown. Our
outgoing messages become visible when the relay marks them sent, which can happen after later rows
were written (the visitor's own next message, say), so the cursor stops before the oldest message still
pending. The widget drops messages it already shows by id, so reading one twice is harmless. A message
pending for longer than `STALE_PENDING` (no engine running) no longer holds the cursor back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from convoflow.channels.models import Channel
from convoflow.contacts.identities import find_identity_contact
from convoflow.conversations.models import Message
from convoflow.db.session import now
from convoflow.errors import Gone, NotFound

PAGE = 100
STALE_PENDING = timedelta(minutes=10)
VISIBLE_STATUSES = ("sent", "delivered", "read")


@dataclass(frozen=True)
class VisitorPage:
    contact_id: int | None  # None until the visitor's first message
    messages: list[dict[str, Any]]
    cursor: int
    more: bool  # another page follows at once


def widget_channel(session: Session, *, key: str) -> Channel:
    """The web chat channel a widget names by its public key: 404 unknown, 410 disconnected."""
    channel = None
    if 0 < len(key) <= 64:
        channel = session.scalar(select(Channel).where(Channel.token == key, Channel.kind == "webchat"))
    if channel is None:
        raise NotFound("Unknown web chat", error="unknown_channel")
    if channel.state == "disconnected":
        raise Gone("This chat is closed", error="channel_disconnected")
    return channel


def visitor_contact_id(session: Session, *, channel_id: int, visitor_id: str) -> int | None:
    contact = find_identity_contact(session, channel_id=channel_id, external_id=visitor_id)
    return None if contact is None else contact.id


def visitor_messages(
    session: Session, *, channel_id: int, visitor_id: str, after: int, limit: int = PAGE
) -> VisitorPage:
    """The visitor's messages on this chat after `after`: theirs, and ours once sent (oldest first)."""
    contact_id = visitor_contact_id(session, channel_id=channel_id, visitor_id=visitor_id)
    if contact_id is None:
        return VisitorPage(None, [], after, more=False)
    rows = list(
        session.scalars(
            select(Message)
            .where(Message.contact_id == contact_id, Message.channel_id == channel_id, Message.id > after)
            .order_by(Message.id)
            .limit(limit)
        )
    )
    fresh = now(session) - STALE_PENDING
    cursor = rows[-1].id if rows else after
    for row in rows:
        if row.traffic == "outgoing" and row.status == "pending" and row.created_at > fresh:
            cursor = row.id - 1
            break
    shown = [wire(row) for row in rows if row.traffic == "incoming" or row.status in VISIBLE_STATUSES]
    return VisitorPage(contact_id, shown, cursor, more=len(rows) == limit and cursor == rows[-1].id)


def wire(message: Message) -> dict[str, Any]:
    """A message as the widget shows it; `ref` is the id the widget uses for its own and acks."""
    if message.traffic == "incoming":
        author = "visitor"
    else:
        author = "workflow" if message.source == "workflow" else "agent"
    return {
        "id": message.id,
        "ref": message.provider_message_id,
        "from": author,
        "content": message.content,
        "at": message.created_at.isoformat(),
    }
