"""Messages (CRM-MSG): recording inbound ones, queueing outgoing ones, moving delivery status forward."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from convoflow.channels.models import Channel
from convoflow.contacts.identities import ChannelProfile, resolve_sender
from convoflow.contacts.models import Contact
from convoflow.conversations import service as conversations
from convoflow.conversations.content import CONTENT_ADAPTER, MessageContent
from convoflow.conversations.models import Message
from convoflow.db.session import now
from convoflow.errors import Conflict
from convoflow.events import catalogue
from convoflow.events.actor import Actor
from convoflow.events.emit import emit
from convoflow.workflows.models import Run

# CRM-MSG-03: pending -> sent -> delivered -> read; failed from pending or sent; never backwards.
_RANK = {"pending": 0, "sent": 1, "delivered": 2, "read": 3}
STATUSES = ("pending", "sent", "delivered", "read", "failed")


@dataclass(frozen=True, slots=True)
class Inbound:
    contact: Contact
    message: Message
    contact_created: bool
    conversation_opened: bool
    duplicate: bool


def message_payload(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "contact_id": message.contact_id,
        "conversation_id": message.conversation_id,
        "channel_id": message.channel_id,
        "traffic": message.traffic,
        "source": message.source,
        "type": message.type,
        "content": message.content,
        "status": message.status,
        "provider_message_id": message.provider_message_id,
        "user_id": message.user_id,
        "run_id": message.run_id,
        "created_at": message.created_at.isoformat(),
    }


def awaits_answer(session: Session, *, contact_id: int) -> bool:
    """A run waits for this contact's answer: the message is the answer and opens nothing (WF-STEP-ASK-09)."""
    return (
        session.scalar(
            select(Run.id)
            .where(Run.contact_id == contact_id, Run.status == "waiting", Run.wait_kind == "reply")
            .limit(1)
        )
        is not None
    )


def find_by_provider_id(session: Session, *, channel_id: int, provider_message_id: str) -> Message | None:
    return session.scalar(
        select(Message).where(
            Message.channel_id == channel_id, Message.provider_message_id == provider_message_id
        )
    )


def _seen_before(session: Session, channel: Channel, provider_message_id: str | None) -> Inbound | None:
    """The earlier copy of a redelivered provider message (CRM-CHAN-02), or None."""
    if provider_message_id is None:
        return None
    seen = find_by_provider_id(session, channel_id=channel.id, provider_message_id=provider_message_id)
    if seen is None:
        return None
    contact = session.get(Contact, seen.contact_id)
    assert contact is not None
    return Inbound(contact, seen, contact_created=False, conversation_opened=False, duplicate=True)


def record_inbound(
    session: Session,
    *,
    channel: Channel,
    external_id: str,
    content: MessageContent,
    provider_message_id: str | None = None,
    profile: ChannelProfile | None = None,
) -> Inbound:
    """Stores one incoming message with everything it causes, in the caller's transaction.

    Finds or creates the contact, opens a conversation unless the contact is blocked (CRM-CONT-07),
    and emits contact.created, conversation.opened and message.received in that order. A provider
    message id seen before on this channel changes nothing (CRM-CHAN-02).
    """
    duplicate = _seen_before(session, channel, provider_message_id)
    if duplicate is not None:
        return duplicate
    contact, created = resolve_sender(
        session, channel=channel, external_id=external_id, profile=profile or ChannelProfile()
    )
    if not created:
        # Every change to a contact locks its row first (docs/decisions.md): a concurrent message of the
        # same contact waits here, then sees the conversation it opened and the message it stored.
        session.refresh(contact, with_for_update=True)
        duplicate = _seen_before(session, channel, provider_message_id)
        if duplicate is not None:
            return duplicate
    actor = Actor.contact(contact.id)
    conversation, opened = None, False
    if contact.blocked:
        pass
    elif awaits_answer(session, contact_id=contact.id):
        conversation = conversations.find_open(session, contact_id=contact.id)  # never reopens (ASK-09)
    else:
        conversation, opened = conversations.open_conversation(
            session, contact=contact, actor=actor, channel_id=channel.id
        )
    at = now(session)
    message = Message(
        workspace_id=contact.workspace_id,
        contact_id=contact.id,
        conversation_id=None if conversation is None else conversation.id,
        channel_id=channel.id,
        traffic="incoming",
        source="contact",
        type=content.type,
        content=content.model_dump(mode="json", by_alias=True),
        provider_message_id=provider_message_id,
        status=None,
        status_history=[],
        created_at=at,
    )
    session.add(message)
    contact.last_channel_id = channel.id
    contact.last_in_at = at
    if conversation is not None:
        conversation.in_count += 1
        conversation.last_message_at = at
    session.flush()
    emit(
        session,
        workspace_id=contact.workspace_id,
        contact_id=contact.id,
        type=catalogue.MESSAGE_RECEIVED,
        actor=actor,
        payload={"message": message_payload(message)},
    )
    return Inbound(contact, message, contact_created=created, conversation_opened=opened, duplicate=False)


