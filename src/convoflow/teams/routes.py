"""/api/teams."""

from __future__ import annotations

from fastapi import APIRouter

from convoflow.api.deps import PrincipalDep, SessionDep
from convoflow.api.ids import Id
from convoflow.teams import service
from convoflow.teams.models import Team
from convoflow.teams.schemas import TeamCreate, TeamMemberAdd, TeamRead, TeamUpdate

router = APIRouter(tags=["teams"])


def _read(team: Team, member_count: int) -> TeamRead:
    return TeamRead(
        id=team.id,
        name=team.name,
        description=team.description,
        member_count=member_count,
        created_at=team.created_at,
    )


def _read_one(session: SessionDep, workspace_id: int, team_id: int) -> TeamRead:
    for team, count in service.list_teams(session, workspace_id=workspace_id):
        if team.id == team_id:
            return _read(team, count)
    raise AssertionError("team vanished inside its own transaction")


@router.get("/teams", response_model=list[TeamRead])
def list_teams(principal: PrincipalDep, session: SessionDep) -> list[TeamRead]:
    return [
        _read(team, count) for team, count in service.list_teams(session, workspace_id=principal.workspace_id)
    ]


@router.post("/teams", response_model=TeamRead, status_code=201)
def create_team(body: TeamCreate, principal: PrincipalDep, session: SessionDep) -> TeamRead:
    team = service.create_team(session, principal, name=body.name, description=body.description)
    session.commit()
    return _read(team, 0)


@router.get("/teams/{team_id}", response_model=TeamRead)
def get_team(team_id: Id, principal: PrincipalDep, session: SessionDep) -> TeamRead:
    service.get_team(session, workspace_id=principal.workspace_id, team_id=team_id)
    return _read_one(session, principal.workspace_id, team_id)


@router.patch("/teams/{team_id}", response_model=TeamRead)
def update_team(team_id: Id, body: TeamUpdate, principal: PrincipalDep, session: SessionDep) -> TeamRead:
    service.update_team(session, principal, team_id=team_id, name=body.name, description=body.description)
    session.commit()
    return _read_one(session, principal.workspace_id, team_id)


@router.delete("/teams/{team_id}", status_code=204)
def delete_team(team_id: Id, principal: PrincipalDep, session: SessionDep) -> None:
    service.delete_team(session, principal, team_id=team_id)
    session.commit()


@router.post("/teams/{team_id}/members", response_model=TeamRead)
def add_team_member(
    team_id: Id, body: TeamMemberAdd, principal: PrincipalDep, session: SessionDep
) -> TeamRead:
    service.add_member(session, principal, team_id=team_id, user_id=body.user_id, move=body.move)
    session.commit()
    return _read_one(session, principal.workspace_id, team_id)


@router.delete("/teams/{team_id}/members/{user_id}", response_model=TeamRead)
def remove_team_member(team_id: Id, user_id: Id, principal: PrincipalDep, session: SessionDep) -> TeamRead:
    service.remove_member(session, principal, team_id=team_id, user_id=user_id)
    session.commit()
    return _read_one(session, principal.workspace_id, team_id)
