"""Contacts (CRM-CONT): create, read, update, delete, block. Every change emits its domain event."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from convoflow.accounts.models import User, Workspace
from convoflow.accounts.principal import Principal
from convoflow.accounts.workspace_settings import WorkspaceSettings
from convoflow.contacts import fields as field_defs
from convoflow.contacts.models import Contact, ContactTag, LifecycleStage, Tag
from convoflow.contacts.visibility import visible_contacts
from convoflow.conversations import service as conversations
from convoflow.conversations.models import Conversation
from convoflow.db.session import now
from convoflow.errors import Conflict, InvalidInput, NotFound
from convoflow.events import catalogue
from convoflow.events.actor import Actor
from convoflow.events.emit import emit
from convoflow.events.models import Event
from convoflow.validators import (
    clean_name,
    country_code,
    country_from_phone,
    http_url,
    language_code,
    normalise_email,
    normalise_phone,
)
from convoflow.workflows import runs

NAME_MAX = 100
STANDARD_FIELDS = ("first_name", "last_name", "email", "phone", "language", "country_code", "profile_pic")


def _normalise_one(key: str, raw: Any, default_country: str | None) -> Any:
    if key == "first_name":
        if raw is None:
            raise ValueError("first name cannot be cleared")
        return clean_name(_text(raw), field="first name", max_length=NAME_MAX)
    if key == "last_name":
        return (
            ""
            if raw is None
            else clean_name(_text(raw), field="last name", max_length=NAME_MAX, min_length=0)
        )
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    value = _text(raw)
    match key:
        case "email":
            return normalise_email(value)
        case "phone":
            return normalise_phone(value, default_country=default_country)
        case "language":
            return language_code(value)
        case "country_code":
            return country_code(value)
        case "profile_pic":
            return http_url(value)
    raise ValueError(f"unknown field {key}")


def _text(raw: Any) -> str:
    if not isinstance(raw, str):
        raise ValueError(f"expected text, got {type(raw).__name__}")
    return raw


def normalise_standard(session: Session, *, workspace_id: int, values: dict[str, Any]) -> dict[str, Any]:
    """Validates standard field values; InvalidInput lists every bad field at once."""
    workspace = session.get(Workspace, workspace_id)
    default_country = (
        WorkspaceSettings.model_validate(workspace.settings).default_country if workspace else None
    )
    normalised, problems = {}, []
    for key, raw in values.items():
        try:
            normalised[key] = _normalise_one(key, raw, default_country)
        except ValueError as exc:
            problems.append({"field": key, "message": str(exc)})
    if problems:
        raise InvalidInput(problems[0]["message"], details=problems)
    return normalised


def _check_unique(
    session: Session, *, workspace_id: int, values: dict[str, Any], except_id: int | None
) -> None:
    """CRM-CONT-02: email and phone are each unique in the workspace."""
    for key in ("email", "phone"):
        if values.get(key) is None:
            continue
        query = select(Contact.id).where(
            Contact.workspace_id == workspace_id, getattr(Contact, key) == values[key]
        )
        if except_id is not None:
            query = query.where(Contact.id != except_id)
        owner = session.scalar(query)
        if owner is not None:
            raise Conflict(
                f"Another contact already has this {key}",
                error=f"{key}_taken",
                details=[{"field": key, "message": f"used by contact {owner}", "contact_id": owner}],
            )


def find_contact(session: Session, *, workspace_id: int, contact_id: int) -> Contact | None:
    return session.scalar(
        select(Contact).where(Contact.id == contact_id, Contact.workspace_id == workspace_id)
    )


def get_contact(
    session: Session, principal: Principal, contact_id: int, *, for_update: bool = False
) -> Contact:
    """The contact if the caller may see it; 404 otherwise, so other workspaces' ids reveal nothing."""
    query = select(Contact).where(Contact.id == contact_id, visible_contacts(principal))
    if for_update:
        query = query.with_for_update()
    contact = session.scalar(query)
    if contact is None:
        raise NotFound("Contact not found")
    return contact


