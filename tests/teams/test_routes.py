"""/api/teams: limits, name rules, members in at most one team, permissions (CRM-TEAM-01, CRM-TEAM-02)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from convoflow.accounts.models import Membership
from convoflow.accounts.principal import Restrictions
from convoflow.bootstrap import Container
from convoflow.teams import service as teams
from convoflow.teams.models import Team
from convoflow.testing.clock import FakeClock
from convoflow.testing.factories import make_member, principal
from tests.support import World, assert_error, login, seed_world

MakeClient = Callable[[], TestClient]


@pytest.fixture
def world(session: Session, container: Container) -> World:
    return seed_world(session, container.hasher)


@pytest.fixture
def owner(client: TestClient, world: World) -> TestClient:
    login(client, world.owner)
    return client


def _teams(session: Session, workspace_id: int) -> list[tuple[str, str]]:
    rows = session.execute(
        select(Team.name, Team.description).where(Team.workspace_id == workspace_id).order_by(Team.id)
    )
    result = [(name, description) for name, description in rows]
    session.commit()  # end the read: a write session holds SQLite's write lock until then
    return result


def _team_of(session: Session, world: World, user_id: int) -> int | None:
    # Column queries read the database (not the identity map), so nothing needs expiring; expiring
    # would make the next `world.x.id` reload in a new write transaction that blocks the API.
    team_ids = session.scalars(
        select(Membership.team_id).where(
            Membership.workspace_id == world.workspace.id, Membership.user_id == user_id
        )
    ).all()
    session.commit()  # end the read: a write session holds SQLite's write lock until then
    assert len(team_ids) == 1
    return team_ids[0]


def _create(client: TestClient, name: str, description: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"name": name}
    if description is not None:
        body["description"] = description
    response = client.post("/api/teams", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def test_create_list_and_get_a_team(
    owner: TestClient, session: Session, world: World, clock: FakeClock
) -> None:
    # CRM-TEAM-01
    created = _create(owner, "  Ventas  ", "Equipo de ventas")
    assert created == {
        "id": created["id"],
        "name": "Ventas",
        "description": "Equipo de ventas",
        "member_count": 0,
        "created_at": created["created_at"],
    }
    assert _teams(session, world.workspace.id) == [("Ventas", "Equipo de ventas")]
    assert owner.get(f"/api/teams/{created['id']}").json() == created
    _create(owner, "Atención")
    assert [t["name"] for t in owner.get("/api/teams").json()] == ["Atención", "Ventas"]


def test_the_101st_team_is_refused_and_nothing_is_stored(
    owner: TestClient, session: Session, world: World
) -> None:
    # CRM-TEAM-01: at most 100 teams per workspace.
    acting = principal(world.workspace, world.owner)
    for n in range(teams.MAX_TEAMS):
        teams.create_team(session, acting, name=f"Team {n:03}")
    session.commit()
    body = assert_error(owner.post("/api/teams", json={"name": "Team 100"}), 409, "team_limit_reached")
    assert "100" in body["message"]
    names = [name for name, _ in _teams(session, world.workspace.id)]
    assert len(names) == 100 and "Team 100" not in names
    assert len(owner.get("/api/teams").json()) == 100


@pytest.mark.parametrize(
    "name",
    ["Soporte 🚀", "Équipe Française", "日本チーム", "👩‍👩‍👧‍👦", "x" * 50, "Ü" * 50],
)
def test_unicode_and_emoji_names_up_to_50_characters_are_accepted(
    owner: TestClient, session: Session, world: World, name: str
) -> None:
    # CRM-TEAM-01: 1-50 characters, any script.
    created = _create(owner, name)
    assert created["name"] == name
    assert _teams(session, world.workspace.id) == [(name, "")]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 51}, "name"),
        ({"name": "x" * 10_000}, "name"),
        ({"name": "Tab\tname"}, "name"),
        ({"name": "Ventas", "description": "d" * 256}, "description"),
        ({}, "name"),
        ({"name": None}, "name"),
    ],
)
def test_invalid_team_is_422_and_nothing_is_stored(
    owner: TestClient, session: Session, world: World, body: dict[str, Any], field: str
) -> None:
    # CRM-TEAM-01: name 1-50 characters, description at most 255.
    error = assert_error(owner.post("/api/teams", json=body), 422, "validation_error")
    assert [d["field"] for d in error["details"]] == [field]
    assert _teams(session, world.workspace.id) == []


def test_description_of_255_characters_is_accepted(owner: TestClient, session: Session, world: World) -> None:
    # CRM-TEAM-01
    _create(owner, "Ventas", "d" * 255)
    assert _teams(session, world.workspace.id) == [("Ventas", "d" * 255)]


def test_duplicate_name_ignoring_case_is_409(owner: TestClient, session: Session, world: World) -> None:
    # CRM-TEAM-01: unique ignoring case.
    _create(owner, "Soporte 🚀")
    assert_error(owner.post("/api/teams", json={"name": "SOPORTE 🚀"}), 409, "team_name_taken")
    assert _teams(session, world.workspace.id) == [("Soporte 🚀", "")]


def test_update_renames_and_refuses_a_taken_name(owner: TestClient, session: Session, world: World) -> None:
    # CRM-TEAM-01
    ventas = _create(owner, "Ventas")
    _create(owner, "Soporte")
    response = owner.patch(f"/api/teams/{ventas['id']}", json={"name": "Comercial", "description": "B2B"})
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Comercial" and response.json()["description"] == "B2B"
    assert_error(owner.patch(f"/api/teams/{ventas['id']}", json={"name": "soporte"}), 409, "team_name_taken")
    assert_error(owner.patch(f"/api/teams/{ventas['id']}", json={"name": "x" * 51}), 422, "validation_error")
    assert_error(owner.patch(f"/api/teams/{ventas['id']}", json={"color": "red"}), 422, "validation_error")
    # An empty body changes nothing.
    assert owner.patch(f"/api/teams/{ventas['id']}", json={}).json()["name"] == "Comercial"
    assert _teams(session, world.workspace.id) == [("Comercial", "B2B"), ("Soporte", "")]


def test_members_move_only_when_confirmed(owner: TestClient, session: Session, world: World) -> None:
    # CRM-TEAM-02: a user is in at most one team; moving needs {"move": true}.
    ventas = _create(owner, "Ventas")
    soporte = _create(owner, "Soporte")
    added = owner.post(f"/api/teams/{ventas['id']}/members", json={"user_id": world.agent.id})
    assert added.status_code == 200, added.text
    assert added.json()["member_count"] == 1

    refused = owner.post(f"/api/teams/{soporte['id']}/members", json={"user_id": world.agent.id})
    body = assert_error(refused, 409, "user_in_other_team")
    assert body["details"] == {"team": {"id": ventas["id"], "name": "Ventas"}}
    assert "Ventas" in body["message"]
    assert _team_of(session, world, world.agent.id) == ventas["id"]

    moved = owner.post(f"/api/teams/{soporte['id']}/members", json={"user_id": world.agent.id, "move": True})
    assert moved.status_code == 200, moved.text
    assert moved.json()["member_count"] == 1
    assert _team_of(session, world, world.agent.id) == soporte["id"]
    counts = {t["name"]: t["member_count"] for t in owner.get("/api/teams").json()}
    assert counts == {"Soporte": 1, "Ventas": 0}


def test_removing_a_member(owner: TestClient, session: Session, world: World) -> None:
    # CRM-TEAM-02
    ventas = _create(owner, "Ventas")
    owner.post(f"/api/teams/{ventas['id']}/members", json={"user_id": world.agent.id})
    owner.post(f"/api/teams/{ventas['id']}/members", json={"user_id": world.manager.id})
    assert owner.get(f"/api/teams/{ventas['id']}").json()["member_count"] == 2
    removed = owner.delete(f"/api/teams/{ventas['id']}/members/{world.agent.id}")
    assert removed.status_code == 200, removed.text
    assert removed.json()["member_count"] == 1
    assert _team_of(session, world, world.agent.id) is None
    assert _team_of(session, world, world.manager.id) == ventas["id"]
    # Removing someone who is not a member is 404 and changes nothing.
    assert_error(owner.delete(f"/api/teams/{ventas['id']}/members/{world.agent.id}"), 404, "not_found")
    assert owner.get(f"/api/teams/{ventas['id']}").json()["member_count"] == 1


def test_unknown_users_and_teams_are_404(
    owner: TestClient, session: Session, container: Container, world: World
) -> None:
    # CRM-WS-01: a user or team of another workspace is not found.
    other = seed_world(session, container.hasher, name="Other")
    theirs = teams.create_team(session, principal(other.workspace, other.owner), name="Theirs")
    session.commit()
    ventas = _create(owner, "Ventas")
    assert_error(owner.post(f"/api/teams/{ventas['id']}/members", json={"user_id": other.agent.id}), 404)
    assert_error(owner.post(f"/api/teams/{theirs.id}/members", json={"user_id": world.agent.id}), 404)
    assert_error(owner.patch(f"/api/teams/{theirs.id}", json={"name": "Mine"}), 404, "not_found")
    assert_error(owner.delete(f"/api/teams/{theirs.id}"), 404, "not_found")
    assert_error(owner.get(f"/api/teams/{theirs.id}"), 404, "not_found")
    assert _teams(session, other.workspace.id) == [("Theirs", "")]
    assert _team_of(session, world, world.agent.id) is None
    assert session.get(Membership, (world.workspace.id, other.agent.id)) is None


@pytest.mark.parametrize("path", ["/api/teams/99999999999999999999", "/api/teams/0", "/api/teams/-1"])
def test_ids_outside_the_id_range_are_422_not_500(owner: TestClient, path: str) -> None:
    # Ids are BIGINT: a larger number used to reach SQLite and fail with OverflowError (a 500).
    body = assert_error(owner.get(path), 422, "validation_error")
    assert body["details"][0]["field"] == "path.team_id"
    assert_error(owner.delete(path), 422, "validation_error")


def test_member_user_id_outside_the_id_range_is_422(
    owner: TestClient, session: Session, world: World
) -> None:
    ventas = _create(owner, "Ventas")
    response = owner.post(f"/api/teams/{ventas['id']}/members", json={"user_id": 2**70})
    assert [d["field"] for d in assert_error(response, 422, "validation_error")["details"]] == ["user_id"]
    wrong_type = owner.post(f"/api/teams/{ventas['id']}/members", json={"user_id": "me", "move": "maybe"})
    fields = [d["field"] for d in assert_error(wrong_type, 422, "validation_error")["details"]]
    assert fields == ["user_id", "move"]
    assert owner.get(f"/api/teams/{ventas['id']}").json()["member_count"] == 0


def test_deleting_a_team_leaves_members_teamless(owner: TestClient, session: Session, world: World) -> None:
    # CRM-TEAM-02: members stay in the workspace without a team.
    ventas = _create(owner, "Ventas")
    owner.post(f"/api/teams/{ventas['id']}/members", json={"user_id": world.agent.id})
    assert owner.delete(f"/api/teams/{ventas['id']}").status_code == 204
    assert _teams(session, world.workspace.id) == []
    assert _team_of(session, world, world.agent.id) is None
    assert_error(owner.get(f"/api/teams/{ventas['id']}"), 404, "not_found")
    user = owner.get(f"/api/users/{world.agent.id}")
    assert user.status_code == 200, user.text


@pytest.mark.parametrize("role", ["agent", "restricted_manager"])
def test_agents_and_restricted_managers_get_403(
    owner: TestClient,
    make_client: MakeClient,
    session: Session,
    container: Container,
    world: World,
    role: str,
) -> None:
    # CRM-ROLE-01, CRM-ROLE-02 (restrict_space_setting): teams are workspace settings.
    ventas = _create(owner, "Ventas")
    owner.post(f"/api/teams/{ventas['id']}/members", json={"user_id": world.agent.id})
    if role == "agent":
        user, error = world.agent, "role_required"
    else:
        user = make_member(
            session,
            container.hasher,
            workspace=world.workspace,
            role="manager",
            restrictions=Restrictions(restrict_space_setting=True),
        )
        session.commit()
        error = "restricted"
    caller = make_client()
    login(caller, user)
    team_url = f"/api/teams/{ventas['id']}"
    assert_error(caller.post("/api/teams", json={"name": "Nuevo"}), 403, error)
    assert_error(caller.patch(team_url, json={"name": "Renamed"}), 403, error)
    assert_error(caller.delete(team_url), 403, error)
    assert_error(
        caller.post(f"{team_url}/members", json={"user_id": world.manager.id, "move": True}), 403, error
    )
    assert_error(caller.delete(f"{team_url}/members/{world.agent.id}"), 403, error)
    # Reading stays open to every role.
    assert [t["name"] for t in caller.get("/api/teams").json()] == ["Ventas"]
    assert caller.get(team_url).json()["member_count"] == 1
    assert _teams(session, world.workspace.id) == [("Ventas", "")]
    assert _team_of(session, world, world.agent.id) == ventas["id"]
    assert _team_of(session, world, world.manager.id) is None


def test_manager_manages_teams(make_client: MakeClient, session: Session, world: World) -> None:
    # CRM-ROLE-01: an unrestricted Manager has workspace settings.
    manager = make_client()
    login(manager, world.manager)
    ventas = _create(manager, "Ventas")
    assert (
        manager.post(f"/api/teams/{ventas['id']}/members", json={"user_id": world.agent.id}).status_code
        == 200
    )
    assert manager.patch(f"/api/teams/{ventas['id']}", json={"description": "d"}).status_code == 200
    assert _teams(session, world.workspace.id) == [("Ventas", "d")]
    assert _team_of(session, world, world.agent.id) == ventas["id"]


def test_teams_need_a_signed_in_caller(client: TestClient, session: Session, world: World) -> None:
    assert_error(client.get("/api/teams"), 401, "unauthenticated")
    assert_error(client.post("/api/teams", json={"name": "Ventas"}), 401, "unauthenticated")
    assert _teams(session, world.workspace.id) == []
