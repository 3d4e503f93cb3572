"""Signing in, sessions, CSRF and workspace scoping (CRM-WS-01, CRM-USER-03, CRM-TOKEN-01)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from convoflow.accounts.models import LoginSession
from convoflow.bootstrap import Container
from convoflow.testing.clock import FakeClock
from tests.support import assert_error, login, seed_world


def test_login_sets_http_only_cookie_and_returns_workspace(
    client: TestClient, session: Session, container: Container
) -> None:
    world = seed_world(session, container.hasher)
    body = login(client, world.owner)
    assert body["user"]["email"] == world.owner.email
    assert body["workspace"]["id"] == world.workspace.id
    assert body["membership"]["role"] == "owner"
    cookie = client.cookies.get("convoflow_session")
    assert cookie
    stored = session.scalars(select(LoginSession)).all()
    assert len(stored) == 1 and cookie not in stored[0].token_hash


def test_wrong_password_is_401_and_opens_no_session(
    client: TestClient, session: Session, container: Container
) -> None:
    world = seed_world(session, container.hasher)
    response = client.post("/api/auth/login", json={"email": world.owner.email, "password": "wrong password"})
    assert_error(response, 401, "invalid_credentials")
    assert session.scalars(select(LoginSession)).all() == []


def test_unsafe_request_without_csrf_header_is_refused(
    client: TestClient, session: Session, container: Container
) -> None:
    world = seed_world(session, container.hasher)
    login(client, world.owner)
    del client.headers["X-CSRF-Token"]
    response = client.post("/api/teams", json={"name": "Ventas"})
    assert_error(response, 403, "csrf_failed")
    client.headers["X-CSRF-Token"] = "forged"
    assert_error(client.post("/api/teams", json={"name": "Ventas"}), 403, "csrf_failed")


def test_session_expires_after_idle_days(
    client: TestClient, session: Session, container: Container, clock: FakeClock
) -> None:
    world = seed_world(session, container.hasher)
    login(client, world.owner)
    assert client.get("/api/me").status_code == 200
    clock.advance(days=container.settings.session_days, seconds=1)
    assert_error(client.get("/api/me"), 401, "session_expired")


def test_ids_of_another_workspace_are_not_found(
    client: TestClient, session: Session, container: Container
) -> None:
    world_a = seed_world(session, container.hasher, name="A")
    world_b = seed_world(session, container.hasher, name="B")
    login(client, world_a.owner)
    created = client.post("/api/teams", json={"name": "Soporte"})
    assert created.status_code == 201
    other = TestClient(client.app)
    login(other, world_b.owner)
    assert_error(other.get(f"/api/teams/{created.json()['id']}"), 404, "not_found")
    assert_error(other.get(f"/api/users/{world_a.agent.id}"), 404)
