"""Helpers of the contacts tests: arranging memberships and settings, reading rows back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from convoflow.accounts.models import Membership, User, Workspace
from convoflow.contacts.models import Contact
from convoflow.events.models import Event

ClientFor = Callable[[User], TestClient]


def set_restrictions(session: Session, workspace: Workspace, user: User, **flags: Any) -> None:
    membership = session.get(Membership, (workspace.id, user.id))
    assert membership is not None
    membership.restrictions = {**membership.restrictions, **flags}
    session.commit()


def set_team(session: Session, workspace: Workspace, user: User, team_id: int | None) -> None:
    membership = session.get(Membership, (workspace.id, user.id))
    assert membership is not None
    membership.team_id = team_id
    session.commit()


def set_workspace_settings(session: Session, workspace: Workspace, **values: Any) -> None:
    session.refresh(workspace)
    workspace.settings = {**workspace.settings, **values}
    session.commit()


# Every reader ends its transaction: on SQLite an open read-write session holds the write lock,
# which would make the API's next write wait and fail. Readers refresh only the rows they read
# (populate_existing) instead of expiring everything, so touching `world.owner.email` later
# does not open a new transaction behind the test's back.


def contact_count(session: Session, workspace_id: int) -> int:
    query = select(func.count()).select_from(Contact).where(Contact.workspace_id == workspace_id)
    count = session.scalar(query) or 0
    session.commit()
    return count


def event_count(session: Session, workspace_id: int) -> int:
    query = select(func.count()).select_from(Event).where(Event.workspace_id == workspace_id)
    count = session.scalar(query) or 0
    session.commit()
    return count


def read_events(session: Session, *, workspace_id: int, type: str | None = None) -> list[Event]:
    """The workspace's events in order (optionally of one type); the transaction is ended."""
    query = select(Event).where(Event.workspace_id == workspace_id)
    if type is not None:
        query = query.where(Event.type == type)
    found = list(session.scalars(query.order_by(Event.id)))
    session.commit()
    return found


def reload(session: Session, contact_id: int) -> Contact | None:
    contact = session.get(Contact, contact_id, populate_existing=True)
    session.commit()
    return contact


def contact_row(session: Session, contact_id: int) -> Contact:
    contact = reload(session, contact_id)
    assert contact is not None
    return contact


def ids_of(body: dict[str, Any]) -> list[int]:
    return [item["id"] for item in body["items"]]
