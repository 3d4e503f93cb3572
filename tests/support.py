"""Shared test helpers: a seeded workspace and signed-in API clients."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from convoflow.accounts.models import User, Workspace
from convoflow.accounts.passwords import PasswordHasher
from convoflow.events.models import Event
from convoflow.testing.factories import DEFAULT_PASSWORD, make_member, make_user, make_workspace


@dataclass
class World:
    workspace: Workspace
    owner: User
    manager: User
    agent: User


def seed_world(session: Session, hasher: PasswordHasher, *, name: str = "Acme") -> World:
    """A workspace with an Owner, a Manager and an Agent, committed."""
    owner = make_user(session, hasher, first_name="Olga", last_name="Owner")
    workspace = make_workspace(session, owner=owner, name=name)
    manager = make_member(session, hasher, workspace=workspace, role="manager", first_name="Mario")
    agent = make_member(session, hasher, workspace=workspace, role="agent", first_name="Aida")
    session.commit()
    return World(workspace, owner, manager, agent)


def login(client: TestClient, user: User | str, password: str = DEFAULT_PASSWORD) -> dict[str, Any]:
    """Signs `client` in and makes it send the CSRF header on every request."""
    email = user if isinstance(user, str) else user.email
    response = client.post("/api/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    client.headers["X-CSRF-Token"] = body["csrf_token"]
    return body


def assert_error(response: Response, status: int, error: str | None = None) -> dict[str, Any]:
    """The response is the JSON error body with this status (and error id)."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == status
    assert isinstance(body["message"], str) and body["message"]
    if error is not None:
        assert body["error"] == error, body
    return body


def events_of(session: Session, *, workspace_id: int, type: str | None = None) -> list[Event]:
    """The workspace's events in order, read fresh; the read's transaction is ended (see below)."""
    session.expire_all()
    query = select(Event).where(Event.workspace_id == workspace_id)
    if type is not None:
        query = query.where(Event.type == type)
    events = list(session.scalars(query.order_by(Event.id)))
    # On SQLite the test session's transaction holds the write lock (BEGIN IMMEDIATE); ending it lets
    # the API write next. Objects stay usable: sessions do not expire on commit.
    session.commit()
    return events
