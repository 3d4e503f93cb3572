"""Workspaces: creation (the creator becomes Owner, CRM-WS-03), settings, deletion."""

from __future__ import annotations

import re
import secrets
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from convoflow.accounts.models import Membership, Workspace
from convoflow.accounts.principal import Principal, Restrictions
from convoflow.accounts.workspace_settings import WorkspaceSettings
from convoflow.contacts import lifecycle
from convoflow.db.session import now
from convoflow.errors import InvalidInput, NotFound, field_error
from convoflow.validators import timezone_name

_SLUG_CHARS = re.compile(r"[^a-z0-9]+")


def _new_slug(session: Session, name: str) -> str:
    base = _SLUG_CHARS.sub("-", name.lower()).strip("-")[:40] or "workspace"
    slug = base
    while session.scalar(select(Workspace.id).where(Workspace.slug == slug)) is not None:
        slug = f"{base}-{secrets.token_hex(3)}"
    return slug


def create_workspace(
    session: Session,
    *,
    name: str,
    owner_user_id: int,
    timezone: str = "UTC",
    settings: WorkspaceSettings | None = None,
) -> Workspace:
    """A workspace with its creator as Owner and the default lifecycle stages."""
    workspace = Workspace(
        slug=_new_slug(session, name),
        name=name,
        timezone=timezone_name(timezone),
        settings=(settings or WorkspaceSettings()).model_dump(mode="json"),
        created_at=now(session),
    )
    session.add(workspace)
    session.flush()
    session.add(
        Membership(
            workspace_id=workspace.id,
            user_id=owner_user_id,
            role="owner",
            restrictions=Restrictions().model_dump(),
            created_at=now(session),
        )
    )
    lifecycle.seed_default_stages(session, workspace_id=workspace.id)
    session.flush()
    return workspace


def get_workspace(session: Session, workspace_id: int) -> Workspace:
    workspace = session.get(Workspace, workspace_id)
    if workspace is None:
        raise NotFound("Workspace not found")
    return workspace


def lock_workspace(session: Session, workspace_id: int) -> Workspace:
    """Lock the workspace row, serialising checks of per-workspace limits (teams, fields, stages)."""
    workspace = session.scalar(select(Workspace).where(Workspace.id == workspace_id).with_for_update())
    if workspace is None:
        raise NotFound("Workspace not found")
    return workspace


def workspace_settings(workspace: Workspace) -> WorkspaceSettings:
    return WorkspaceSettings.model_validate(workspace.settings)


def settings_of(session: Session, workspace_id: int) -> WorkspaceSettings:
    return workspace_settings(get_workspace(session, workspace_id))


def update_workspace(
    session: Session,
    principal: Principal,
    *,
    name: str | None = None,
    timezone: str | None = None,
    settings_patch: dict[str, Any] | None = None,
) -> Workspace:
    principal.require_manager("restrict_space_setting")
    workspace = lock_workspace(session, principal.workspace_id)
    if name is not None:
        workspace.name = name
    if timezone is not None:
        try:
            workspace.timezone = timezone_name(timezone)
        except ValueError as exc:
            raise field_error("timezone", str(exc)) from None
    if settings_patch:
        merged = {**workspace.settings, **settings_patch}
        try:
            validated = WorkspaceSettings.model_validate(merged)
        except ValidationError as exc:
            raise _settings_error(exc) from None
        workspace.settings = validated.model_dump(mode="json")
    session.flush()
    return workspace


def _settings_error(exc: ValidationError) -> InvalidInput:
    details = [
        {"field": ".".join(["settings", *(str(part) for part in err["loc"])]), "message": err["msg"]}
        for err in exc.errors()
    ]
    return InvalidInput(f"{details[0]['field']}: {details[0]['message']}", details=details)


def delete_workspace(session: Session, principal: Principal) -> None:
    """Deletes the workspace and everything in it (CRM-ROLE-01: Owners only)."""
    principal.require_owner()
    session.execute(delete(Workspace).where(Workspace.id == principal.workspace_id))
