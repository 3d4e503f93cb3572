"""Conversations (CRM-CONV): at most one open per contact; opening and closing emit events."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from convoflow.accounts.models import Membership, Workspace
from convoflow.accounts.workspace_settings import WorkspaceSettings
from convoflow.contacts.models import Contact
from convoflow.conversations.closing import get_category
from convoflow.conversations.models import Conversation
from convoflow.db.session import now
from convoflow.errors import Conflict, field_error
from convoflow.events import catalogue
from convoflow.events.actor import Actor
from convoflow.events.emit import emit

SUMMARY_MAX = 512


def find_open(session: Session, *, contact_id: int) -> Conversation | None:
    return session.scalar(
        select(Conversation).where(Conversation.contact_id == contact_id, Conversation.status == "open")
    )


def list_for_contact(session: Session, *, contact_id: int, limit: int = 100) -> Sequence[Conversation]:
    """The contact's conversations, newest first."""
    return session.scalars(
        select(Conversation)
        .where(Conversation.contact_id == contact_id)
        .order_by(Conversation.id.desc())
        .limit(limit)
    ).all()


def open_conversation(
    session: Session, *, contact: Contact, actor: Actor, channel_id: int | None = None
) -> tuple[Conversation, bool]:
    """The open conversation, opened now if there was none (CRM-CONV-02); blocked contacts refuse."""
    existing = find_open(session, contact_id=contact.id)
    if existing is not None:
        return existing, False
    if contact.blocked:
        raise Conflict("This contact is blocked", error="contact_blocked")
    at = now(session)
    conversation = Conversation(
        workspace_id=contact.workspace_id,
        contact_id=contact.id,
        status="open",
        channel_id=channel_id,
        opened_at=at,
        opened_source=actor.source,
        opened_by=actor.user_id,
        last_message_at=at,
    )
    session.add(conversation)
    session.flush()
    emit(
        session,
        workspace_id=contact.workspace_id,
        contact_id=contact.id,
        type=catalogue.CONVERSATION_OPENED,
        actor=actor,
        payload={
            "contact_id": contact.id,
            "conversation_id": conversation.id,
            "source": actor.source,
            "channel_id": channel_id,
        },
    )
    return conversation, True


def check_closing_notes(
    session: Session, *, workspace_id: int, category_id: int | None, summary: str | None
) -> None:
    """CRM-CONV-04: what the workspace's closing-notes setting requires of user and API closes."""
    workspace = session.get(Workspace, workspace_id)
    rule = WorkspaceSettings.model_validate(workspace.settings if workspace else {}).closing_notes
    if rule in ("category_required", "category_and_summary_required") and category_id is None:
        raise field_error(
            "category_id", "This workspace requires a closing category", error="closing_notes_required"
        )
    if rule == "category_and_summary_required" and not (summary or "").strip():
        raise field_error(
            "summary", "This workspace requires a closing summary", error="closing_notes_required"
        )


def close_conversation(
    session: Session,
    *,
    contact: Contact,
    actor: Actor,
    category_id: int | None,
    summary: str | None,
    enforce_notes: bool = True,
) -> Conversation | None:
    """Closes the open conversation, if any (no-op otherwise). Never ends workflow runs (CRM-CONV-07)."""
    if summary is not None and len(summary) > SUMMARY_MAX:
        raise field_error("summary", f"summary must be at most {SUMMARY_MAX} characters")
    category = (
        None
        if category_id is None
        else get_category(session, workspace_id=contact.workspace_id, category_id=category_id)
    )
    if enforce_notes:
        check_closing_notes(
            session, workspace_id=contact.workspace_id, category_id=category_id, summary=summary
        )
    conversation = find_open(session, contact_id=contact.id)
    if conversation is None:
        return None
    assignee_team = None
    if contact.assignee_user_id is not None:
        assignee_team = session.scalar(
            select(Membership.team_id).where(
                Membership.workspace_id == contact.workspace_id,
                Membership.user_id == contact.assignee_user_id,
            )
        )
    conversation.status = "closed"
    conversation.closed_at = now(session)
    conversation.closed_source = actor.source
    conversation.closed_by = actor.user_id
    conversation.closing_category_id = category_id
    conversation.summary = summary.strip() if summary and summary.strip() else None
    conversation.assignee_at_close = contact.assignee_user_id
    conversation.team_at_close = assignee_team
    session.flush()
    emit(
        session,
        workspace_id=contact.workspace_id,
        contact_id=contact.id,
        type=catalogue.CONVERSATION_CLOSED,
        actor=actor,
        payload={
            "contact_id": contact.id,
            "conversation_id": conversation.id,
            "source": actor.source,
            "channel_id": conversation.channel_id,
            "category": None if category is None else {"id": category.id, "name": category.name},
            "summary": conversation.summary,
        },
    )
    return conversation
