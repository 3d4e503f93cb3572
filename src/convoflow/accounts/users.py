"""Users and their memberships: roles, restrictions, deactivation, availability (CRM-USER, CRM-ROLE)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from convoflow.accounts.models import LoginSession, Membership, User
from convoflow.accounts.passwords import PasswordHasher, check_password_policy
from convoflow.accounts.principal import ManagerFlag, Principal, Restrictions, Role
from convoflow.accounts.workspaces import lock_workspace
from convoflow.contacts import assignment
from convoflow.db.session import now
from convoflow.errors import Conflict, NotFound, PermissionDenied, field_error
from convoflow.validators import normalise_email
from convoflow.workflows.assignment_queue import requeue_assignments

OFFLINE_AFTER = timedelta(minutes=10)  # CRM-USER-02
MANAGER_FLAGS: tuple[ManagerFlag, ...] = (
    "restrict_space_setting",
    "restrict_contact_deletion",
    "restrict_data_export",
    "restrict_space_integration",
)
Availability = Literal["online", "offline"]


@dataclass(frozen=True, slots=True)
class Member:
    user: User
    membership: Membership


def availability(user: User, at: datetime) -> Availability:
    """Online only while chosen and seen in the last 10 minutes (CRM-USER-02)."""
    if user.presence == "online" and user.last_seen_at is not None and at - user.last_seen_at < OFFLINE_AFTER:
        return "online"
    return "offline"


def find_user(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def create_user(
    session: Session, *, email: str, first_name: str, last_name: str, password: str, hasher: PasswordHasher
) -> User:
    try:
        email = normalise_email(email)
        check_password_policy(password)
    except ValueError as exc:
        raise field_error("email" if "email" in str(exc) else "password", str(exc)) from None
    if find_user_by_email(session, email) is not None:
        raise Conflict("A user with this email already exists", error="email_taken")
    user = User(
        email=email,
        first_name=first_name,
        last_name=last_name,
        password_hash=hasher.hash(password),
        presence="offline",
        created_at=now(session),
    )
    session.add(user)
    session.flush()
    return user


def add_member(
    session: Session, *, workspace_id: int, user_id: int, role: Role, team_id: int | None = None
) -> Membership:
    existing = session.get(Membership, (workspace_id, user_id))
    if existing is not None:
        raise Conflict("This user is already a member of the workspace", error="already_member")
    membership = Membership(
        workspace_id=workspace_id,
        user_id=user_id,
        role=role,
        restrictions=Restrictions().model_dump(),
        team_id=team_id,
        created_at=now(session),
    )
    session.add(membership)
    session.flush()
    return membership


def get_member(session: Session, *, workspace_id: int, user_id: int) -> Member:
    row = session.execute(
        select(User, Membership)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.workspace_id == workspace_id, User.id == user_id)
    ).first()
    if row is None:
        raise NotFound("User not found")
    return Member(row[0], row[1])


def find_active_member_by_email(session: Session, *, workspace_id: int, email: str) -> Member | None:
    row = session.execute(
        select(User, Membership)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.workspace_id == workspace_id,
            User.email == email.strip().lower(),
            Membership.deactivated_at.is_(None),
        )
    ).first()
    return None if row is None else Member(row[0], row[1])


def list_members(
    session: Session, *, workspace_id: int, include_deactivated: bool = False, team_id: int | None = None
) -> Sequence[Member]:
    query = (
        select(User, Membership)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.workspace_id == workspace_id)
    )
    if not include_deactivated:
        query = query.where(Membership.deactivated_at.is_(None))
    if team_id is not None:
        query = query.where(Membership.team_id == team_id)
    return [Member(user, membership) for user, membership in session.execute(query.order_by(User.id))]


def _active_owner_count(session: Session, workspace_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Membership)
            .where(
                Membership.workspace_id == workspace_id,
                Membership.role == "owner",
                Membership.deactivated_at.is_(None),
            )
        )
        or 0
    )


def _guard_last_owner(session: Session, membership: Membership) -> None:
    """CRM-ROLE-04: the last active Owner can be neither demoted, deactivated nor removed."""
    active_owner = membership.role == "owner" and membership.deactivated_at is None
    if active_owner and _active_owner_count(session, membership.workspace_id) <= 1:
        raise Conflict("A workspace must keep at least one Owner", error="last_owner")


def _manageable(session: Session, principal: Principal, user_id: int) -> Member:
    """The member `principal` may administer: Managers may not touch Owners.

    Locks the workspace row first, so concurrent changes to members are serialised and the last-Owner
    check (CRM-ROLE-04) counts Owners that no other transaction is changing.
    """
    principal.require_manager("restrict_space_setting")
    lock_workspace(session, principal.workspace_id)
    member = get_member(session, workspace_id=principal.workspace_id, user_id=user_id)
    if member.membership.role == "owner" and principal.role != "owner":
        raise PermissionDenied("Only an Owner can change another Owner", error="role_required")
    return member


def update_member(
    session: Session,
    principal: Principal,
    *,
    user_id: int,
    role: Role | None,
    restrictions: Restrictions | None,
) -> Member:
    member = _manageable(session, principal, user_id)
    membership = member.membership
    new_role = membership.role if role is None else role
    if new_role == "manager" and (new_role != membership.role or restrictions is not None):
        _guard_manager_grant(
            principal,
            was_manager=membership.role == "manager",
            before=Restrictions.model_validate(membership.restrictions),
            after=restrictions or Restrictions.model_validate(membership.restrictions),
        )
    if role is not None and role != membership.role:
        if "owner" in (role, membership.role) and principal.role != "owner":
            raise PermissionDenied("Only an Owner can grant or remove the Owner role", error="role_required")
        if membership.role == "owner":
            _guard_last_owner(session, membership)
        membership.role = role
    if restrictions is not None:
        membership.restrictions = restrictions.model_dump()
    session.flush()
    return member


def _guard_manager_grant(
    principal: Principal, *, was_manager: bool, before: Restrictions, after: Restrictions
) -> None:
    """CRM-ROLE-02: a restricted Manager cannot give a Manager (themselves included) the rights their own
    flags withhold: neither lift such a flag nor promote someone to Manager without it."""
    if principal.role != "manager":
        return
    for flag in MANAGER_FLAGS:
        withheld = getattr(principal.restrictions, flag)
        granted = not getattr(after, flag) and (not was_manager or getattr(before, flag))
        if withheld and granted:
            raise PermissionDenied(
                f"Your own {flag} restriction stops you from giving a Manager that right", error="restricted"
            )


def deactivate_member(session: Session, principal: Principal, *, user_id: int) -> Member:
    """CRM-USER-03: blocks sign-in to the workspace and leaves the user's contacts unassigned."""
    member = _manageable(session, principal, user_id)
    if member.membership.deactivated_at is not None:
        return member
    _guard_last_owner(session, member.membership)
    member.membership.deactivated_at = now(session)
    assignment.unassign_all_of_user(
        session, workspace_id=principal.workspace_id, user_id=user_id, actor=principal.actor
    )
    session.flush()
    return member


