"""/api/workspace, /api/users, /api/invitations, /api/api-tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from convoflow.accounts import invitations, tokens, users, workspaces
from convoflow.accounts.principal import Restrictions
from convoflow.accounts.schemas import (
    ApiTokenCreate,
    ApiTokenCreated,
    ApiTokenRead,
    InvitationCreate,
    InvitationCreated,
    InvitationRead,
    MemberRead,
    MemberUpdate,
    WorkspaceRead,
    WorkspaceUpdate,
)
from convoflow.api.deps import ContainerDep, PrincipalDep, SessionDep
from convoflow.api.ids import Id
from convoflow.bootstrap import Container

router = APIRouter(tags=["workspace"])


def member_read(member: users.Member, container: Container) -> MemberRead:
    user, membership = member.user, member.membership
    return MemberRead(
        id=user.id,
        email=user.email,
        first_name=user.first_name,
        last_name=user.last_name,
        role=membership.role,
        restrictions=Restrictions.model_validate(membership.restrictions),
        team_id=membership.team_id,
        availability=users.availability(user, container.clock.now()),
        last_seen_at=user.last_seen_at,
        deactivated=membership.deactivated_at is not None,
    )


@router.get("/workspace", response_model=WorkspaceRead)
def get_workspace(principal: PrincipalDep, session: SessionDep) -> WorkspaceRead:
    return WorkspaceRead.model_validate(workspaces.get_workspace(session, principal.workspace_id))


@router.patch("/workspace", response_model=WorkspaceRead)
def update_workspace(body: WorkspaceUpdate, principal: PrincipalDep, session: SessionDep) -> WorkspaceRead:
    workspace = workspaces.update_workspace(
        session, principal, name=body.name, timezone=body.timezone, settings_patch=body.settings_patch()
    )
    session.commit()
    return WorkspaceRead.model_validate(workspace)


@router.delete("/workspace", status_code=204)
def delete_workspace(principal: PrincipalDep, session: SessionDep) -> None:
    workspaces.delete_workspace(session, principal)
    session.commit()


@router.get("/users", response_model=list[MemberRead])
def list_users(
    principal: PrincipalDep,
    session: SessionDep,
    container: ContainerDep,
    include_deactivated: bool = False,
    team_id: Annotated[Id | None, Query()] = None,
) -> list[MemberRead]:
    members = users.list_members(
        session, workspace_id=principal.workspace_id, include_deactivated=include_deactivated, team_id=team_id
    )
    return [member_read(member, container) for member in members]


@router.get("/users/{user_id}", response_model=MemberRead)
def get_user(
    user_id: Id, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> MemberRead:
    return member_read(
        users.get_member(session, workspace_id=principal.workspace_id, user_id=user_id), container
    )


@router.patch("/users/{user_id}", response_model=MemberRead)
def update_user(
    user_id: Id, body: MemberUpdate, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> MemberRead:
    member = users.update_member(
        session, principal, user_id=user_id, role=body.role, restrictions=body.restrictions
    )
    session.commit()
    return member_read(member, container)


@router.post("/users/{user_id}/deactivate", response_model=MemberRead)
def deactivate_user(
    user_id: Id, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> MemberRead:
    member = users.deactivate_member(session, principal, user_id=user_id)
    session.commit()
    return member_read(member, container)


@router.post("/users/{user_id}/activate", response_model=MemberRead)
def activate_user(
    user_id: Id, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> MemberRead:
    member = users.activate_member(session, principal, user_id=user_id)
    session.commit()
    return member_read(member, container)


@router.delete("/users/{user_id}", status_code=204)
def remove_user(user_id: Id, principal: PrincipalDep, session: SessionDep) -> None:
    users.remove_member(session, principal, user_id=user_id)
    session.commit()


@router.get("/invitations", response_model=list[InvitationRead])
def list_invitations(principal: PrincipalDep, session: SessionDep) -> list[InvitationRead]:
    return [InvitationRead.model_validate(i) for i in invitations.list_pending(session, principal)]


@router.post("/invitations", response_model=InvitationCreated, status_code=201)
def create_invitation(
    body: InvitationCreate, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> InvitationCreated:
    created = invitations.create_invitation(
        session,
        principal,
        email=body.email,
        role=body.role,
        team_id=body.team_id,
        valid_days=container.settings.invitation_days,
    )
    session.commit()
    return InvitationCreated(
        invitation=InvitationRead.model_validate(created.invitation), token=created.token
    )


@router.delete("/invitations/{invitation_id}", status_code=204)
def revoke_invitation(invitation_id: Id, principal: PrincipalDep, session: SessionDep) -> None:
    invitations.revoke_invitation(session, principal, invitation_id=invitation_id)
    session.commit()


@router.get("/api-tokens", response_model=list[ApiTokenRead])
def list_api_tokens(principal: PrincipalDep, session: SessionDep) -> list[ApiTokenRead]:
    return [ApiTokenRead.model_validate(t) for t in tokens.list_tokens(session, principal)]


@router.post("/api-tokens", response_model=ApiTokenCreated, status_code=201)
def create_api_token(body: ApiTokenCreate, principal: PrincipalDep, session: SessionDep) -> ApiTokenCreated:
    created = tokens.create_token(session, principal, name=body.name, expires_in_days=body.expires_in_days)
    session.commit()
    return ApiTokenCreated(token=ApiTokenRead.model_validate(created.token), secret=created.secret)


@router.delete("/api-tokens/{token_id}", response_model=ApiTokenRead)
def revoke_api_token(token_id: Id, principal: PrincipalDep, session: SessionDep) -> ApiTokenRead:
    token = tokens.revoke_token(session, principal, token_id=token_id)
    session.commit()
    return ApiTokenRead.model_validate(token)
