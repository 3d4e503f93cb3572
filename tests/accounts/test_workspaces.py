"""Workspaces through /api: several per user, switching, creation, settings (CRM-WS-01..03)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from convoflow.accounts import users, workspaces
from convoflow.accounts.models import ApiToken, Invitation, Workspace
from convoflow.bootstrap import Container
from convoflow.contacts.models import LifecycleStage
from convoflow.errors import InvalidInput
from convoflow.testing.factories import make_member, make_user, make_workspace, principal
from tests.accounts.helpers import (
    all_logins,
    all_members,
    bearer,
    count,
    create_token,
    fetch,
    invite,
    membership_of,
    rows,
    workspace_row,
)
from tests.support import assert_error, login, seed_world

# --- CRM-WS-01: one person, several workspaces, a role in each ---------------------------------


def test_user_in_two_workspaces_has_a_role_in_each_and_switches(
    client: TestClient, session: Session, container: Container
) -> None:
    # CRM-WS-01
    world_a = seed_world(session, container.hasher, name="Alpha")
    world_b = seed_world(session, container.hasher, name="Beta")
    person = world_a.agent
    users.add_member(session, workspace_id=world_b.workspace.id, user_id=person.id, role="manager")
    session.commit()

    body = login(client, person)
    assert body["workspace"]["id"] == world_a.workspace.id
    assert body["membership"]["role"] == "agent"
    assert body["workspaces"] == [
        {"id": world_a.workspace.id, "name": "Alpha", "role": "agent"},
        {"id": world_b.workspace.id, "name": "Beta", "role": "manager"},
    ]
    # As an Agent in Alpha, workspace settings are refused.
    assert_error(client.patch("/api/workspace", json={"name": "Gamma"}), 403, "role_required")

    switched = client.put("/api/me/workspace", json={"workspace_id": world_b.workspace.id})
    assert switched.status_code == 200, switched.text
    assert switched.json()["workspace"]["id"] == world_b.workspace.id
    assert switched.json()["membership"]["role"] == "manager"
    assert [login.workspace_id for login in all_logins(session)] == [world_b.workspace.id]

    # Now a Manager in Beta: the same request succeeds and changes only Beta.
    renamed = client.patch("/api/workspace", json={"name": "Beta 2"})
    assert renamed.status_code == 200, renamed.text
    assert workspace_row(session, world_b.workspace.id)["name"] == "Beta 2"
    assert workspace_row(session, world_a.workspace.id)["name"] == "Alpha"
    me = client.get("/api/me").json()
    assert me["workspace"]["name"] == "Beta 2" and me["membership"]["role"] == "manager"
    assert client.get("/api/workspace").json()["id"] == world_b.workspace.id


def test_switching_to_a_workspace_without_membership_is_404(
    client: TestClient, session: Session, container: Container
) -> None:
    # CRM-WS-01
    world_a = seed_world(session, container.hasher, name="Alpha")
    world_b = seed_world(session, container.hasher, name="Beta")
    login(client, world_a.owner)
    assert_error(client.put("/api/me/workspace", json={"workspace_id": world_b.workspace.id}), 404)
    assert_error(client.put("/api/me/workspace", json={"workspace_id": 999_999}), 404)
    assert_error(client.put("/api/me/workspace", json={"workspace_id": "beta"}), 422, "validation_error")
    assert [login.workspace_id for login in all_logins(session)] == [world_a.workspace.id]


def test_switching_to_a_workspace_where_deactivated_is_404(
    client: TestClient, session: Session, container: Container
) -> None:
    # CRM-WS-01, CRM-USER-03
    world_a = seed_world(session, container.hasher, name="Alpha")
    world_b = seed_world(session, container.hasher, name="Beta")
    membership = users.add_member(
        session, workspace_id=world_b.workspace.id, user_id=world_a.agent.id, role="agent"
    )
    membership.deactivated_at = container.clock.now()
    session.commit()
    body = login(client, world_a.agent)
    assert [w["id"] for w in body["workspaces"]] == [world_a.workspace.id]
    assert_error(client.put("/api/me/workspace", json={"workspace_id": world_b.workspace.id}), 404)
    assert [login.workspace_id for login in all_logins(session)] == [world_a.workspace.id]


def test_ids_of_another_workspace_are_404_for_users_invitations_and_tokens(
    client: TestClient, make_client: Any, session: Session, container: Container
) -> None:
    # CRM-WS-01: workspace B's users, invitations and tokens do not exist from workspace A.
    world_a = seed_world(session, container.hasher, name="Alpha")
    world_b = seed_world(session, container.hasher, name="Beta")
    owner_b = make_client()
    login(owner_b, world_b.owner)
    invitation_b = invite(owner_b, "guest@example.com")["invitation"]["id"]
    token_b, secret_b = create_token(owner_b)

    login(client, world_a.owner)
    agent_b = world_b.agent.id
    assert_error(client.get(f"/api/users/{agent_b}"), 404, "not_found")
    assert_error(client.patch(f"/api/users/{agent_b}", json={"role": "manager"}), 404, "not_found")
    assert_error(client.post(f"/api/users/{agent_b}/deactivate"), 404, "not_found")
    assert_error(client.post(f"/api/users/{agent_b}/activate"), 404, "not_found")
    assert_error(client.delete(f"/api/users/{agent_b}"), 404, "not_found")
    assert_error(client.delete(f"/api/invitations/{invitation_b}"), 404, "not_found")
    assert_error(client.delete(f"/api/api-tokens/{token_b}"), 404, "not_found")
    assert [u["id"] for u in client.get("/api/users").json()] == [
        world_a.owner.id,
        world_a.manager.id,
        world_a.agent.id,
    ]
    assert client.get("/api/invitations").json() == []
    assert client.get("/api/api-tokens").json() == []

    # Workspace B is untouched: the agent is still an active Agent, the invitation and token live.
    membership = membership_of(session, world_b.workspace.id, agent_b)
    assert membership is not None and membership.role == "agent" and membership.deactivated_at is None
    invitation = fetch(session, Invitation, invitation_b)
    assert invitation is not None and invitation.revoked_at is None
    token = fetch(session, ApiToken, token_b)
    assert token is not None and token.revoked_at is None
    # And B's token sees only B.
    listed = client.get("/api/users", headers=bearer(secret_b))
    assert listed.status_code == 200
    assert {u["id"] for u in listed.json()} == {world_b.owner.id, world_b.manager.id, agent_b}


# --- CRM-WS-03: creating a workspace ------------------------------------------------------------


def test_creating_a_workspace_makes_the_creator_owner_and_seeds_stages(
    client: TestClient, session: Session, container: Container
) -> None:
    # CRM-WS-03 (and CRM-LIFE: the five default stages, no default stage)
    world = seed_world(session, container.hasher)
    login(client, world.agent)
    response = client.post(
        "/api/workspaces", json={"name": "Tienda Ñandú 🚀", "timezone": "Europe/Madrid", "language": "es"}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    new_id = body["workspace"]["id"]
    assert body["workspace"]["name"] == "Tienda Ñandú 🚀"
    assert body["workspace"]["timezone"] == "Europe/Madrid"
    assert body["workspace"]["settings"]["language"] == "es"
    assert body["membership"]["role"] == "owner"
    assert {w["id"]: w["role"] for w in body["workspaces"]} == {world.workspace.id: "agent", new_id: "owner"}

    members = all_members(session, new_id)
    assert [(m.user_id, m.role, m.deactivated_at) for m in members] == [(world.agent.id, "owner", None)]
    stages = rows(
        session,
        select(LifecycleStage).where(LifecycleStage.workspace_id == new_id).order_by(LifecycleStage.position),
    )
    assert [(s.name, s.is_lost) for s in stages] == [
        ("New Lead", False),
        ("Hot Lead", False),
        ("Payment", False),
        ("Customer", False),
        ("Cold Lead", True),
    ]
    assert workspace_row(session, new_id)["slug"] == "tienda-and"
    # The session moved to the new workspace, where the creator may change settings.
    assert [login.workspace_id for login in all_logins(session)] == [new_id]
    assert client.patch("/api/workspace", json={"name": "Tienda"}).status_code == 200
    assert [s["name"] for s in client.get("/api/lifecycle-stages").json()] == [s.name for s in stages]


def test_workspace_names_get_distinct_slugs(
    client: TestClient, session: Session, container: Container
) -> None:
    # CRM-WS-03
    world = seed_world(session, container.hasher, name="Acme")
    login(client, world.owner)
    first = client.post("/api/workspaces", json={"name": "Acme"})
    second = client.post("/api/workspaces", json={"name": "🚀"})
    assert first.status_code == 201 and second.status_code == 201
    slugs = [w.slug for w in rows(session, select(Workspace).order_by(Workspace.id))]
    assert slugs[0] == "acme" and slugs[1].startswith("acme-") and slugs[2] == "workspace"
    assert len(set(slugs)) == 3


INVALID_NEW_WORKSPACES: list[dict[str, Any]] = [
    {"name": ""},
    {"name": "   "},
    {"name": "x" * 10_000},
    {"name": "x" * 101},
    {"name": "Bad\u0000name"},
    {"name": "Tab\tname"},
    {"name": 42},
    {"name": "Ok", "timezone": "Mars/Olympus"},
    {"name": "Ok", "language": "fr"},
    {"name": "Ok", "owner": 1},
    {},
]


def test_invalid_workspace_creation_is_422_and_creates_nothing(
    client: TestClient, session: Session, container: Container
) -> None:
    # CRM-WS-03: bad input leaves nothing behind.
    world = seed_world(session, container.hasher)
    login(client, world.owner)
    for body in INVALID_NEW_WORKSPACES:
        details = assert_error(client.post("/api/workspaces", json=body), 422, "validation_error")["details"]
        assert details and all(d["field"] and d["message"] for d in details), body
    assert count(session, Workspace) == 1
    assert count(session, LifecycleStage) == 5
    assert [login.workspace_id for login in all_logins(session)] == [world.workspace.id]


def test_creating_a_workspace_needs_a_signed_in_user(
    client: TestClient, session: Session, container: Container
) -> None:
    # CRM-WS-03: an API token is not a person who could own a workspace.
    world = seed_world(session, container.hasher)
    login(client, world.owner)
    _token_id, secret = create_token(client)
    anonymous = TestClient(client.app)
    assert_error(anonymous.post("/api/workspaces", json={"name": "X"}, headers=bearer(secret)), 401)
    assert_error(anonymous.post("/api/workspaces", json={"name": "X"}), 401, "unauthenticated")
    assert count(session, Workspace) == 1


# --- CRM-WS-02: settings -------------------------------------------------------------------------


def test_owner_updates_name_timezone_and_settings(
    client: TestClient, session: Session, container: Container
) -> None:
    # CRM-WS-02
    world = seed_world(session, container.hasher)
    login(client, world.owner)
    response = client.patch(
        "/api/workspace",
        json={
            "name": "  Acme España  ",
            "timezone": "America/Argentina/Buenos_Aires",
            "settings": {"language": "es", "date_format": "MM/DD/YYYY", "default_country": "ar"},
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["name"] == "Acme España"
    assert body["timezone"] == "America/Argentina/Buenos_Aires"
    assert body["settings"]["language"] == "es"
    assert body["settings"]["date_format"] == "MM/DD/YYYY"
    assert body["settings"]["default_country"] == "AR"
    stored = workspace_row(session, world.workspace.id)
    assert stored["name"] == "Acme España"
    assert stored["timezone"] == "America/Argentina/Buenos_Aires"
    assert stored["settings"]["language"] == "es"
    assert stored["settings"]["date_format"] == "MM/DD/YYYY"
    assert stored["settings"]["default_country"] == "AR"
    # Untouched settings keep their values.
    assert stored["settings"]["closing_notes"] == "optional"
    assert stored["settings"]["business_hours"]["days"]["mon"] == [{"start": "09:00", "end": "18:00"}]
    assert client.get("/api/workspace").json() == body


def test_partial_settings_patch_keeps_the_rest_and_null_clears_country(
    client: TestClient, session: Session, container: Container
) -> None:
    # CRM-WS-02
    world = seed_world(session, container.hasher)
    login(client, world.manager)
    first = client.patch("/api/workspace", json={"settings": {"language": "es", "default_country": "MX"}})
    assert first.status_code == 200, first.text
    second = client.patch("/api/workspace", json={"settings": {"date_format": "MM/DD/YYYY"}})
    assert second.status_code == 200
    assert second.json()["settings"]["language"] == "es"
    assert second.json()["settings"]["default_country"] == "MX"
    cleared = client.patch("/api/workspace", json={"settings": {"default_country": None}})
    assert cleared.status_code == 200
    stored = workspace_row(session, world.workspace.id)["settings"]
    assert stored["default_country"] is None
    assert stored["language"] == "es" and stored["date_format"] == "MM/DD/YYYY"


def test_business_hours_are_saved(client: TestClient, session: Session, container: Container) -> None:
    # CRM-WS-02, CRM-HOURS-01
    world = seed_world(session, container.hasher)
    login(client, world.owner)
    hours = {
        "timezone": "Europe/Madrid",
        "days": {
            "mon": [{"start": "16:00", "end": "20:00"}, {"start": "09:00", "end": "14:00"}],
            "sat": [{"start": "10:00", "end": "24:00"}],
        },
    }
    response = client.patch("/api/workspace", json={"settings": {"business_hours": hours}})
    assert response.status_code == 200, response.text
    stored = workspace_row(session, world.workspace.id)["settings"]["business_hours"]
    assert stored["timezone"] == "Europe/Madrid"
    assert stored["days"]["mon"] == [{"start": "09:00", "end": "14:00"}, {"start": "16:00", "end": "20:00"}]
    assert stored["days"]["sat"] == [{"start": "10:00", "end": "24:00"}]
    assert stored["days"]["tue"] == []


def _intervals(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"start": start, "end": end} for start, end in pairs]


INVALID_WORKSPACE_UPDATES: list[dict[str, Any]] = [
    {"name": ""},
    {"name": "x" * 10_000},
    {"name": "Line\nbreak"},
    {"name": None, "timezone": "Europe/Atlantis"},
    {"timezone": "utc+2"},
    {"timezone": "x" * 10_000},
    {"settings": {"language": "fr"}},
    {"settings": {"language": None}},
    {"settings": {"date_format": "YYYY/MM/DD"}},
    {"settings": {"date_format": None}},
    {"settings": {"default_country": "XX"}},
    {"settings": {"default_country": "ESP"}},
    {"settings": {"default_country": "🇪🇸"}},
    {"settings": {"closing_notes": None}},
    {"settings": {"lifecycle_enabled": None}},
    {"settings": {"business_hours": None}},
    {"settings": {"theme": "dark"}},
    {"settings": {"business_hours": {"days": {"mon": _intervals(("18:00", "09:00"))}}}},
    {"settings": {"business_hours": {"days": {"mon": _intervals(("09:00", "13:00"), ("12:00", "14:00"))}}}},
    {
        "settings": {
            "business_hours": {
                "days": {
                    "mon": _intervals(
                        ("08:00", "09:00"), ("10:00", "11:00"), ("12:00", "13:00"), ("14:00", "15:00")
                    )
                }
            }
        }
    },
    {"settings": {"business_hours": {"timezone": "Nowhere/City"}}},
    {"slug": "hacked"},
    {"name": "Ok", "owner_id": 3},
]


def test_invalid_workspace_update_is_422_and_changes_nothing(
    client: TestClient, session: Session, container: Container
) -> None:
    # CRM-WS-02: bad values are refused with a 422 body and the stored workspace is unchanged.
    world = seed_world(session, container.hasher)
    login(client, world.owner)
    before = workspace_row(session, world.workspace.id)
    for body in INVALID_WORKSPACE_UPDATES:
        details = assert_error(client.patch("/api/workspace", json=body), 422, "validation_error")["details"]
        assert details and all(d["field"] and d["message"] for d in details), body
        assert workspace_row(session, world.workspace.id) == before, body


def test_emoji_and_accents_in_workspace_name_are_kept(
    client: TestClient, session: Session, container: Container
) -> None:
    # CRM-WS-02: any Unicode letters and emoji within 100 characters are a valid name.
    world = seed_world(session, container.hasher)
    login(client, world.owner)
    name = "Café Ünïcødé 🚀🇪🇸"
    response = client.patch("/api/workspace", json={"name": name})
    assert response.status_code == 200, response.text
    assert workspace_row(session, world.workspace.id)["name"] == name


def test_malformed_json_to_workspace_update_is_400(
    client: TestClient, session: Session, container: Container
) -> None:
    world = seed_world(session, container.hasher)
    login(client, world.owner)
    before = workspace_row(session, world.workspace.id)
    response = client.patch(
        "/api/workspace", content=b'{"name": "x",', headers={"Content-Type": "application/json"}
    )
    assert_error(response, 400, "malformed_json")
    assert workspace_row(session, world.workspace.id) == before


# --- Deleting a workspace (CRM-ROLE-01: Owners only) ---------------------------------------------


def test_only_an_owner_deletes_the_workspace(
    client: TestClient, make_client: Any, session: Session, container: Container
) -> None:
    world = seed_world(session, container.hasher)
    other = seed_world(session, container.hasher, name="Other")
    manager = make_client()
    login(manager, world.manager)
    assert_error(manager.delete("/api/workspace"), 403, "role_required")
    assert fetch(session, Workspace, world.workspace.id) is not None

    login(client, world.owner)
    assert client.delete("/api/workspace").status_code == 204
    assert count(session, Workspace, Workspace.id == world.workspace.id) == 0
    assert fetch(session, Workspace, other.workspace.id) is not None
    assert all_members(session, world.workspace.id) == []
    # Sessions in it no longer point at a workspace.
    assert [login.workspace_id for login in all_logins(session)] == [None, None]
    assert_error(client.get("/api/users"), 403, "no_workspace")
    assert client.get("/api/me").json()["workspace"] is None


def test_user_created_by_the_cli_factory_owns_a_second_workspace(
    client: TestClient, session: Session, container: Container
) -> None:
    # CRM-WS-01/03 through the services: create_workspace makes a second, separate membership.
    person = make_user(session, container.hasher, email="multi@example.com")
    first = make_workspace(session, owner=person, name="First")
    second = make_workspace(session, owner=person, name="Second")
    make_member(session, container.hasher, workspace=second, role="agent")
    session.commit()
    body = login(client, "multi@example.com")
    assert [(w["name"], w["role"]) for w in body["workspaces"]] == [("First", "owner"), ("Second", "owner")]
    assert body["workspace"]["id"] == first.id
    assert len(client.get("/api/users").json()) == 1
    client.put("/api/me/workspace", json={"workspace_id": second.id})
    assert len(client.get("/api/users").json()) == 2


def test_update_workspace_service_turns_bad_settings_into_invalid_input(
    session: Session, container: Container
) -> None:
    # CRM-WS-02: callers other than the route get a 422-style error naming the setting, not a crash.
    world = seed_world(session, container.hasher)
    acting = principal(world.workspace, world.owner)
    with pytest.raises(InvalidInput) as bad_country:
        workspaces.update_workspace(session, acting, settings_patch={"default_country": "XX"})
    assert bad_country.value.status == 422
    assert bad_country.value.details == [
        {"field": "settings.default_country", "message": bad_country.value.details[0]["message"]}
    ]
    with pytest.raises(InvalidInput) as bad_zone:
        workspaces.update_workspace(session, acting, timezone="Mars/Olympus")
    assert bad_zone.value.details[0]["field"] == "timezone"
    session.rollback()
    assert workspace_row(session, world.workspace.id)["settings"]["default_country"] is None
    assert workspace_row(session, world.workspace.id)["timezone"] == "UTC"