def activate_member(session: Session, principal: Principal, *, user_id: int) -> Member:
    member = _manageable(session, principal, user_id)
    member.membership.deactivated_at = None
    session.flush()
    return member


def remove_member(session: Session, principal: Principal, *, user_id: int) -> None:
    member = _manageable(session, principal, user_id)
    _guard_last_owner(session, member.membership)
    assignment.unassign_all_of_user(
        session, workspace_id=principal.workspace_id, user_id=user_id, actor=principal.actor
    )
    for login in session.scalars(
        select(LoginSession).where(
            LoginSession.user_id == user_id, LoginSession.workspace_id == principal.workspace_id
        )
    ):
        login.workspace_id = None
    session.delete(member.membership)
    session.flush()


def set_presence(session: Session, *, user_id: int, presence: Availability) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("User not found")
    user.presence = presence
    user.last_seen_at = now(session)
    session.flush()
    if presence == "online":
        workspaces = session.scalars(select(Membership.workspace_id).where(Membership.user_id == user_id))
        requeue_assignments(session, workspace_ids=workspaces)  # WF-STEP-ASSIGN-05
    return user


def update_profile(session: Session, *, user_id: int, first_name: str | None, last_name: str | None) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("User not found")
    if first_name is not None:
        user.first_name = first_name
    if last_name is not None:
        user.last_name = last_name
    session.flush()
    return user


def change_password(
    session: Session,
    *,
    user_id: int,
    current_password: str,
    new_password: str,
    hasher: PasswordHasher,
    keep_login_id: int | None = None,
) -> None:
    """Sets a new password and signs the user out everywhere except the login session `keep_login_id`."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("User not found")
    if not hasher.verify(user.password_hash, current_password):
        raise field_error("current_password", "The current password is wrong", error="wrong_password")
    try:
        check_password_policy(new_password)
    except ValueError as exc:
        raise field_error("new_password", str(exc)) from None
    user.password_hash = hasher.hash(new_password)
    others = delete(LoginSession).where(LoginSession.user_id == user_id)
    if keep_login_id is not None:
        others = others.where(LoginSession.id != keep_login_id)
    session.execute(others)
    session.flush()


def acting_member(session: Session, *, workspace_id: int, email: str | None = None) -> Principal:
    """A principal for command-line work in a workspace: the active member with `email`, or else its
    first Owner. Commands use it so that their changes carry a real person in the audit trail."""
    query = (
        select(Membership)
        .join(User, User.id == Membership.user_id)
        .where(Membership.workspace_id == workspace_id, Membership.deactivated_at.is_(None))
    )
    if email is not None:
        query = query.where(User.email == email.strip().lower())
    else:
        query = query.where(Membership.role == "owner").order_by(Membership.created_at, Membership.user_id)
    membership = session.scalars(query.limit(1)).first()
    if membership is None:
        raise NotFound("No such active member in this workspace" if email else "Workspace not found")
    return Principal(
        workspace_id=workspace_id,
        role=membership.role,  # type: ignore[arg-type]
        restrictions=Restrictions.model_validate(membership.restrictions),
        user_id=membership.user_id,
        team_id=membership.team_id,
    )
