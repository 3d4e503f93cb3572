"""Teams (CRM-TEAM): at most 100 per workspace, a user in at most one team."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from convoflow.accounts.models import Membership, Workspace
from convoflow.accounts.principal import Principal
from convoflow.db.session import now
from convoflow.errors import Conflict, NotFound
from convoflow.teams.models import Team
from convoflow.validators import fold
from convoflow.workflows import references
from convoflow.workflows.assignment_queue import requeue_assignments

MAX_TEAMS = 100


def get_team(session: Session, *, workspace_id: int, team_id: int) -> Team:
    team = session.scalar(select(Team).where(Team.id == team_id, Team.workspace_id == workspace_id))
    if team is None:
        raise NotFound("Team not found")
    return team


def list_teams(session: Session, *, workspace_id: int) -> Sequence[tuple[Team, int]]:
    """Teams with their active member counts, by name."""
    members = (
        select(Membership.team_id, func.count().label("n"))
        .where(Membership.workspace_id == workspace_id, Membership.deactivated_at.is_(None))
        .group_by(Membership.team_id)
        .subquery()
    )
    rows = session.execute(
        select(Team, func.coalesce(members.c.n, 0))
        .outerjoin(members, members.c.team_id == Team.id)
        .where(Team.workspace_id == workspace_id)
        .order_by(Team.name_norm)
    )
    return [(team, int(count)) for team, count in rows]


def _check_name_free(session: Session, workspace_id: int, name: str, *, except_id: int | None = None) -> None:
    query = select(Team.id).where(Team.workspace_id == workspace_id, Team.name_norm == fold(name))
    if except_id is not None:
        query = query.where(Team.id != except_id)
    if session.scalar(query) is not None:
        raise Conflict(f"A team named {name!r} already exists", error="team_name_taken")


def create_team(session: Session, principal: Principal, *, name: str, description: str = "") -> Team:
    principal.require_manager("restrict_space_setting")
    session.scalar(select(Workspace.id).where(Workspace.id == principal.workspace_id).with_for_update())
    count = session.scalar(
        select(func.count()).select_from(Team).where(Team.workspace_id == principal.workspace_id)
    )
    if (count or 0) >= MAX_TEAMS:
        raise Conflict(f"Team limit reached ({MAX_TEAMS})", error="team_limit_reached")
    _check_name_free(session, principal.workspace_id, name)
    team = Team(
        workspace_id=principal.workspace_id,
        name=name,
        name_norm=fold(name),
        description=description,
        created_at=now(session),
    )
    session.add(team)
    session.flush()
    return team


def update_team(
    session: Session, principal: Principal, *, team_id: int, name: str | None, description: str | None
) -> Team:
    principal.require_manager("restrict_space_setting")
    team = get_team(session, workspace_id=principal.workspace_id, team_id=team_id)
    if name is not None:
        _check_name_free(session, principal.workspace_id, name, except_id=team.id)
        team.name, team.name_norm = name, fold(name)
    if description is not None:
        team.description = description
    session.flush()
    return team


def delete_team(session: Session, principal: Principal, *, team_id: int) -> None:
    """Members become teamless (the foreign key sets their team to null). Refused while a published
    workflow names the team (CRM-TEAM-04)."""
    principal.require_manager("restrict_space_setting")
    team = get_team(session, workspace_id=principal.workspace_id, team_id=team_id)
    references.refuse_if_used(
        references.published_users_of(
            session, workspace_id=team.workspace_id, kind="team", object_id=team.id
        ),
        f"Team {team.name!r}",
    )
    session.delete(team)
    session.flush()


def _membership(session: Session, workspace_id: int, user_id: int) -> Membership:
    membership = session.get(Membership, (workspace_id, user_id))
    if membership is None:
        raise NotFound("User not found")
    return membership


def add_member(
    session: Session, principal: Principal, *, team_id: int, user_id: int, move: bool
) -> Membership:
    """CRM-TEAM-02: a user in another team is moved only when the caller confirms with `move`."""
    principal.require_manager("restrict_space_setting")
    team = get_team(session, workspace_id=principal.workspace_id, team_id=team_id)
    membership = _membership(session, principal.workspace_id, user_id)
    if membership.team_id == team.id:
        return membership
    if membership.team_id is not None and not move:
        current = get_team(session, workspace_id=principal.workspace_id, team_id=membership.team_id)
        raise Conflict(
            f"This user is already in team {current.name!r}; confirm to move them",
            error="user_in_other_team",
            details={"team": {"id": current.id, "name": current.name}},
        )
    membership.team_id = team.id
    session.flush()
    requeue_assignments(session, workspace_ids=[principal.workspace_id])  # WF-STEP-ASSIGN-05
    return membership


def remove_member(session: Session, principal: Principal, *, team_id: int, user_id: int) -> None:
    principal.require_manager("restrict_space_setting")
    team = get_team(session, workspace_id=principal.workspace_id, team_id=team_id)
    membership = _membership(session, principal.workspace_id, user_id)
    if membership.team_id != team.id:
        raise NotFound("This user is not in the team")
    membership.team_id = None
    session.flush()
