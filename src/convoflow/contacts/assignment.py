"""The contact's assignee (CRM-CONV-05): one user or none, kept across conversations."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from convoflow.accounts.models import Membership, User
from convoflow.accounts.principal import Principal
from convoflow.contacts.models import Contact
from convoflow.db.session import now
from convoflow.errors import InvalidInput, PermissionDenied
from convoflow.events import catalogue
from convoflow.events.actor import Actor
from convoflow.events.emit import emit


def user_summary(session: Session, user_id: int | None) -> dict[str, object] | None:
    user = None if user_id is None else session.get(User, user_id)
    if user is None:
        return None
    return {"id": user.id, "first_name": user.first_name, "last_name": user.last_name, "email": user.email}


def is_active_member(session: Session, *, workspace_id: int, user_id: int) -> bool:
    return (
        session.scalar(
            select(Membership.user_id).where(
                Membership.workspace_id == workspace_id,
                Membership.user_id == user_id,
                Membership.deactivated_at.is_(None),
            )
        )
        is not None
    )


def apply_assignee(session: Session, *, contact: Contact, user_id: int | None, actor: Actor) -> bool:
    """Sets the assignee without permission checks; emits contact.assignee.updated when it changed."""
    if contact.assignee_user_id == user_id:
        return False
    if user_id is not None and not is_active_member(
        session, workspace_id=contact.workspace_id, user_id=user_id
    ):
        raise InvalidInput("The assignee must be an active user of this workspace", error="invalid_assignee")
    previous = contact.assignee_user_id
    at = now(session)
    contact.assignee_user_id = user_id
    contact.assigned_at = at if user_id is not None else None
    contact.updated_at = at
    emit(
        session,
        workspace_id=contact.workspace_id,
        contact_id=contact.id,
        type=catalogue.CONTACT_ASSIGNEE_UPDATED,
        actor=actor,
        payload={
            "contact_id": contact.id,
            "previous": user_summary(session, previous),
            "assignee": user_summary(session, user_id),
        },
    )
    return True


def assign(session: Session, principal: Principal, *, contact: Contact, user_id: int | None) -> bool:
    """Owners and Managers assign anyone; Agents may take a contact or give back their own."""
    if principal.role == "agent":
        me = principal.require_user()
        taking = user_id == me
        releasing = user_id is None and contact.assignee_user_id == me
        if not (taking or releasing or contact.assignee_user_id == user_id):
            raise PermissionDenied("Agents can only assign contacts to themselves", error="role_required")
    return apply_assignee(session, contact=contact, user_id=user_id, actor=principal.actor)


def unassign_all_of_user(session: Session, *, workspace_id: int, user_id: int, actor: Actor) -> int:
    """Leaves every contact of a deactivated or removed user unassigned (CRM-USER-03)."""
    contacts = session.scalars(
        select(Contact)
        .where(Contact.workspace_id == workspace_id, Contact.assignee_user_id == user_id)
        .order_by(Contact.id)
        .with_for_update()
    ).all()
    for contact in contacts:
        apply_assignee(session, contact=contact, user_id=None, actor=actor)
    return len(contacts)
