"""/api/me: the signed-in person, their profile and password (CRM-USER-01 user record)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from convoflow.bootstrap import Container
from convoflow.testing.factories import DEFAULT_PASSWORD
from tests.accounts.helpers import all_logins, bearer, create_token, user_row
from tests.support import assert_error, login, seed_world


def test_me_describes_the_user_workspace_and_membership(
    client: TestClient, session: Session, container: Container
) -> None:
    world = seed_world(session, container.hasher)
    login(client, world.manager)
    me = client.get("/api/me")
    assert me.status_code == 200
    body = me.json()
    assert body["user"] == {
        "id": world.manager.id,
        "email": world.manager.email,
        "first_name": "Mario",
        "last_name": "Pérez",
    }
    assert "password_hash" not in me.text
    assert body["availability"] == "offline"
    assert body["workspace"]["id"] == world.workspace.id and body["workspace"]["timezone"] == "UTC"
    assert body["membership"]["role"] == "manager" and body["membership"]["team_id"] is None
    assert body["membership"]["restrictions"]["restrict_space_setting"] is False
    assert body["workspaces"] == [{"id": world.workspace.id, "name": "Acme", "role": "manager"}]


def test_profile_update_changes_only_the_names_sent(
    client: TestClient, session: Session, container: Container
) -> None:
    world = seed_world(session, container.hasher)
    login(client, world.agent)
    response = client.patch("/api/me", json={"first_name": "  Aída 🌸 "})
    assert response.status_code == 200, response.text
    assert response.json()["user"]["first_name"] == "Aída 🌸"
    stored = user_row(session, world.agent.id)
    assert (stored.first_name, stored.last_name) == ("Aída 🌸", "Pérez")
    cleared = client.patch("/api/me", json={"last_name": ""})
    assert cleared.status_code == 200
    stored = user_row(session, world.agent.id)
    assert (stored.first_name, stored.last_name) == ("Aída 🌸", "")
    # Colleagues see the new name.
    listed = client.get(f"/api/users/{world.agent.id}").json()
    assert listed["first_name"] == "Aída 🌸"


def test_invalid_profile_updates_are_422_and_change_nothing(
    client: TestClient, session: Session, container: Container
) -> None:
    world = seed_world(session, container.hasher)
    login(client, world.agent)
    bad: list[dict[str, Any]] = [
        {"first_name": ""},
        {"first_name": "   "},
        {"first_name": "x" * 10_000},
        {"last_name": "x" * 10_000},
        {"first_name": "Bad\u0007bell"},
        {"first_name": 7},
        {"email": "new@example.com"},
        {"first_name": "Ok", "role": "owner"},
    ]
    for body in bad:
        assert_error(client.patch("/api/me", json=body), 422, "validation_error")
    stored = user_row(session, world.agent.id)
    assert (stored.first_name, stored.last_name, stored.email) == ("Aida", "Pérez", world.agent.email)


def test_password_change(client: TestClient, session: Session, container: Container) -> None:
    world = seed_world(session, container.hasher)
    login(client, world.agent)
    response = client.post(
        "/api/me/password", json={"current_password": DEFAULT_PASSWORD, "new_password": "a new passphrase"}
    )
    assert response.status_code == 204, response.text
    stored = user_row(session, world.agent.id)
    assert container.hasher.verify(stored.password_hash, "a new passphrase")
    assert not container.hasher.verify(stored.password_hash, DEFAULT_PASSWORD)
    fresh = TestClient(client.app)
    wrong = fresh.post("/api/auth/login", json={"email": world.agent.email, "password": DEFAULT_PASSWORD})
    assert_error(wrong, 401, "invalid_credentials")
    login(fresh, world.agent, "a new passphrase")


def test_password_change_refuses_wrong_current_or_short_new(
    client: TestClient, session: Session, container: Container
) -> None:
    world = seed_world(session, container.hasher)
    login(client, world.agent)
    before = user_row(session, world.agent.id).password_hash
    wrong = client.post(
        "/api/me/password", json={"current_password": "not it at all", "new_password": "a new passphrase"}
    )
    body = assert_error(wrong, 422, "wrong_password")
    assert body["details"][0]["field"] == "current_password"
    short = client.post(
        "/api/me/password", json={"current_password": DEFAULT_PASSWORD, "new_password": "short"}
    )
    body = assert_error(short, 422, "validation_error")
    assert body["details"][0]["field"] == "new_password"
    for bad in (
        {"current_password": DEFAULT_PASSWORD, "new_password": "x" * 10_000},
        {"current_password": DEFAULT_PASSWORD},
        {"current_password": DEFAULT_PASSWORD, "new_password": "a new passphrase", "confirm": "x"},
    ):
        assert_error(client.post("/api/me/password", json=bad), 422, "validation_error")
    assert user_row(session, world.agent.id).password_hash == before


def test_me_endpoints_need_a_signed_in_user_not_a_token(
    client: TestClient, session: Session, container: Container
) -> None:
    world = seed_world(session, container.hasher)
    login(client, world.owner)
    _token_id, secret = create_token(client)
    api = TestClient(client.app)
    headers = bearer(secret)
    assert_error(api.patch("/api/me", json={"first_name": "Bot"}, headers=headers), 401)
    assert_error(api.put("/api/me/availability", json={"availability": "online"}, headers=headers), 401)
    assert_error(
        api.post(
            "/api/me/password", json={"current_password": "x" * 8, "new_password": "y" * 8}, headers=headers
        ),
        401,
    )
    assert user_row(session, world.owner.id).first_name == "Olga"
    assert len(all_logins(session)) == 1


def test_profile_change_needs_csrf(client: TestClient, session: Session, container: Container) -> None:
    world = seed_world(session, container.hasher)
    login(client, world.agent)
    del client.headers["X-CSRF-Token"]
    assert_error(client.patch("/api/me", json={"first_name": "Forged"}), 403, "csrf_failed")
    assert user_row(session, world.agent.id).first_name == "Aida"


def test_password_change_signs_out_the_other_sessions(
    client: TestClient, make_client: Any, session: Session, container: Container
) -> None:
    world = seed_world(session, container.hasher)
    other = make_client()
    login(client, world.owner)
    login(other, world.owner)
    response = client.post(
        "/api/me/password",
        json={"current_password": DEFAULT_PASSWORD, "new_password": "a brand new passphrase"},
    )
    assert response.status_code == 204
    assert client.get("/api/me").status_code == 200  # the session that changed it stays
    assert_error(other.get("/api/me"), 401, "session_expired")
    assert len(all_logins(session)) == 1
