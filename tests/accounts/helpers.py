"""Helpers for the accounts tests: API tokens, invitations and fresh reads of stored rows.

On SQLite the fixture `session` opens a write transaction (BEGIN IMMEDIATE) on its first statement,
which would make the API's next write wait for the lock. The read helpers below therefore refresh the
rows they return (`populate_existing`) and end the transaction before returning.
"""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi.testclient import TestClient
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from convoflow.accounts.models import ApiToken, Invitation, LoginSession, Membership, User, Workspace
from convoflow.events.models import Event

T = TypeVar("T")


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def create_token(client: TestClient, name: str = "Zapier", **fields: Any) -> tuple[int, str]:
    """Creates an API token with a signed-in client; returns (id, secret)."""
    response = client.post("/api/api-tokens", json={"name": name, **fields})
    assert response.status_code == 201, response.text
    body = response.json()
    return int(body["token"]["id"]), str(body["secret"])


def invite(client: TestClient, email: str, **fields: Any) -> dict[str, Any]:
    """Creates an invitation with a signed-in client; returns {invitation, token}."""
    response = client.post("/api/invitations", json={"email": email, **fields})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def rows(session: Session, query: Select[T]) -> list[T]:
    """Fresh rows, then the transaction is ended."""
    result = list(session.scalars(query.execution_options(populate_existing=True)))
    session.commit()
    return result


def fetch(session: Session, model: type[T], key: Any) -> T | None:
    """One fresh row by primary key (or None), then the transaction is ended."""
    row = session.get(model, key, populate_existing=True)
    session.commit()
    return row


def count(session: Session, model: type[Any], *where: Any) -> int:
    total = session.scalar(select(func.count()).select_from(model).where(*where)) or 0
    session.commit()
    return total


def workspace_row(session: Session, workspace_id: int) -> dict[str, Any]:
    workspace = fetch(session, Workspace, workspace_id)
    assert workspace is not None
    return {
        "name": workspace.name,
        "slug": workspace.slug,
        "timezone": workspace.timezone,
        "settings": dict(workspace.settings),
    }


def membership_of(session: Session, workspace_id: int, user_id: int) -> Membership | None:
    return fetch(session, Membership, (workspace_id, user_id))


def user_row(session: Session, user_id: int) -> User:
    user = fetch(session, User, user_id)
    assert user is not None
    return user


def all_tokens(session: Session) -> list[ApiToken]:
    return rows(session, select(ApiToken).order_by(ApiToken.id))


def all_invitations(session: Session) -> list[Invitation]:
    return rows(session, select(Invitation).order_by(Invitation.id))


def all_logins(session: Session) -> list[LoginSession]:
    return rows(session, select(LoginSession).order_by(LoginSession.id))


def all_members(session: Session, workspace_id: int) -> list[Membership]:
    return rows(
        session,
        select(Membership).where(Membership.workspace_id == workspace_id).order_by(Membership.user_id),
    )


def events(session: Session, workspace_id: int, type: str | None = None) -> list[Event]:
    query = select(Event).where(Event.workspace_id == workspace_id)
    if type is not None:
        query = query.where(Event.type == type)
    return rows(session, query.order_by(Event.id))
