"""Teams service: the per-workspace limit, names, members in at most one team, permissions (CRM-TEAM)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from convoflow.accounts.models import Membership
from convoflow.accounts.principal import Restrictions
from convoflow.bootstrap import Container
from convoflow.errors import Conflict, NotFound, PermissionDenied
from convoflow.teams import service as teams
from convoflow.teams.models import Team
from convoflow.testing.clock import FakeClock
from convoflow.testing.factories import make_member, principal
from tests.support import World, events_of, seed_world


@pytest.fixture
def world(session: Session, container: Container) -> World:
    return seed_world(session, container.hasher)


def _team_rows(session: Session, workspace_id: int) -> list[tuple[str, str, str]]:
    session.expire_all()
    rows = session.execute(
        select(Team.name, Team.name_norm, Team.description)
        .where(Team.workspace_id == workspace_id)
        .order_by(Team.id)
    )
    return [(name, norm, description) for name, norm, description in rows]


def _team_of(session: Session, world: World, user_id: int) -> int | None:
    session.expire_all()
    membership = session.get(Membership, (world.workspace.id, user_id))
    assert membership is not None
    return membership.team_id


def test_create_team_stores_name_key_description_and_clock_time(
    session: Session, world: World, clock: FakeClock
) -> None:
    # CRM-TEAM-01
    team = teams.create_team(
        session, principal(world.workspace, world.owner), name="Ventas", description="Sales"
    )
    session.commit()
    assert team.created_at == clock.now()
    assert _team_rows(session, world.workspace.id) == [("Ventas", "ventas", "Sales")]
    # Teams are workspace settings, not contact data: no domain event is written.
    assert events_of(session, workspace_id=world.workspace.id) == []


def test_team_limit_counts_only_the_own_workspace(
    session: Session, container: Container, world: World
) -> None:
    # CRM-TEAM-01: 100 teams per workspace; another workspace's teams do not count.
    other = seed_world(session, container.hasher, name="Other")
    owner = principal(world.workspace, world.owner)
    for n in range(teams.MAX_TEAMS):
        teams.create_team(session, owner, name=f"Team {n}")
    session.commit()
    with pytest.raises(Conflict) as refused:
        teams.create_team(session, owner, name="One too many")
    assert refused.value.error == "team_limit_reached"
    session.rollback()
    teams.create_team(session, principal(other.workspace, other.owner), name="Team 0")
    session.commit()
    assert len(_team_rows(session, world.workspace.id)) == teams.MAX_TEAMS
    assert _team_rows(session, other.workspace.id) == [("Team 0", "team 0", "")]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Soporte", "SOPORTE"),
        ("Équipe", "éQUIPE"),
        ("Straße", "STRASSE"),  # casefold, not lower()
        ("Caf\u00e9", "Cafe\u0301"),  # the same name composed and decomposed (NFC)
    ],
)
def test_team_names_are_unique_ignoring_case(session: Session, world: World, first: str, second: str) -> None:
    # CRM-TEAM-01
    owner = principal(world.workspace, world.owner)
    teams.create_team(session, owner, name=first)
    session.commit()
    with pytest.raises(Conflict) as refused:
        teams.create_team(session, owner, name=second)
    assert refused.value.error == "team_name_taken"
    session.rollback()
    assert [name for name, _, _ in _team_rows(session, world.workspace.id)] == [first]


def test_same_team_name_in_two_workspaces_is_allowed(
    session: Session, container: Container, world: World
) -> None:
    # CRM-WS-01, CRM-TEAM-01: uniqueness is per workspace.
    other = seed_world(session, container.hasher, name="Other")
    teams.create_team(session, principal(world.workspace, world.owner), name="Soporte")
    teams.create_team(session, principal(other.workspace, other.owner), name="soporte")
    session.commit()
    assert [n for n, _, _ in _team_rows(session, world.workspace.id)] == ["Soporte"]
    assert [n for n, _, _ in _team_rows(session, other.workspace.id)] == ["soporte"]


def test_rename_keeps_own_name_in_another_case_but_refuses_a_taken_one(
    session: Session, world: World
) -> None:
    # CRM-TEAM-01
    owner = principal(world.workspace, world.owner)
    ventas = teams.create_team(session, owner, name="Ventas")
    teams.create_team(session, owner, name="Soporte")
    session.commit()
    teams.update_team(session, owner, team_id=ventas.id, name="VENTAS", description=None)
    session.commit()
    with pytest.raises(Conflict) as refused:
        teams.update_team(session, owner, team_id=ventas.id, name="soporte", description="x")
    assert refused.value.error == "team_name_taken"
    session.rollback()
    assert _team_rows(session, world.workspace.id) == [("VENTAS", "ventas", ""), ("Soporte", "soporte", "")]


def test_update_of_a_team_in_another_workspace_is_not_found(
    session: Session, container: Container, world: World
) -> None:
    # CRM-WS-01
    other = seed_world(session, container.hasher, name="Other")
    theirs = teams.create_team(session, principal(other.workspace, other.owner), name="Theirs")
    session.commit()
    mine = principal(world.workspace, world.owner)
    with pytest.raises(NotFound):
        teams.update_team(session, mine, team_id=theirs.id, name="Mine", description=None)
    with pytest.raises(NotFound):
        teams.delete_team(session, mine, team_id=theirs.id)
    session.rollback()
    assert _team_rows(session, other.workspace.id) == [("Theirs", "theirs", "")]


def test_user_in_another_team_is_moved_only_when_confirmed(session: Session, world: World) -> None:
    # CRM-TEAM-02: at most one team; moving needs a confirmation.
    owner = principal(world.workspace, world.owner)
    ventas = teams.create_team(session, owner, name="Ventas")
    soporte = teams.create_team(session, owner, name="Soporte")
    teams.add_member(session, owner, team_id=ventas.id, user_id=world.agent.id, move=False)
    session.commit()
    with pytest.raises(Conflict) as refused:
        teams.add_member(session, owner, team_id=soporte.id, user_id=world.agent.id, move=False)
    assert refused.value.error == "user_in_other_team"
    assert refused.value.details == {"team": {"id": ventas.id, "name": "Ventas"}}
    session.rollback()
    assert _team_of(session, world, world.agent.id) == ventas.id

    teams.add_member(session, owner, team_id=soporte.id, user_id=world.agent.id, move=True)
    session.commit()
    assert _team_of(session, world, world.agent.id) == soporte.id
    counts = {team.name: n for team, n in teams.list_teams(session, workspace_id=world.workspace.id)}
    assert counts == {"Soporte": 1, "Ventas": 0}


def test_adding_a_member_twice_to_the_same_team_is_a_no_op(session: Session, world: World) -> None:
    # CRM-TEAM-02: already in this team needs no confirmation.
    owner = principal(world.workspace, world.owner)
    ventas = teams.create_team(session, owner, name="Ventas")
    teams.add_member(session, owner, team_id=ventas.id, user_id=world.agent.id, move=False)
    teams.add_member(session, owner, team_id=ventas.id, user_id=world.agent.id, move=False)
    session.commit()
    assert _team_of(session, world, world.agent.id) == ventas.id
    assert [(t.name, n) for t, n in teams.list_teams(session, workspace_id=world.workspace.id)] == [
        ("Ventas", 1)
    ]


def test_a_user_of_another_workspace_cannot_be_added(
    session: Session, container: Container, world: World
) -> None:
    # CRM-WS-01
    other = seed_world(session, container.hasher, name="Other")
    owner = principal(world.workspace, world.owner)
    ventas = teams.create_team(session, owner, name="Ventas")
    session.commit()
    with pytest.raises(NotFound):
        teams.add_member(session, owner, team_id=ventas.id, user_id=other.agent.id, move=True)
    session.rollback()
    assert session.get(Membership, (world.workspace.id, other.agent.id)) is None
    assert [(t.name, n) for t, n in teams.list_teams(session, workspace_id=world.workspace.id)] == [
        ("Ventas", 0)
    ]


def test_remove_member_makes_user_teamless_and_refuses_non_members(session: Session, world: World) -> None:
    # CRM-TEAM-02
    owner = principal(world.workspace, world.owner)
    ventas = teams.create_team(session, owner, name="Ventas")
    soporte = teams.create_team(session, owner, name="Soporte")
    teams.add_member(session, owner, team_id=ventas.id, user_id=world.agent.id, move=False)
    session.commit()
    with pytest.raises(NotFound):
        teams.remove_member(session, owner, team_id=soporte.id, user_id=world.agent.id)
    session.rollback()
    assert _team_of(session, world, world.agent.id) == ventas.id
    teams.remove_member(session, owner, team_id=ventas.id, user_id=world.agent.id)
    session.commit()
    assert _team_of(session, world, world.agent.id) is None


def test_deleting_a_team_leaves_its_members_teamless(session: Session, world: World) -> None:
    # CRM-TEAM-02: the members stay in the workspace, without a team.
    owner = principal(world.workspace, world.owner)
    ventas = teams.create_team(session, owner, name="Ventas")
    soporte = teams.create_team(session, owner, name="Soporte")
    teams.add_member(session, owner, team_id=ventas.id, user_id=world.agent.id, move=False)
    teams.add_member(session, owner, team_id=ventas.id, user_id=world.manager.id, move=False)
    teams.add_member(session, owner, team_id=soporte.id, user_id=world.owner.id, move=False)
    session.commit()
    teams.delete_team(session, owner, team_id=ventas.id)
    session.commit()
    assert _team_of(session, world, world.agent.id) is None
    assert _team_of(session, world, world.manager.id) is None
    assert _team_of(session, world, world.owner.id) == soporte.id
    assert [n for n, _, _ in _team_rows(session, world.workspace.id)] == ["Soporte"]


def test_member_count_ignores_deactivated_members_and_teams_list_by_name(
    session: Session, container: Container, world: World, clock: FakeClock
) -> None:
    # CRM-TEAM-01 list, CRM-USER-03: a deactivated user is not counted.
    owner = principal(world.workspace, world.owner)
    zeta = teams.create_team(session, owner, name="zeta")
    alfa = teams.create_team(session, owner, name="Alfa")
    teams.add_member(session, owner, team_id=zeta.id, user_id=world.agent.id, move=False)
    gone = make_member(session, container.hasher, workspace=world.workspace, team_id=zeta.id)
    membership = session.get(Membership, (world.workspace.id, gone.id))
    assert membership is not None
    membership.deactivated_at = clock.now()
    session.commit()
    listed = [(t.id, n) for t, n in teams.list_teams(session, workspace_id=world.workspace.id)]
    assert listed == [(alfa.id, 0), (zeta.id, 1)]


@pytest.mark.parametrize(
    ("role", "restrictions", "error"),
    [
        ("agent", None, "role_required"),
        ("manager", Restrictions(restrict_space_setting=True), "restricted"),
    ],
)
def test_agents_and_restricted_managers_cannot_manage_teams(
    session: Session, world: World, role: str, restrictions: Restrictions | None, error: str
) -> None:
    # CRM-ROLE-01, CRM-ROLE-02: teams are workspace settings.
    owner = principal(world.workspace, world.owner)
    ventas = teams.create_team(session, owner, name="Ventas")
    teams.add_member(session, owner, team_id=ventas.id, user_id=world.agent.id, move=False)
    session.commit()
    if role == "agent":
        caller = principal(world.workspace, world.agent, role="agent")
    else:
        caller = principal(world.workspace, world.manager, role="manager", restrictions=restrictions)
    attempts: list[Callable[[], object]] = [
        lambda: teams.create_team(session, caller, name="Nuevo"),
        lambda: teams.update_team(session, caller, team_id=ventas.id, name="Renamed", description=None),
        lambda: teams.delete_team(session, caller, team_id=ventas.id),
        lambda: teams.add_member(session, caller, team_id=ventas.id, user_id=world.manager.id, move=True),
        lambda: teams.remove_member(session, caller, team_id=ventas.id, user_id=world.agent.id),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionDenied) as refused:
            attempt()
        assert refused.value.error == error
    session.rollback()
    assert _team_rows(session, world.workspace.id) == [("Ventas", "ventas", "")]
    assert _team_of(session, world, world.agent.id) == ventas.id
    assert _team_of(session, world, world.manager.id) is None


def test_unrestricted_manager_manages_teams(session: Session, world: World) -> None:
    # CRM-ROLE-01
    manager = principal(world.workspace, world.manager, role="manager")
    team = teams.create_team(session, manager, name="Ventas")
    teams.add_member(session, manager, team_id=team.id, user_id=world.agent.id, move=False)
    session.commit()
    total = session.scalar(
        select(func.count()).select_from(Team).where(Team.workspace_id == world.workspace.id)
    )
    assert total == 1
    assert _team_of(session, world, world.agent.id) == team.id