def find_by_email(session: Session, *, workspace_id: int, email: str) -> Contact | None:
    return session.scalar(select(Contact).where(Contact.workspace_id == workspace_id, Contact.email == email))


def find_by_phone(session: Session, *, workspace_id: int, phone: str) -> Contact | None:
    return session.scalar(select(Contact).where(Contact.workspace_id == workspace_id, Contact.phone == phone))


def create_contact(
    session: Session,
    *,
    workspace_id: int,
    actor: Actor,
    values: dict[str, Any],
    custom_fields: dict[str, Any] | None = None,
) -> Contact:
    """Creates a contact from standard values (first_name required) and custom values by slug."""
    standard = normalise_standard(session, workspace_id=workspace_id, values={"first_name": None, **values})
    custom = field_defs.coerce_values(
        field_defs.fields_by_slug(session, workspace_id=workspace_id), custom_fields or {}
    )
    _check_unique(session, workspace_id=workspace_id, values=standard, except_id=None)
    if standard.get("country_code") is None and standard.get("phone"):
        standard["country_code"] = country_from_phone(standard["phone"])
    at = now(session)
    contact = Contact(
        workspace_id=workspace_id,
        attributes={slug: value for slug, value in custom.items() if value is not None},
        blocked=False,
        created_at=at,
        updated_at=at,
        **standard,
    )
    session.add(contact)
    session.flush()
    emit(
        session,
        workspace_id=workspace_id,
        contact_id=contact.id,
        type=catalogue.CONTACT_CREATED,
        actor=actor,
        payload={"contact": snapshot(session, contact)},
    )
    return contact


