"""Finding the contact behind a channel identity, creating it on first contact (CRM-CONT-02/03)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from convoflow.channels.kinds import IDENTITY_KINDS
from convoflow.channels.models import Channel
from convoflow.contacts import lifecycle
from convoflow.contacts import service as contacts
from convoflow.contacts.models import Contact, ContactIdentity
from convoflow.db.session import now
from convoflow.errors import Conflict, InvalidInput
from convoflow.events.actor import Actor
from convoflow.validators import normalise_email, normalise_phone

UNKNOWN_NAME = "Unknown"


@dataclass(frozen=True, slots=True)
class ChannelProfile:
    """What the channel tells about the sender; every part optional."""

    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    language: str | None = None
    profile_pic: str | None = None


def find_identity_contact(session: Session, *, channel_id: int, external_id: str) -> Contact | None:
    return session.scalar(
        select(Contact)
        .join(ContactIdentity, ContactIdentity.contact_id == Contact.id)
        .where(ContactIdentity.channel_id == channel_id, ContactIdentity.external_id == external_id)
    )


def _identity_address(channel: Channel, external_id: str) -> tuple[str, str] | None:
    """("phone"|"email", normalised value) when the identity itself is a phone number or address."""
    kind = IDENTITY_KINDS.get(channel.kind, "opaque")
    try:
        if kind == "phone":
            return "phone", normalise_phone(external_id if external_id.startswith("+") else "+" + external_id)
        if kind == "email":
            return "email", normalise_email(external_id)
    except ValueError:
        return None
    return None


def _profile_values(session: Session, workspace_id: int, profile: ChannelProfile) -> dict[str, Any]:
    """Profile values that are valid and not taken by another contact; the rest are dropped."""
    values: dict[str, Any] = {}
    for key in ("first_name", "last_name", "email", "phone", "language", "profile_pic"):
        raw = getattr(profile, key)
        if raw is None:
            continue
        try:
            values.update(contacts.normalise_standard(session, workspace_id=workspace_id, values={key: raw}))
        except InvalidInput:
            continue  # an odd profile value from the channel must not lose the message
    if values.get("email") and contacts.find_by_email(
        session, workspace_id=workspace_id, email=values["email"]
    ):
        values.pop("email")
    if values.get("phone") and contacts.find_by_phone(
        session, workspace_id=workspace_id, phone=values["phone"]
    ):
        values.pop("phone")
    if not values.get("first_name"):
        values["first_name"] = UNKNOWN_NAME
    return values


def resolve_sender(
    session: Session, *, channel: Channel, external_id: str, profile: ChannelProfile
) -> tuple[Contact, bool]:
    """The contact for an inbound identity, and whether it was created now.

    An unknown identity that is a phone number or email already held by a contact joins that contact;
    otherwise a new contact is created with the channel's profile and the default lifecycle stage.
    """
    contact = find_identity_contact(session, channel_id=channel.id, external_id=external_id)
    if contact is not None:
        return contact, False
    created = False
    address = _identity_address(channel, external_id)
    holder = None  # the contact already holding the identity's phone or email
    if address is not None:
        kind, value = address
        holder = (
            contacts.find_by_phone(session, workspace_id=channel.workspace_id, phone=value)
            if kind == "phone"
            else contacts.find_by_email(session, workspace_id=channel.workspace_id, email=value)
        )
        if holder is not None and not _has_identity_on(session, holder.id, channel.id):
            contact = holder
    if contact is None:
        values = _profile_values(session, channel.workspace_id, profile)
        if address is not None and holder is None:
            # A phone or email another contact holds is dropped like a taken profile value (the
            # holder already has an identity on this channel), so the message is never lost.
            values.setdefault(address[0], address[1])
        contact = contacts.create_contact(
            session, workspace_id=channel.workspace_id, actor=Actor("contact"), values=values
        )
        created = True
        stage = lifecycle.default_stage(session, workspace_id=channel.workspace_id)
        if stage is not None and lifecycle.lifecycle_enabled(session, channel.workspace_id):
            lifecycle.set_contact_stage(
                session, contact=contact, stage_id=stage.id, actor=Actor.contact(contact.id)
            )
    session.add(
        ContactIdentity(
            contact_id=contact.id, channel_id=channel.id, external_id=external_id, created_at=now(session)
        )
    )
    session.flush()
    return contact, created


def link_identity(
    session: Session, *, contact: Contact, channel: Channel, external_id: str
) -> ContactIdentity:
    """Records that `external_id` on `channel` is this contact (one identity per channel, CRM-CONT-02)."""
    if _has_identity_on(session, contact.id, channel.id):
        raise Conflict("The contact already has an identity on this channel", error="identity_exists")
    if find_identity_contact(session, channel_id=channel.id, external_id=external_id) is not None:
        raise Conflict("This identity belongs to another contact", error="identity_taken")
    identity = ContactIdentity(
        contact_id=contact.id, channel_id=channel.id, external_id=external_id, created_at=now(session)
    )
    session.add(identity)
    session.flush()
    return identity


def _has_identity_on(session: Session, contact_id: int, channel_id: int) -> bool:
    return (
        session.scalar(
            select(ContactIdentity.id).where(
                ContactIdentity.contact_id == contact_id, ContactIdentity.channel_id == channel_id
            )
        )
        is not None
    )


def find_identity_external_id(session: Session, *, contact_id: int, channel_id: int) -> str | None:
    """The contact's id on the channel, when it has one stored."""
    return session.scalar(
        select(ContactIdentity.external_id).where(
            ContactIdentity.contact_id == contact_id, ContactIdentity.channel_id == channel_id
        )
    )