def create_outgoing(
    session: Session, *, contact: Contact, channel: Channel, content: MessageContent, actor: Actor
) -> Message:
    """An outgoing message in `pending`, part of the open conversation if there is one.

    Sending never opens a conversation. Delivery (the outbox) moves it on with update_status().
    """
    if contact.blocked:
        raise Conflict("Nothing can be sent to a blocked contact", error="contact_blocked")
    if channel.workspace_id != contact.workspace_id:
        raise Conflict("The channel belongs to another workspace", error="channel_mismatch")
    at = now(session)
    conversation = conversations.find_open(session, contact_id=contact.id)
    message = Message(
        workspace_id=contact.workspace_id,
        contact_id=contact.id,
        conversation_id=None if conversation is None else conversation.id,
        channel_id=channel.id,
        traffic="outgoing",
        source=actor.source,
        user_id=actor.user_id,
        run_id=actor.run_id,
        type=content.type,
        content=content.model_dump(mode="json", by_alias=True),
        status="pending",
        status_history=[{"status": "pending", "at": at.isoformat()}],
        created_at=at,
    )
    session.add(message)
    contact.last_out_at = at
    if conversation is not None:
        conversation.out_count += 1
        conversation.last_message_at = at
        if actor.source == "user" and conversation.first_response_at is None:
            conversation.first_response_at = at
    session.flush()
    return message


def update_status(
    session: Session,
    *,
    message: Message,
    status: str,
    reason: str | None = None,
    provider_message_id: str | None = None,
    at: datetime | None = None,
) -> bool:
    """Moves an outgoing message's status forward; stale or repeated receipts change nothing.

    Reaching `sent` emits message.sent (a receipt may skip it, as when `delivered` arrives first);
    later statuses and `failed` emit message.status.updated.
    """
    if message.traffic != "outgoing" or status not in STATUSES:
        raise ValueError(f"cannot set status {status!r} on this message")
    current = message.status or "pending"
    if status == "failed":
        if current not in ("pending", "sent"):
            return False
    elif current == "failed" or _RANK[status] <= _RANK[current]:
        return False
    at = at or now(session)
    entry: dict[str, Any] = {"status": status, "at": at.isoformat()}
    if reason:
        entry["reason"] = reason
    message.status = status
    message.status_history = [*message.status_history, entry]
    if provider_message_id and message.provider_message_id is None:
        message.provider_message_id = provider_message_id
    session.flush()
    passed_sent = status != "failed" and _RANK[current] < _RANK["sent"]
    if passed_sent:
        emit(
            session,
            workspace_id=message.workspace_id,
            contact_id=message.contact_id,
            type=catalogue.MESSAGE_SENT,
            actor=Actor(message.source, user_id=message.user_id, run_id=message.run_id),  # type: ignore[arg-type]
            payload={"message": message_payload(message)},
        )
    if status != "sent":
        emit(
            session,
            workspace_id=message.workspace_id,
            contact_id=message.contact_id,
            type=catalogue.MESSAGE_STATUS_UPDATED,
            actor=Actor.system(),
            payload={"message_id": message.id, "status": status, "reason": reason},
        )
    return True


def record_status(
    session: Session,
    *,
    channel: Channel,
    provider_message_id: str,
    status: str,
    reason: str | None = None,
) -> bool:
    """A provider's receipt for one of our messages on `channel` (DESIGN §1 step 6).

    The message row is locked first, so two receipts arriving together apply in turn and the status
    still only moves forward; a receipt for a message we do not know, or for an incoming one, is
    ignored. True when the status changed.
    """
    message = find_by_provider_id(session, channel_id=channel.id, provider_message_id=provider_message_id)
    if message is None or message.traffic != "outgoing":
        return False
    session.refresh(message, with_for_update=True)
    return update_status(session, message=message, status=status, reason=reason)


def list_messages(
    session: Session, *, contact_id: int, before_id: int | None, limit: int
) -> Sequence[Message]:
    """A contact's messages, newest first."""
    query = select(Message).where(Message.contact_id == contact_id)
    if before_id is not None:
        query = query.where(Message.id < before_id)
    return session.scalars(query.order_by(Message.id.desc()).limit(limit)).all()


def parse_content(raw: dict[str, Any]) -> MessageContent:
    return CONTENT_ADAPTER.validate_python(raw)
