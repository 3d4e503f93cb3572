"""/api/conversations (inbox views), a contact's conversation, messages and comments, closing categories."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from convoflow.api.deps import PrincipalDep, SessionDep
from convoflow.api.ids import MAX_ID, Id
from convoflow.api.pagination import Page, PageDep, id_page
from convoflow.contacts import service as contacts
from convoflow.conversations import closing, comments, inbox, messages
from convoflow.conversations import service as conversations
from convoflow.conversations.models import Conversation
from convoflow.conversations.schemas import (
    CategoryCreate,
    CategoryRead,
    CategoryUpdate,
    CloseRequest,
    CommentCreate,
    CommentRead,
    ConversationRead,
    InboxContact,
    InboxItem,
    MessageRead,
)
from convoflow.errors import MalformedRequest

router = APIRouter(tags=["conversations"])


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _inbox_cursor_of(conversation: Conversation) -> str:
    """`<last activity in microseconds since 1970>_<conversation id>`: URL-safe, so it can be pasted as is."""
    return f"{(conversation.last_message_at - _EPOCH) // _MICROSECOND}_{conversation.id}"


def _inbox_cursor(raw: str | None) -> inbox.InboxCursor | None:
    if raw is None:
        return None
    at, separator, conversation_id = raw.partition("_")
    if separator and _digits(at) and _digits(conversation_id) and int(conversation_id) <= MAX_ID:
        try:
            return inbox.InboxCursor(_EPOCH + int(at) * _MICROSECOND, int(conversation_id))
        except OverflowError:
            pass  # a time beyond the calendar
    raise MalformedRequest("cursor is not valid", error="invalid_cursor")


@router.get("/conversations", response_model=Page[InboxItem])
def list_conversations(
    principal: PrincipalDep,
    session: SessionDep,
    page: PageDep,
    view: inbox.View = "all",
    team_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Page[InboxItem]:
    """Inbox views, most recent activity first (CRM-CONV-06)."""
    rows = inbox.list_inbox(
        session, principal, view=view, team_id=team_id, after=_inbox_cursor(page.cursor), limit=page.limit
    )
    items = [
        InboxItem(
            conversation=ConversationRead.model_validate(row.conversation),
            contact=InboxContact(
                id=row.contact.id,
                first_name=row.contact.first_name,
                last_name=row.contact.last_name,
                assignee_user_id=row.contact.assignee_user_id,
                blocked=row.contact.blocked,
            ),
            last_message=None if row.last_message is None else MessageRead.model_validate(row.last_message),
        )
        for row in rows
    ]
    last = rows[-1].conversation if rows else None
    cursor = None if last is None or len(rows) < page.limit else _inbox_cursor_of(last)
    return Page[InboxItem](items=items, next_cursor=cursor)


@router.get("/contacts/{contact_id}/conversations", response_model=list[ConversationRead])
def contact_conversations(
    contact_id: Id, principal: PrincipalDep, session: SessionDep
) -> list[ConversationRead]:
    contact = contacts.get_contact(session, principal, contact_id)
    rows = conversations.list_for_contact(session, contact_id=contact.id)
    return [ConversationRead.model_validate(c) for c in rows]


@router.post("/contacts/{contact_id}/conversation/open", response_model=ConversationRead)
def open_conversation(contact_id: Id, principal: PrincipalDep, session: SessionDep) -> ConversationRead:
    """Opens a conversation (source user or api); opening an open one changes nothing."""
    contact = contacts.get_contact(session, principal, contact_id, for_update=True)
    conversation, _opened = conversations.open_conversation(session, contact=contact, actor=principal.actor)
    session.commit()
    return ConversationRead.model_validate(conversation)


@router.post("/contacts/{contact_id}/conversation/close", response_model=ConversationRead | None)
def close_conversation(
    contact_id: Id, body: CloseRequest, principal: PrincipalDep, session: SessionDep
) -> ConversationRead | None:
    """Closes the open conversation under the workspace's closing-notes rule; null when none was open."""
    contact = contacts.get_contact(session, principal, contact_id, for_update=True)
    conversation = conversations.close_conversation(
        session, contact=contact, actor=principal.actor, category_id=body.category_id, summary=body.summary
    )
    session.commit()
    return None if conversation is None else ConversationRead.model_validate(conversation)


@router.get("/contacts/{contact_id}/messages", response_model=Page[MessageRead])
def contact_messages(
    contact_id: Id, principal: PrincipalDep, session: SessionDep, page: PageDep
) -> Page[MessageRead]:
    contact = contacts.get_contact(session, principal, contact_id)
    rows = messages.list_messages(
        session, contact_id=contact.id, before_id=page.before_id(), limit=page.limit
    )
    return id_page([MessageRead.model_validate(m) for m in rows], [m.id for m in rows], page.limit)


@router.get("/contacts/{contact_id}/comments", response_model=Page[CommentRead])
def contact_comments(
    contact_id: Id, principal: PrincipalDep, session: SessionDep, page: PageDep
) -> Page[CommentRead]:
    contact = contacts.get_contact(session, principal, contact_id)
    rows = comments.list_comments(
        session, contact_id=contact.id, before_id=page.before_id(), limit=page.limit
    )
    return id_page([CommentRead.model_validate(c) for c in rows], [c.id for c in rows], page.limit)


@router.post("/contacts/{contact_id}/comments", response_model=CommentRead, status_code=201)
def add_comment(
    contact_id: Id, body: CommentCreate, principal: PrincipalDep, session: SessionDep
) -> CommentRead:
    contact = contacts.get_contact(session, principal, contact_id, for_update=True)
    comment = comments.add_comment(
        session, contact=contact, text=body.text, mentions=body.mentions, actor=principal.actor
    )
    session.commit()
    return CommentRead.model_validate(comment)


@router.get("/closing-categories", response_model=list[CategoryRead])
def list_categories(principal: PrincipalDep, session: SessionDep) -> list[CategoryRead]:
    rows = closing.list_categories(session, workspace_id=principal.workspace_id)
    return [CategoryRead.model_validate(c) for c in rows]


@router.post("/closing-categories", response_model=CategoryRead, status_code=201)
def create_category(body: CategoryCreate, principal: PrincipalDep, session: SessionDep) -> CategoryRead:
    category = closing.create_category(session, principal, name=body.name, description=body.description)
    session.commit()
    return CategoryRead.model_validate(category)


@router.patch("/closing-categories/{category_id}", response_model=CategoryRead)
def update_category(
    category_id: Id, body: CategoryUpdate, principal: PrincipalDep, session: SessionDep
) -> CategoryRead:
    category = closing.update_category(
        session, principal, category_id=category_id, name=body.name, description=body.description
    )
    session.commit()
    return CategoryRead.model_validate(category)


@router.delete("/closing-categories/{category_id}", status_code=204)
def delete_category(category_id: Id, principal: PrincipalDep, session: SessionDep) -> None:
    closing.delete_category(session, principal, category_id=category_id)
    session.commit()