def update_contact(
    session: Session,
    *,
    contact: Contact,
    actor: Actor,
    values: dict[str, Any],
    custom_fields: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Changes only the keys given (None clears); one contact.updated lists old and new values."""
    standard = normalise_standard(session, workspace_id=contact.workspace_id, values=values)
    custom = field_defs.coerce_values(
        field_defs.fields_by_slug(session, workspace_id=contact.workspace_id), custom_fields or {}
    )
    _check_unique(session, workspace_id=contact.workspace_id, values=standard, except_id=contact.id)
    if "phone" in standard or "country_code" in standard:
        # CRM-FIELD-01: an empty country is derived from the phone, as on create.
        phone = standard.get("phone", contact.phone)
        if phone and standard.get("country_code", contact.country_code) is None:
            standard["country_code"] = country_from_phone(phone)
    changes: list[dict[str, Any]] = []
    for key, new in standard.items():
        old = getattr(contact, key)
        if old != new:
            changes.append({"field": key, "custom": False, "old": old, "new": new})
            setattr(contact, key, new)
    attributes = dict(contact.attributes)
    for slug, new in custom.items():
        old = attributes.get(slug)
        if old != new or type(old) is not type(new):
            changes.append({"field": slug, "custom": True, "old": old, "new": new})
            if new is None:
                attributes.pop(slug, None)
            else:
                attributes[slug] = new
    if changes:
        contact.attributes = attributes
        contact.updated_at = now(session)
        session.flush()
        emit(
            session,
            workspace_id=contact.workspace_id,
            contact_id=contact.id,
            type=catalogue.CONTACT_UPDATED,
            actor=actor,
            payload={"contact_id": contact.id, "changes": changes},
        )
    return changes


def set_blocked(session: Session, *, contact: Contact, blocked: bool, actor: Actor) -> bool:
    """CRM-CONT-07. Blocking also closes the open conversation (source system)."""
    if contact.blocked == blocked:
        return False
    contact.blocked = blocked
    contact.updated_at = now(session)
    session.flush()
    emit(
        session,
        workspace_id=contact.workspace_id,
        contact_id=contact.id,
        type=catalogue.CONTACT_UPDATED,
        actor=actor,
        payload={
            "contact_id": contact.id,
            "changes": [{"field": "blocked", "custom": False, "old": not blocked, "new": blocked}],
        },
    )
    if blocked:
        runs.end_active_runs(session, reason="stopped_for_contact", contact_id=contact.id)  # WF-RUN-16
        conversations.close_conversation(
            session,
            contact=contact,
            actor=Actor.system(),
            category_id=None,
            summary=None,
            enforce_notes=False,
        )
    return True


def delete_contact(session: Session, principal: Principal, *, contact: Contact) -> None:
    """CRM-CONT-06: permanent, with messages, comments, conversations and the contact's past events."""
    principal.require_manager("restrict_contact_deletion")
    remove_contact(session, contact=contact, actor=principal.actor)


def remove_contact(
    session: Session,
    *,
    contact: Contact,
    actor: Actor,
    merged_into: int | None = None,
    keep_events: bool = False,
) -> None:
    """Deletes the contact row (children cascade) and leaves one contact.deleted event.

    The contact's earlier events go too (they hold its personal data) unless a merge moved them.
    """
    info = {"id": contact.id, "first_name": contact.first_name, "last_name": contact.last_name}
    workspace_id, contact_id = contact.workspace_id, contact.id
    # WF-RUN-16: its runs end as `contact_deleted` (counted, unsent messages dropped), then their rows
    # go with the contact's other personal data
    runs.end_active_runs(session, reason="contact_deleted", contact_id=contact_id)
    if not keep_events:
        session.execute(
            delete(Event).where(Event.workspace_id == workspace_id, Event.contact_id == contact_id)
        )
    session.delete(contact)
    session.flush()
    payload: dict[str, Any] = {"contact": info}
    if merged_into is not None:
        payload["merged_into"] = merged_into
    emit(
        session,
        workspace_id=workspace_id,
        contact_id=contact_id,
        type=catalogue.CONTACT_DELETED,
        actor=actor,
        payload=payload,
    )


def snapshot(session: Session, contact: Contact) -> dict[str, Any]:
    """The contact as events and the API show it."""
    return snapshots(session, [contact])[0]


def snapshots(session: Session, contacts: Sequence[Contact]) -> list[dict[str, Any]]:
    """Snapshots of many contacts with a fixed number of queries (lists, pages)."""
    ids = [contact.id for contact in contacts]
    stage_ids = {c.lifecycle_stage_id for c in contacts if c.lifecycle_stage_id is not None}
    stages = (
        {
            stage.id: {"id": stage.id, "name": stage.name}
            for stage in session.scalars(select(LifecycleStage).where(LifecycleStage.id.in_(stage_ids)))
        }
        if stage_ids
        else {}
    )
    assignee_ids = {c.assignee_user_id for c in contacts if c.assignee_user_id is not None}
    assignees = (
        {
            user.id: {
                "id": user.id,
                "first_name": user.first_name,
                "last_name": user.last_name,
                "email": user.email,
            }
            for user in session.scalars(select(User).where(User.id.in_(assignee_ids)))
        }
        if assignee_ids
        else {}
    )
    tags: dict[int, list[str]] = {contact_id: [] for contact_id in ids}
    for contact_id, name in session.execute(
        select(ContactTag.contact_id, Tag.name)
        .join(Tag, Tag.id == ContactTag.tag_id)
        .where(ContactTag.contact_id.in_(ids))
        .order_by(Tag.name_norm)
    ):
        tags[contact_id].append(name)
    open_ids = set(
        session.scalars(
            select(Conversation.contact_id).where(
                Conversation.contact_id.in_(ids), Conversation.status == "open"
            )
        )
    )
    return [
        {
            "id": contact.id,
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "email": contact.email,
            "phone": contact.phone,
            "language": contact.language,
            "country_code": contact.country_code,
            "profile_pic": contact.profile_pic,
            "lifecycle": stages.get(contact.lifecycle_stage_id) if contact.lifecycle_stage_id else None,
            "tags": tags[contact.id],
            "assignee": assignees.get(contact.assignee_user_id) if contact.assignee_user_id else None,
            "status": "open" if contact.id in open_ids else "closed",
            "custom_fields": dict(contact.attributes),
            "blocked": contact.blocked,
            "last_channel_id": contact.last_channel_id,
            "created_at": contact.created_at.isoformat(),
        }
        for contact in contacts
    ]
