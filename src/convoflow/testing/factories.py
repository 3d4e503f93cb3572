"""Plain functions that create rows through the real services, with sensible defaults."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy.orm import Session

from convoflow.accounts import users, workspaces
from convoflow.accounts.models import User, Workspace
from convoflow.accounts.passwords import PasswordHasher
from convoflow.accounts.principal import Principal, Restrictions, Role
from convoflow.channels import service as channels
from convoflow.channels.models import Channel
from convoflow.contacts import service as contacts
from convoflow.contacts.models import Contact
from convoflow.events.actor import Actor

DEFAULT_PASSWORD = "correct horse battery"
_counter = itertools.count(1)


def make_user(
    session: Session,
    hasher: PasswordHasher,
    *,
    email: str | None = None,
    first_name: str = "Ana",
    last_name: str = "Pérez",
    password: str = DEFAULT_PASSWORD,
) -> User:
    return users.create_user(
        session,
        email=email or f"user{next(_counter)}@example.com",
        first_name=first_name,
        last_name=last_name,
        password=password,
        hasher=hasher,
    )


def make_workspace(session: Session, *, owner: User, name: str = "Acme", timezone: str = "UTC") -> Workspace:
    return workspaces.create_workspace(session, name=name, owner_user_id=owner.id, timezone=timezone)


def make_member(
    session: Session,
    hasher: PasswordHasher,
    *,
    workspace: Workspace,
    role: Role = "agent",
    team_id: int | None = None,
    restrictions: Restrictions | None = None,
    **user_fields: Any,
) -> User:
    user = make_user(session, hasher, **user_fields)
    membership = users.add_member(
        session, workspace_id=workspace.id, user_id=user.id, role=role, team_id=team_id
    )
    if restrictions is not None:
        membership.restrictions = restrictions.model_dump()
    session.flush()
    return user


def principal(
    workspace: Workspace, user: User, role: Role = "owner", restrictions: Restrictions | None = None
) -> Principal:
    return Principal(
        workspace_id=workspace.id, role=role, restrictions=restrictions or Restrictions(), user_id=user.id
    )


def make_contact(
    session: Session,
    *,
    workspace_id: int,
    actor: Actor | None = None,
    custom_fields: dict[str, Any] | None = None,
    **values: Any,
) -> Contact:
    values.setdefault("first_name", f"Contact {next(_counter)}")
    return contacts.create_contact(
        session,
        workspace_id=workspace_id,
        actor=actor or Actor.system(),
        values=values,
        custom_fields=custom_fields,
    )


def make_channel(
    session: Session, *, workspace_id: int, kind: str = "webchat", name: str | None = None
) -> Channel:
    return channels.create_channel(
        session, workspace_id=workspace_id, kind=kind, name=name or f"{kind} {next(_counter)}"
    )
