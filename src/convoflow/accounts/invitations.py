"""Invitations by email (CRM-USER-01): a link valid 7 days, accepted once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from convoflow.accounts import credentials, users
from convoflow.accounts.models import Invitation, Membership, User
from convoflow.accounts.passwords import PasswordHasher
from convoflow.accounts.principal import Principal, Role
from convoflow.db.session import now
from convoflow.errors import Conflict, NotFound, PermissionDenied, field_error
from convoflow.teams import service as teams
from convoflow.validators import normalise_email


@dataclass(frozen=True, slots=True)
class NewInvitation:
    invitation: Invitation
    token: str  # goes into the link, never stored


@dataclass(frozen=True, slots=True)
class Accepted:
    user: User
    membership: Membership


def create_invitation(
    session: Session, principal: Principal, *, email: str, role: Role, team_id: int | None, valid_days: int
) -> NewInvitation:
    principal.require_manager("restrict_space_setting")
    inviter = principal.require_user()
    if role == "owner":
        principal.require_owner()
    try:
        email = normalise_email(email)
    except ValueError as exc:
        raise field_error("email", str(exc)) from None
    if team_id is not None:
        teams.get_team(session, workspace_id=principal.workspace_id, team_id=team_id)
    already = session.scalar(
        select(Membership.user_id)
        .join(User, User.id == Membership.user_id)
        .where(Membership.workspace_id == principal.workspace_id, User.email == email)
    )
    if already is not None:
        raise Conflict("This person is already a member of the workspace", error="already_member")
    at = now(session)
    for pending in session.scalars(_pending(principal.workspace_id, email, at)):
        pending.revoked_at = at  # a new invitation replaces older ones
    token = credentials.new_secret()
    invitation = Invitation(
        workspace_id=principal.workspace_id,
        email=email,
        role=role,
        team_id=team_id,
        token_hash=credentials.digest(token),
        invited_by=inviter,
        created_at=at,
        expires_at=at + timedelta(days=valid_days),
    )
    session.add(invitation)
    session.flush()
    return NewInvitation(invitation, token)


def _pending(workspace_id: int, email: str | None, at: datetime) -> Select[Invitation]:
    query = select(Invitation).where(
        Invitation.workspace_id == workspace_id,
        Invitation.accepted_at.is_(None),
        Invitation.revoked_at.is_(None),
        Invitation.expires_at > at,
    )
    return query if email is None else query.where(Invitation.email == email)


def list_pending(session: Session, principal: Principal) -> Sequence[Invitation]:
    principal.require_manager("restrict_space_setting")
    principal.require_user()  # decisions.md: invitations are managed by people, not API tokens
    return session.scalars(_pending(principal.workspace_id, None, now(session)).order_by(Invitation.id)).all()


def revoke_invitation(session: Session, principal: Principal, *, invitation_id: int) -> None:
    principal.require_manager("restrict_space_setting")
    principal.require_user()
    invitation = session.scalar(
        select(Invitation).where(
            Invitation.id == invitation_id, Invitation.workspace_id == principal.workspace_id
        )
    )
    if invitation is None or invitation.accepted_at is not None:
        raise NotFound("Invitation not found")
    invitation.revoked_at = invitation.revoked_at or now(session)
    session.flush()


def accept_invitation(
    session: Session,
    *,
    token: str,
    first_name: str,
    last_name: str,
    password: str,
    hasher: PasswordHasher,
) -> Accepted:
    """Creates the account (or, for an existing one, checks its password) and joins the workspace."""
    invitation = session.scalar(select(Invitation).where(Invitation.token_hash == credentials.digest(token)))
    at = now(session)
    if invitation is None or invitation.revoked_at is not None or invitation.accepted_at is not None:
        raise NotFound("This invitation is not valid", error="invitation_invalid")
    if invitation.expires_at <= at:
        raise NotFound("This invitation has expired", error="invitation_expired")
    user = users.find_user_by_email(session, invitation.email)
    if user is None:
        user = users.create_user(
            session,
            email=invitation.email,
            first_name=first_name,
            last_name=last_name,
            password=password,
            hasher=hasher,
        )
    elif not hasher.verify(user.password_hash, password):
        raise PermissionDenied(
            "An account with this email exists; enter its password to accept", error="wrong_password"
        )
    membership = users.add_member(
        session,
        workspace_id=invitation.workspace_id,
        user_id=user.id,
        role=invitation.role,  # type: ignore[arg-type]
        team_id=invitation.team_id,
    )
    invitation.accepted_at = at
    session.flush()
    return Accepted(user, membership)
