"""Helpers for the conversation, message and event tests: inbound traffic, API-token clients, event reads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from convoflow.accounts import tokens
from convoflow.accounts.models import User, Workspace
from convoflow.channels.models import Channel
from convoflow.contacts.identities import ChannelProfile
from convoflow.conversations.content import TextContent
from convoflow.conversations.messages import Inbound, record_inbound
from convoflow.conversations.models import Comment, Conversation, Message
from convoflow.events.models import Event
from convoflow.testing.factories import principal

ClientFactory = Callable[[], TestClient]


def inbound(
    session: Session,
    channel: Channel,
    *,
    external_id: str = "visitor-1",
    text: str = "Hola",
    provider_message_id: str | None = None,
    profile: ChannelProfile | None = None,
) -> Inbound:
    """One incoming text message on `channel` from `external_id`, in the caller's transaction."""
    return record_inbound(
        session,
        channel=channel,
        external_id=external_id,
        content=TextContent(text=text),
        provider_message_id=provider_message_id,
        profile=profile,
    )


def token_client(
    make_client: ClientFactory, session: Session, workspace: Workspace, owner: User
) -> tuple[TestClient, int]:
    """A client that authenticates with a fresh workspace API token (source `api`), and the token's id."""
    created = tokens.create_token(
        session, principal(workspace, owner), name="Integration", expires_in_days=None
    )
    session.commit()
    client = make_client()
    client.headers["Authorization"] = f"Bearer {created.secret}"
    return client, created.token.id


def fresh(session: Session, query: Any) -> list[Any]:
    """Rows of `query` reloaded from the database, then the transaction ends.

    Committing (instead of leaving the read open) keeps SQLite's write lock free for the API, and
    `populate_existing` refreshes only these rows, so other loaded objects are not expired.
    """
    rows = list(session.scalars(query.execution_options(populate_existing=True)))
    session.commit()
    return rows


def contact_events(session: Session, contact_id: int) -> list[Event]:
    """The contact's events in id order (commits the session)."""
    return fresh(session, select(Event).where(Event.contact_id == contact_id).order_by(Event.id))


def event_types(session: Session, contact_id: int) -> list[str]:
    return [event.type for event in contact_events(session, contact_id)]


def count(session: Session, model: type[Any]) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def counts(session: Session) -> dict[str, int]:
    """Row counts of the tables a failed request must leave unchanged (commits the session)."""
    result = {
        "conversations": count(session, Conversation),
        "messages": count(session, Message),
        "comments": count(session, Comment),
        "events": count(session, Event),
    }
    session.commit()
    return result


def conversations_of(session: Session, contact_id: int) -> list[Conversation]:
    """The contact's conversations in id order (commits the session)."""
    return fresh(
        session, select(Conversation).where(Conversation.contact_id == contact_id).order_by(Conversation.id)
    )
