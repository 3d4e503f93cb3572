"""Signing in, sessions, CSRF and workspace scoping (CRM-WS-01, CRM-USER-03, CRM-TOKEN-01)."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from convoflow.accounts import users
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


def test_unknown_email_is_401_with_the_same_message_as_a_wrong_password(
    client: TestClient, session: Session, container: Container
) -> None:
    world = seed_world(session, container.hasher)
    wrong = client.post("/api/auth/login", json={"email": world.owner.email, "password": "wrong password"})
    unknown = client.post(
        "/api/auth/login", json={"email": "ghost@example.com", "password": "wrong password"}
    )
    assert_error(unknown, 401, "invalid_credentials")
    assert unknown.json() == wrong.json()
    odd = client.post(
        "/api/auth/login", json={"email": "gh\u0000st@example.com", "password": "wrong password"}
    )
    assert odd.json() == wrong.json()
    assert "convoflow_session" not in unknown.cookies
    assert session.scalars(select(LoginSession)).all() == []


def test_login_ignores_email_case_and_spaces(
    client: TestClient, session: Session, container: Container
) -> None:
    world = seed_world(session, container.hasher)
    body = login(client, f"  {world.owner.email.upper()} ")
    assert body["user"]["id"] == world.owner.id


def test_malformed_json_to_login_is_400(client: TestClient, session: Session, container: Container) -> None:
    seed_world(session, container.hasher)
    for raw in (b'{"email": "a@example.com", "password": ', b"not json", b"\xff\xfe"):
        response = client.post("/api/auth/login", content=raw, headers={"Content-Type": "application/json"})
        assert_error(response, 400, "malformed_json")
    assert session.scalars(select(LoginSession)).all() == []


def test_invalid_login_bodies_are_422(client: TestClient, session: Session, container: Container) -> None:
    world = seed_world(session, container.hasher)
    for body in (
        {"email": world.owner.email, "password": "correct horse battery", "remember": True},
        {"email": world.owner.email},
        {"password": "correct horse battery"},
        {"email": world.owner.email, "password": "x" * 10_000},
        {"email": "x" * 10_000, "password": "correct horse battery"},
        {"email": ["a"], "password": "correct horse battery"},
    ):
        assert_error(client.post("/api/auth/login", json=body), 422, "validation_error")
    assert session.scalars(select(LoginSession)).all() == []


def test_logout_deletes_the_session_and_the_cookie_stops_working(
    client: TestClient, session: Session, container: Container
) -> None:
    world = seed_world(session, container.hasher)
    login(client, world.owner)
    other = TestClient(client.app)
    login(other, world.owner)
    cookie = client.cookies.get("convoflow_session")
    assert cookie
    response = client.post("/api/auth/logout")
    assert response.status_code == 204
    assert "convoflow_session" not in client.cookies
    stored = session.scalars(select(LoginSession)).all()
    session.commit()
    assert len(stored) == 1  # only the other browser's session is left
    # The old cookie value, replayed, no longer works; the other session does.
    replay = TestClient(client.app, cookies={"convoflow_session": cookie})
    assert_error(replay.get("/api/me"), 401, "session_expired")
    assert other.get("/api/me").status_code == 200


def test_logout_needs_csrf_and_a_session(client: TestClient, session: Session, container: Container) -> None:
    world = seed_world(session, container.hasher)
    assert_error(client.post("/api/auth/logout"), 401, "unauthenticated")
    login(client, world.owner)
    del client.headers["X-CSRF-Token"]
    assert_error(client.post("/api/auth/logout"), 403, "csrf_failed")
    assert len(session.scalars(select(LoginSession)).all()) == 1


def test_session_activity_slides_the_expiry(
    client: TestClient, session: Session, container: Container, clock: FakeClock
) -> None:
    world = seed_world(session, container.hasher)
    login(client, world.owner)
    for _ in range(3):
        clock.advance(days=container.settings.session_days - 1)
        assert client.get("/api/me").status_code == 200
    stored = session.scalars(select(LoginSession)).one()
    session.commit()
    assert stored.expires_at == clock.now() + timedelta(days=container.settings.session_days)


def test_api_without_credentials_is_401(client: TestClient, session: Session, container: Container) -> None:
    seed_world(session, container.hasher)
    for path in ("/api/me", "/api/users", "/api/workspace", "/api/contacts"):
        assert_error(client.get(path), 401, "unauthenticated")
    forged = TestClient(client.app, cookies={"convoflow_session": "forged"})
    assert_error(forged.get("/api/users"), 401, "session_expired")


def test_login_starts_in_the_first_workspace_joined(
    client: TestClient, session: Session, container: Container, clock: FakeClock
) -> None:
    # CRM-WS-01
    world_a = seed_world(session, container.hasher, name="Zulu")
    clock.advance(hours=1)
    world_b = seed_world(session, container.hasher, name="Alpha")
    clock.advance(hours=1)
    users.add_member(session, workspace_id=world_a.workspace.id, user_id=world_b.owner.id, role="agent")
    session.commit()
    body = login(client, world_b.owner)
    assert body["workspace"]["id"] == world_b.workspace.id
    assert [w["name"] for w in body["workspaces"]] == ["Alpha", "Zulu"]
