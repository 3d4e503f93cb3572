"""Inbox views (CRM-CONV-06): All, Mine, Unassigned, a team, Closed, within the caller's visibility."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from convoflow.accounts.models import Membership
from convoflow.accounts.principal import Principal
from convoflow.contacts.models import Contact
from convoflow.contacts.visibility import visible_contacts
from convoflow.conversations.models import Conversation, Message
from convoflow.errors import field_error
from convoflow.teams.service import get_team

View = Literal["all", "mine", "unassigned", "team", "closed"]


@dataclass(frozen=True, slots=True)
class InboxRow:
    conversation: Conversation
    contact: Contact
    last_message: Message | None


@dataclass(frozen=True, slots=True)
class InboxCursor:
    at: datetime
    conversation_id: int


def list_inbox(
    session: Session,
    principal: Principal,
    *,
    view: View,
    team_id: int | None = None,
    after: InboxCursor | None = None,
    limit: int = 25,
) -> Sequence[InboxRow]:
    """Open conversations by latest activity; `closed` lists contacts whose latest conversation is closed."""
    query = (
        select(Conversation, Contact)
        .join(Contact, Contact.id == Conversation.contact_id)
        .where(Conversation.workspace_id == principal.workspace_id, visible_contacts(principal))
    )
    if view == "closed":
        latest = (
            select(func.max(Conversation.id))
            .where(Conversation.contact_id == Contact.id)
            .correlate(Contact)
            .scalar_subquery()
        )
        query = query.where(Conversation.status == "closed", Conversation.id == latest)
    else:
        query = query.where(Conversation.status == "open")
    if view == "mine":
        query = query.where(Contact.assignee_user_id == principal.require_user())
    elif view == "unassigned":
        query = query.where(Contact.assignee_user_id.is_(None))
    elif view == "team":
        if team_id is None:
            raise field_error("team_id", "The team view needs a team_id")
        get_team(session, workspace_id=principal.workspace_id, team_id=team_id)
        members = select(Membership.user_id).where(
            Membership.workspace_id == principal.workspace_id, Membership.team_id == team_id
        )
        query = query.where(Contact.assignee_user_id.in_(members))
    if after is not None:
        query = query.where(
            or_(
                Conversation.last_message_at < after.at,
                and_(Conversation.last_message_at == after.at, Conversation.id < after.conversation_id),
            )
        )
    rows = session.execute(
        query.order_by(Conversation.last_message_at.desc(), Conversation.id.desc()).limit(limit)
    ).all()
    last_ids = session.execute(
        select(Message.contact_id, func.max(Message.id))
        .where(Message.contact_id.in_([contact.id for _, contact in rows]))
        .group_by(Message.contact_id)
    ).all()
    messages = {
        message.contact_id: message
        for message in session.scalars(select(Message).where(Message.id.in_([mid for _, mid in last_ids])))
    }
    return [InboxRow(conversation, contact, messages.get(contact.id)) for conversation, contact in rows]
