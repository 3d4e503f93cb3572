"""Which channel reaches a contact (CRM-MSG-06, CRM-CONT-02): the default channel for a send."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from convoflow.channels.kinds import IDENTITY_KINDS
from convoflow.channels.models import Channel
from convoflow.contacts.models import Contact, ContactIdentity


def can_reach(session: Session, *, channel: Channel, contact: Contact) -> bool:
    """A connected channel of the contact's workspace with a stored identity, or one derived from the
    contact's phone (phone-addressed channels) or email (email channels)."""
    if channel.state != "connected" or channel.workspace_id != contact.workspace_id:
        return False
    stored = session.scalar(
        select(ContactIdentity.id).where(
            ContactIdentity.contact_id == contact.id, ContactIdentity.channel_id == channel.id
        )
    )
    if stored is not None:
        return True
    kind = IDENTITY_KINDS.get(channel.kind, "opaque")
    return (kind == "phone" and contact.phone is not None) or (kind == "email" and contact.email is not None)


def default_channel(session: Session, *, contact: Contact) -> Channel | None:
    """The last interacted channel (that of the latest incoming message) while it is connected; else
    the only connected channel that can reach the contact; with several or none, no default."""
    if contact.last_channel_id is not None:
        last = session.get(Channel, contact.last_channel_id)
        if last is not None and last.state == "connected":
            return last
    channels = session.scalars(
        select(Channel)
        .where(Channel.workspace_id == contact.workspace_id, Channel.state == "connected")
        .order_by(Channel.id)
    )
    reachable = [channel for channel in channels if can_reach(session, channel=channel, contact=contact)]
    return reachable[0] if len(reachable) == 1 else None
