"""Workspace API tokens: shown once, stored as a digest, Bearer auth with source `api` (CRM-TOKEN-01)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from convoflow.accounts import credentials, tokens
from convoflow.accounts.models import ApiToken
from convoflow.bootstrap import Container
from convoflow.errors import PermissionDenied, Unauthenticated
from convoflow.testing.clock import FakeClock
from convoflow.testing.factories import principal
from tests.accounts.helpers import all_tokens, bearer, create_token, events, fetch, workspace_row
from tests.support import assert_error, login, seed_world


def test_token_secret_is_returned_once_and_only_its_digest_is_stored(
    client: TestClient, session: Session, container: Container, clock: FakeClock
) -> None:
    # CRM-TOKEN-01
    world = seed_world(session, container.hasher)
    login(client, world.manager)
    response = client.post("/api/api-tokens", json={"name": "Zapier"})
    assert response.status_code == 201, response.text
    body = response.json()
    secret = body["secret"]
    parsed = credentials.parse_api_token(secret)
    assert parsed is not None
    prefix, raw_secret = parsed
    assert body["token"]["prefix"] == prefix
    assert body["token"]["name"] == "Zapier"
    assert body["token"]["created_by"] == world.manager.id
    assert body["token"]["expires_at"] is None and body["token"]["last_used_at"] is None
    assert "secret" not in body["token"]

    stored = all_tokens(session)
    assert len(stored) == 1
    assert stored[0].secret_hash == credentials.digest(raw_secret)
    assert raw_secret not in stored[0].secret_hash and secret not in stored[0].secret_hash
    assert stored[0].workspace_id == world.workspace.id and stored[0].created_at == clock.now()
    # The listing never shows the secret again.
    listed = client.get("/api/api-tokens")
    assert [t["id"] for t in listed.json()] == [body["token"]["id"]]
    assert raw_secret not in listed.text


def test_bearer_token_acts_with_source_api(
    client: TestClient, session: Session, container: Container
) -> None:
    # CRM-TOKEN-01: it acts on its workspace with source `api`; actor_id is the token id.
    world = seed_world(session, container.hasher)
    login(client, world.owner)
    token_id, secret = create_token(client)
    api = TestClient(client.app)  # no cookie, no CSRF header: the Bearer token is enough
    created = api.post("/api/contacts", json={"first_name": "Carla"}, headers=bearer(secret))
    assert created.status_code == 201, created.text
    contact_id = created.json()["id"]
    listed = api.get("/api/contacts", headers=bearer(secret))
    assert listed.status_code == 200
    assert [c["id"] for c in listed.json()["items"]] == [contact_id]

    [event] = events(session, world.workspace.id, "contact.created")
    assert event.contact_id == contact_id
    assert event.source == "api"
    assert event.actor_id == token_id
    assert event.payload["contact"]["first_name"] == "Carla"


def test_token_sees_only_its_workspace(client: TestClient, session: Session, container: Container) -> None:
    # CRM-TOKEN-01 / CRM-WS-01
    world = seed_world(session, container.hasher)
    other = seed_world(session, container.hasher, name="Other")
    login(client, world.owner)
    _token_id, secret = create_token(client)
    other_client = TestClient(client.app)
    login(other_client, other.owner)
    foreign = other_client.post("/api/contacts", json={"first_name": "Foreign"}).json()["id"]
    api = TestClient(client.app)
    assert api.get("/api/workspace", headers=bearer(secret)).json()["id"] == world.workspace.id
    assert_error(api.get(f"/api/contacts/{foreign}", headers=bearer(secret)), 404)
    assert api.get("/api/contacts", headers=bearer(secret)).json()["items"] == []


def test_last_used_at_is_recorded_at_most_once_a_minute(
    client: TestClient, session: Session, container: Container, clock: FakeClock
) -> None:
    # CRM-TOKEN-01: shows its last use.
    world = seed_world(session, container.hasher)
    login(client, world.owner)
    token_id, secret = create_token(client)
    created_at = clock.now()
    clock.advance(minutes=5)
    api = TestClient(client.app)
    assert api.get("/api/contacts", headers=bearer(secret)).status_code == 200
    first_use = clock.now()
    assert fetch(session, ApiToken, token_id).last_used_at == first_use  # type: ignore[union-attr]
    clock.advance(seconds=30)
    api.get("/api/contacts", headers=bearer(secret))
    assert fetch(session, ApiToken, token_id).last_used_at == first_use  # type: ignore[union-attr]
    clock.advance(seconds=30)
    api.get("/api/contacts", headers=bearer(secret))
    assert fetch(session, ApiToken, token_id).last_used_at == clock.now()  # type: ignore[union-attr]
    listed = client.get("/api/api-tokens").json()
    assert listed[0]["last_used_at"] is not None and created_at < clock.now()


def test_revoked_token_is_401_token_revoked(
    client: TestClient, session: Session, container: Container
) -> None:
    # CRM-TOKEN-01: revocable.
    world = seed_world(session, container.hasher)
    login(client, world.owner)
    token_id, secret = create_token(client)
    api = TestClient(client.app)
    assert api.get("/api/contacts", headers=bearer(secret)).status_code == 200
    revoked = client.delete(f"/api/api-tokens/{token_id}")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert_error(api.get("/api/contacts", headers=bearer(secret)), 401, "token_revoked")
    assert_error(
        api.post("/api/contacts", json={"first_name": "X"}, headers=bearer(secret)), 401, "token_revoked"
    )
    assert events(session, world.workspace.id, "contact.created") == []
    # Revoking again keeps the first revocation time.
    first = all_tokens(session)[0].revoked_at
    assert client.delete(f"/api/api-tokens/{token_id}").json()["revoked_at"] == revoked.json()["revoked_at"]
    assert all_tokens(session)[0].revoked_at == first
    assert_error(client.delete("/api/api-tokens/999999"), 404, "not_found")


def test_expired_token_is_401_token_expired(
    client: TestClient, session: Session, container: Container, clock: FakeClock
) -> None:
    # CRM-TOKEN-01: optional expiry.
    world = seed_world(session, container.hasher)
    login(client, world.owner)
    response = client.post("/api/api-tokens", json={"name": "Short", "expires_in_days": 30})
    token = response.json()
    secret = token["secret"]
    assert all_tokens(session)[0].expires_at == clock.now() + timedelta(days=30)
    assert token["token"]["expires_at"] == "2026-02-04T09:00:00Z"
    api = TestClient(client.app)
    clock.advance(days=29, hours=23)
    assert api.get("/api/contacts", headers=bearer(secret)).status_code == 200
    clock.advance(hours=1)
    assert_error(api.get("/api/contacts", headers=bearer(secret)), 401, "token_expired")


BAD_AUTHORIZATION = [
    "Bearer cfk_abcdefghijkl_wrongsecret",
    "Bearer cfk_short_secret",
    "Bearer not-a-token",
    "Bearer ",
    "Bearer cfk_abcdefghijkl_" + "x" * 10_000,
    "Basic dXNlcjpwYXNz",
    "Token cfk_abcdefghijkl_x",
    "cfk_abcdefghijkl_x",
]


def test_malformed_or_unknown_token_is_401_invalid_token(
    client: TestClient, session: Session, container: Container
) -> None:
    # CRM-TOKEN-01
    world = seed_world(session, container.hasher)
    api = TestClient(client.app)
    for header in BAD_AUTHORIZATION:
        response = api.post("/api/contacts", json={"first_name": "X"}, headers={"Authorization": header})
        assert_error(response, 401, "invalid_token")
        assert_error(api.get("/api/contacts", headers={"Authorization": header}), 401, "invalid_token")
    assert events(session, world.workspace.id) == []


def test_right_prefix_wrong_secret_is_invalid_not_revoked(
    client: TestClient, session: Session, container: Container
) -> None:
    # CRM-TOKEN-01: a wrong secret says nothing about the token behind the prefix.
    world = seed_world(session, container.hasher)
    login(client, world.owner)
    token_id, secret = create_token(client)
    prefix = secret.split("_")[1]
    client.delete(f"/api/api-tokens/{token_id}")
    api = TestClient(client.app)
    assert_error(api.get("/api/contacts", headers=bearer(f"cfk_{prefix}_guess")), 401, "invalid_token")


def test_token_cannot_manage_tokens_or_act_as_a_person(
    client: TestClient, session: Session, container: Container
) -> None:
    # CRM-TOKEN-01 / decisions.md: managing tokens needs a signed-in user.
    world = seed_world(session, container.hasher)
    login(client, world.owner)
    token_id, secret = create_token(client)
    api = TestClient(client.app)
    headers = bearer(secret)
    assert_error(api.post("/api/api-tokens", json={"name": "Child"}, headers=headers), 403, "user_required")
    assert_error(api.get("/api/api-tokens", headers=headers), 403, "user_required")
    assert_error(api.delete(f"/api/api-tokens/{token_id}", headers=headers), 403, "user_required")
    # /api/me needs the browser session; a token is not a person.
    assert_error(api.get("/api/me", headers=headers), 401, "unauthenticated")
    assert [(t.name, t.revoked_at) for t in all_tokens(session)] == [("Zapier", None)]


def test_token_acts_as_unrestricted_manager_but_not_owner(
    client: TestClient, session: Session, container: Container
) -> None:
    # CRM-TOKEN-01 (decisions.md: unrestricted Manager rights)
    world = seed_world(session, container.hasher)
    login(client, world.owner)
    _token_id, secret = create_token(client)
    api = TestClient(client.app)
    headers = bearer(secret)
    renamed = api.patch("/api/workspace", json={"name": "Via API"}, headers=headers)
    assert renamed.status_code == 200
    assert_error(api.delete("/api/workspace", headers=headers), 403, "role_required")
    assert_error(api.patch(f"/api/users/{world.owner.id}", json={"role": "agent"}, headers=headers), 403)
    assert workspace_row(session, world.workspace.id)["name"] == "Via API"


def test_invalid_token_requests_are_422_and_store_nothing(
    client: TestClient, session: Session, container: Container
) -> None:
    # CRM-TOKEN-01
    world = seed_world(session, container.hasher)
    login(client, world.owner)
    bad: list[dict[str, Any]] = [
        {"name": ""},
        {"name": "x" * 10_000},
        {"name": "ok", "expires_in_days": 0},
        {"name": "ok", "expires_in_days": 3651},
        {"name": "ok", "expires_in_days": "soon"},
        {"name": "ok", "scopes": ["all"]},
        {},
    ]
    for body in bad:
        assert_error(client.post("/api/api-tokens", json=body), 422, "validation_error")
    assert all_tokens(session) == []
    assert events(session, world.workspace.id) == []


def test_authenticate_in_the_service(session: Session, container: Container, clock: FakeClock) -> None:
    # CRM-TOKEN-01 at the service level.
    world = seed_world(session, container.hasher)
    acting = principal(world.workspace, world.owner)
    created = tokens.create_token(session, acting, name="Service", expires_in_days=1)
    session.commit()
    token, token_principal = tokens.authenticate(session, f"  {created.secret}  ")
    assert token.id == created.token.id
    assert token_principal.token_id == token.id and token_principal.user_id is None
    assert token_principal.role == "manager" and token_principal.workspace_id == world.workspace.id
    assert token_principal.actor.source == "api" and token_principal.actor.actor_id == token.id
    with pytest.raises(PermissionDenied) as refused:
        tokens.create_token(session, token_principal, name="Child", expires_in_days=None)
    assert refused.value.error == "user_required"
    clock.advance(days=1)
    with pytest.raises(Unauthenticated) as expired:
        tokens.authenticate(session, created.secret)
    assert expired.value.error == "token_expired"
    session.rollback()
