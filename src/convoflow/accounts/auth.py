"""Browser sign-in: login sessions with a CSRF secret, and turning a session into a Principal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from convoflow.accounts import credentials
from convoflow.accounts.models import LoginSession, Membership, User, Workspace
from convoflow.accounts.passwords import PasswordHasher
from convoflow.accounts.principal import Principal, Restrictions
from convoflow.db.session import now
from convoflow.errors import NotFound, PermissionDenied, Unauthenticated

TOUCH_EVERY = timedelta(minutes=1)  # how stale last_seen_at may get before a request refreshes it


@dataclass(frozen=True, slots=True)
class NewLogin:
    login: LoginSession
    token: str  # cookie value, never stored
    csrf_token: str  # sent back in X-CSRF-Token, never stored


@dataclass(frozen=True, slots=True)
class SignedIn:
    user: User
    login: LoginSession


def active_memberships(session: Session, user_id: int) -> list[Membership]:
    return list(
        session.scalars(
            select(Membership)
            .where(Membership.user_id == user_id, Membership.deactivated_at.is_(None))
            .order_by(Membership.created_at, Membership.workspace_id)
        )
    )


def active_workspaces(session: Session, user_id: int) -> list[tuple[Workspace, Membership]]:
    """The workspaces the user may act in, by name."""
    rows = session.execute(
        select(Workspace, Membership)
        .join(Membership, Membership.workspace_id == Workspace.id)
        .where(Membership.user_id == user_id, Membership.deactivated_at.is_(None))
        .order_by(Workspace.name)
    )
    return [(workspace, membership) for workspace, membership in rows]


def login(
    session: Session, *, email: str, password: str, hasher: PasswordHasher, session_days: int
) -> tuple[User, NewLogin]:
    """Checks the password and opens a session in the user's first active workspace."""
    wanted = email.strip().lower()
    # PostgreSQL refuses NUL in text; no stored (validated) email contains one, so it is simply unknown.
    user = None if "\x00" in wanted else session.scalar(select(User).where(User.email == wanted))
    if not hasher.verify(user.password_hash if user else None, password) or user is None:
        raise Unauthenticated("Wrong email or password", error="invalid_credentials")
    return user, start_session(session, user=user, session_days=session_days)


def start_session(
    session: Session, *, user: User, session_days: int, workspace_id: int | None = None
) -> NewLogin:
    """Opens a login session for an authenticated user, in `workspace_id` when they are active there,
    else in their first active workspace."""
    memberships = active_memberships(session, user.id)
    if not memberships:
        raise PermissionDenied("Your account is not active in any workspace", error="account_deactivated")
    chosen = next((m for m in memberships if m.workspace_id == workspace_id), memberships[0])
    at = now(session)
    token, csrf_token = credentials.new_secret(), credentials.new_secret()
    record = LoginSession(
        user_id=user.id,
        workspace_id=chosen.workspace_id,
        token_hash=credentials.digest(token),
        csrf_hash=credentials.digest(csrf_token),
        created_at=at,
        last_seen_at=at,
        expires_at=at + timedelta(days=session_days),
    )
    session.add(record)
    user.last_seen_at = at
    session.flush()
    return NewLogin(record, token, csrf_token)


def resolve(session: Session, token: str) -> SignedIn | None:
    """The live session behind a cookie value, or None when unknown or expired."""
    row = session.execute(
        select(LoginSession, User)
        .join(User, User.id == LoginSession.user_id)
        .where(LoginSession.token_hash == credentials.digest(token))
    ).first()
    if row is None or row[0].expires_at <= now(session):
        return None
    return SignedIn(user=row[1], login=row[0])


def needs_touch(signed_in: SignedIn, at: datetime) -> bool:
    return at - signed_in.login.last_seen_at >= TOUCH_EVERY


def touch(session: Session, *, login_id: int, user_id: int, session_days: int) -> None:
    """Slides the idle expiry and records the user as seen (CRM-USER-02 availability)."""
    at = now(session)
    session.execute(
        update(LoginSession)
        .where(LoginSession.id == login_id)
        .values(last_seen_at=at, expires_at=at + timedelta(days=session_days))
    )
    session.execute(update(User).where(User.id == user_id).values(last_seen_at=at))


def principal_for(session: Session, signed_in: SignedIn) -> Principal:
    """The signed-in user acting in the session's current workspace."""
    workspace_id = signed_in.login.workspace_id
    membership = None if workspace_id is None else session.get(Membership, (workspace_id, signed_in.user.id))
    if membership is None or membership.deactivated_at is not None:
        raise PermissionDenied(
            "You have no active membership in a workspace; choose another one", error="no_workspace"
        )
    return Principal(
        workspace_id=membership.workspace_id,
        role=membership.role,  # type: ignore[arg-type]
        restrictions=Restrictions.model_validate(membership.restrictions),
        user_id=signed_in.user.id,
        team_id=membership.team_id,
    )


def switch_workspace(session: Session, *, login_id: int, user_id: int, workspace_id: int) -> None:
    membership = session.get(Membership, (workspace_id, user_id))
    if membership is None or membership.deactivated_at is not None:
        raise NotFound("Workspace not found")
    session.execute(update(LoginSession).where(LoginSession.id == login_id).values(workspace_id=workspace_id))


def logout(session: Session, *, login_id: int) -> None:
    session.execute(delete(LoginSession).where(LoginSession.id == login_id))


def csrf_ok(signed_in: SignedIn, header_value: str | None) -> bool:
    return header_value is not None and credentials.matches(header_value, signed_in.login.csrf_hash)
