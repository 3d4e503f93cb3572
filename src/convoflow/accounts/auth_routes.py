"""/api/auth and /api/me: signing in and out, the current user and workspace."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from convoflow.accounts import auth, invitations, users, workspaces
from convoflow.accounts.models import User
from convoflow.accounts.principal import Restrictions
from convoflow.accounts.schemas import (
    AvailabilityUpdate,
    InvitationAccept,
    LoginRequest,
    LoginResponse,
    MembershipRead,
    MeRead,
    PasswordChange,
    ProfileUpdate,
    SwitchWorkspace,
    UserRead,
    WorkspaceCreate,
    WorkspaceRead,
    WorkspaceSummary,
)
from convoflow.accounts.workspace_settings import WorkspaceSettings
from convoflow.api.deps import CSRF_COOKIE, SESSION_COOKIE, ContainerDep, SessionDep, SignedInDep
from convoflow.bootstrap import Container
from convoflow.errors import PermissionDenied, Unauthenticated

router = APIRouter(tags=["auth"])


def me_read(session: Session, user: User, workspace_id: int | None, container: Container) -> MeRead:
    # Re-read: the request may just have refreshed last_seen_at (CRM-USER-02) after `user` was loaded.
    user = users.find_user(session, user.id) or user
    rows = auth.active_workspaces(session, user.id)
    current = next(((w, m) for w, m in rows if w.id == workspace_id), None)
    return MeRead(
        user=UserRead.model_validate(user),
        availability=users.availability(user, container.clock.now()),
        workspace=None if current is None else WorkspaceRead.model_validate(current[0]),
        membership=None
        if current is None
        else MembershipRead(
            role=current[1].role,
            restrictions=Restrictions.model_validate(current[1].restrictions),
            team_id=current[1].team_id,
        ),
        workspaces=[WorkspaceSummary(id=w.id, name=w.name, role=m.role) for w, m in rows],
    )


def _set_cookies(response: Response, container: Container, new_login: auth.NewLogin) -> None:
    max_age = container.settings.session_days * 86400
    secure = container.settings.cookie_secure
    response.set_cookie(
        SESSION_COOKIE,
        new_login.token,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )
    # Readable by the web app, which echoes it in X-CSRF-Token; a cross-site page can read neither.
    response.set_cookie(
        CSRF_COOKIE,
        new_login.csrf_token,
        max_age=max_age,
        httponly=False,
        samesite="lax",
        secure=secure,
        path="/",
    )


@router.post("/auth/login", response_model=LoginResponse)
def login(body: LoginRequest, request: Request, response: Response, container: ContainerDep) -> LoginResponse:
    throttle = container.login_throttle
    key = (request.client.host if request.client else "-", body.email.strip().lower())
    throttle.check(key)
    with container.db.session() as session:
        try:
            user, new_login = auth.login(
                session,
                email=body.email,
                password=body.password,
                hasher=container.hasher,
                session_days=container.settings.session_days,
            )
        except (Unauthenticated, PermissionDenied):
            throttle.failed(key)
            raise
        session.commit()
        throttle.succeeded(key)
        me = me_read(session, user, new_login.login.workspace_id, container)
    _set_cookies(response, container, new_login)
    return LoginResponse(**me.model_dump(), csrf_token=new_login.csrf_token)


@router.post("/auth/logout", status_code=204)
def logout(signed_in: SignedInDep, session: SessionDep, response: Response) -> None:
    auth.logout(session, login_id=signed_in.login.id)
    session.commit()
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")


@router.post("/auth/accept-invitation", response_model=LoginResponse)
def accept_invitation(body: InvitationAccept, response: Response, container: ContainerDep) -> LoginResponse:
    """Joins the invitation's workspace (creating the account if needed) and signs in to it."""
    with container.db.session() as session:
        accepted = invitations.accept_invitation(
            session,
            token=body.token,
            first_name=body.first_name,
            last_name=body.last_name,
            password=body.password,
            hasher=container.hasher,
        )
        new_login = auth.start_session(
            session,
            user=accepted.user,
            session_days=container.settings.session_days,
            workspace_id=accepted.membership.workspace_id,
        )
        session.commit()
        me = me_read(session, accepted.user, new_login.login.workspace_id, container)
    _set_cookies(response, container, new_login)
    return LoginResponse(**me.model_dump(), csrf_token=new_login.csrf_token)


@router.get("/me", response_model=MeRead)
def get_me(signed_in: SignedInDep, session: SessionDep, container: ContainerDep) -> MeRead:
    return me_read(session, signed_in.user, signed_in.login.workspace_id, container)


@router.patch("/me", response_model=MeRead)
def update_me(
    body: ProfileUpdate, signed_in: SignedInDep, session: SessionDep, container: ContainerDep
) -> MeRead:
    user = users.update_profile(
        session, user_id=signed_in.user.id, first_name=body.first_name, last_name=body.last_name
    )
    session.commit()
    return me_read(session, user, signed_in.login.workspace_id, container)


@router.post("/me/password", status_code=204)
def change_password(
    body: PasswordChange, signed_in: SignedInDep, session: SessionDep, container: ContainerDep
) -> None:
    users.change_password(
        session,
        user_id=signed_in.user.id,
        current_password=body.current_password,
        new_password=body.new_password,
        hasher=container.hasher,
        keep_login_id=signed_in.login.id,
    )
    session.commit()


@router.put("/me/workspace", response_model=MeRead)
def switch_workspace(
    body: SwitchWorkspace, signed_in: SignedInDep, session: SessionDep, container: ContainerDep
) -> MeRead:
    auth.switch_workspace(
        session, login_id=signed_in.login.id, user_id=signed_in.user.id, workspace_id=body.workspace_id
    )
    session.commit()
    return me_read(session, signed_in.user, body.workspace_id, container)


@router.put("/me/availability", response_model=MeRead)
def set_availability(
    body: AvailabilityUpdate, signed_in: SignedInDep, session: SessionDep, container: ContainerDep
) -> MeRead:
    user = users.set_presence(session, user_id=signed_in.user.id, presence=body.availability)
    session.commit()
    return me_read(session, user, signed_in.login.workspace_id, container)


@router.post("/workspaces", response_model=MeRead, status_code=201)
def create_workspace(
    body: WorkspaceCreate, signed_in: SignedInDep, session: SessionDep, container: ContainerDep
) -> MeRead:
    """Creates a workspace owned by the caller (CRM-WS-03) and switches to it."""
    workspace = workspaces.create_workspace(
        session,
        name=body.name,
        owner_user_id=signed_in.user.id,
        timezone=body.timezone,
        settings=WorkspaceSettings(language=body.language),
    )
    auth.switch_workspace(
        session, login_id=signed_in.login.id, user_id=signed_in.user.id, workspace_id=workspace.id
    )
    session.commit()
    return me_read(session, signed_in.user, workspace.id, container)
