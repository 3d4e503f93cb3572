"""Merging two contacts (CRM-CONT-05): the first survives and takes over the other's history."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from convoflow.accounts.principal import Principal
from convoflow.contacts import assignment, lifecycle
from convoflow.contacts import service as contacts
from convoflow.contacts.models import Contact, ContactIdentity
from convoflow.contacts.tags import change_contact_tags, contact_tag_names
from convoflow.conversations import service as conversations
from convoflow.conversations.models import Comment, Conversation, Message
from convoflow.errors import field_error
from convoflow.events.actor import Actor
from convoflow.events.models import Event


def _empty(value: Any) -> bool:
    return value is None or value == ""


def merge_contacts(
    session: Session,
    principal: Principal,
    *,
    survivor_id: int,
    other_id: int,
    values: dict[str, Any] | None = None,
    custom_fields: dict[str, Any] | None = None,
) -> Contact:
    """Explicit values win, then the survivor's non-empty values, then the other's.

    Tags, identities, messages, comments, conversations and activity move to the survivor; if both
    have an open conversation the other's is closed first. The other contact is then deleted
    (contact.deleted with `merged_into`).
    """
    principal.require_manager("restrict_contact_deletion")
    if survivor_id == other_id:
        raise field_error("contact_ids", "Choose two different contacts")
    survivor = contacts.get_contact(session, principal, survivor_id, for_update=True)
    other = contacts.get_contact(session, principal, other_id, for_update=True)
    actor = principal.actor

    inherited = {
        key: getattr(other, key)
        for key in contacts.STANDARD_FIELDS
        if _empty(getattr(survivor, key)) and not _empty(getattr(other, key))
    }
    inherited_custom = {slug: v for slug, v in other.attributes.items() if slug not in survivor.attributes}
    other_tags = contact_tag_names(session, other.id)
    stage_id = survivor.lifecycle_stage_id or other.lifecycle_stage_id
    assignee_id = survivor.assignee_user_id or other.assignee_user_id

    if conversations.find_open(session, contact_id=survivor.id) is not None:
        conversations.close_conversation(
            session, contact=other, actor=Actor.system(), category_id=None, summary=None, enforce_notes=False
        )
    survivor_channels = select(ContactIdentity.channel_id).where(ContactIdentity.contact_id == survivor.id)
    session.execute(
        delete(ContactIdentity).where(
            ContactIdentity.contact_id == other.id, ContactIdentity.channel_id.in_(survivor_channels)
        )
    )
    for model in (ContactIdentity, Message, Comment, Conversation, Event):
        session.execute(
            update(model)
            .where(model.contact_id == other.id)
            .values(contact_id=survivor.id)
            .execution_options(synchronize_session=False)
        )
    if other.last_in_at is not None and (
        survivor.last_in_at is None or other.last_in_at > survivor.last_in_at
    ):
        survivor.last_in_at, survivor.last_channel_id = other.last_in_at, other.last_channel_id
    contacts.remove_contact(session, contact=other, actor=actor, merged_into=survivor.id, keep_events=True)

    contacts.update_contact(
        session,
        contact=survivor,
        actor=actor,
        values={**inherited, **(values or {})},
        custom_fields={**inherited_custom, **(custom_fields or {})},
    )
    change_contact_tags(session, contact=survivor, add=other_tags, remove=[], actor=actor)
    if stage_id != survivor.lifecycle_stage_id and lifecycle.lifecycle_enabled(
        session, survivor.workspace_id
    ):
        lifecycle.set_contact_stage(session, contact=survivor, stage_id=stage_id, actor=actor)
    if assignee_id != survivor.assignee_user_id:
        assignment.apply_assignee(session, contact=survivor, user_id=assignee_id, actor=actor)
    session.flush()
    return survivor
