"""Lifecycle stages (CRM-LIFE): ordered, at most 20, one optional default, changes emit events."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from convoflow.accounts.models import Workspace
from convoflow.accounts.principal import Principal
from convoflow.accounts.workspace_settings import WorkspaceSettings
from convoflow.contacts.models import Contact, LifecycleStage
from convoflow.db.session import now
from convoflow.errors import Conflict, InvalidInput, NotFound, field_error
from convoflow.events import catalogue
from convoflow.events.actor import Actor
from convoflow.events.emit import emit
from convoflow.validators import fold

MAX_STAGES = 20
DEFAULT_STAGES: tuple[tuple[str, bool], ...] = (
    ("New Lead", False),
    ("Hot Lead", False),
    ("Payment", False),
    ("Customer", False),
    ("Cold Lead", True),  # the lost stage
)


def seed_default_stages(session: Session, *, workspace_id: int) -> None:
    at = now(session)
    for position, (name, is_lost) in enumerate(DEFAULT_STAGES):
        session.add(
            LifecycleStage(
                workspace_id=workspace_id,
                name=name,
                name_norm=fold(name),
                position=position,
                is_lost=is_lost,
                created_at=at,
            )
        )


def list_stages(session: Session, *, workspace_id: int) -> Sequence[LifecycleStage]:
    return session.scalars(
        select(LifecycleStage)
        .where(LifecycleStage.workspace_id == workspace_id)
        .order_by(LifecycleStage.position, LifecycleStage.id)
    ).all()


def get_stage(session: Session, *, workspace_id: int, stage_id: int) -> LifecycleStage:
    stage = session.scalar(
        select(LifecycleStage).where(
            LifecycleStage.id == stage_id, LifecycleStage.workspace_id == workspace_id
        )
    )
    if stage is None:
        raise NotFound("Lifecycle stage not found")
    return stage


def find_stage(session: Session, *, workspace_id: int, name: str) -> LifecycleStage | None:
    return session.scalar(
        select(LifecycleStage).where(
            LifecycleStage.workspace_id == workspace_id, LifecycleStage.name_norm == fold(name)
        )
    )


def default_stage(session: Session, *, workspace_id: int) -> LifecycleStage | None:
    return session.scalar(
        select(LifecycleStage).where(LifecycleStage.workspace_id == workspace_id, LifecycleStage.is_default)
    )


def lifecycle_enabled(session: Session, workspace_id: int) -> bool:
    workspace = session.get(Workspace, workspace_id)
    return workspace is not None and WorkspaceSettings.model_validate(workspace.settings).lifecycle_enabled


def _check_name_free(session: Session, workspace_id: int, name: str, *, except_id: int | None = None) -> None:
    other = find_stage(session, workspace_id=workspace_id, name=name)
    if other is not None and other.id != except_id:
        raise Conflict(f"A stage named {name!r} already exists", error="stage_name_taken")


def _make_only_default(session: Session, stage: LifecycleStage) -> None:
    for other in list_stages(session, workspace_id=stage.workspace_id):
        other.is_default = other.id == stage.id


def create_stage(
    session: Session, principal: Principal, *, name: str, is_lost: bool = False, is_default: bool = False
) -> LifecycleStage:
    principal.require_manager("restrict_space_setting")
    session.scalar(select(Workspace.id).where(Workspace.id == principal.workspace_id).with_for_update())
    stages = list_stages(session, workspace_id=principal.workspace_id)
    if len(stages) >= MAX_STAGES:
        raise Conflict(f"Lifecycle stage limit reached ({MAX_STAGES})", error="stage_limit_reached")
    _check_name_free(session, principal.workspace_id, name)
    stage = LifecycleStage(
        workspace_id=principal.workspace_id,
        name=name,
        name_norm=fold(name),
        position=max((s.position for s in stages), default=-1) + 1,
        is_lost=is_lost,
        created_at=now(session),
    )
    session.add(stage)
    session.flush()
    if is_default:
        _make_only_default(session, stage)
        session.flush()
    return stage


def update_stage(
    session: Session,
    principal: Principal,
    *,
    stage_id: int,
    name: str | None,
    is_lost: bool | None,
    is_default: bool | None,
) -> LifecycleStage:
    principal.require_manager("restrict_space_setting")
    stage = get_stage(session, workspace_id=principal.workspace_id, stage_id=stage_id)
    if name is not None:
        _check_name_free(session, principal.workspace_id, name, except_id=stage.id)
        stage.name, stage.name_norm = name, fold(name)
    if is_lost is not None:
        stage.is_lost = is_lost
    if is_default is True:
        _make_only_default(session, stage)
    elif is_default is False:
        stage.is_default = False
    session.flush()
    return stage


def delete_stage(session: Session, principal: Principal, *, stage_id: int) -> None:
    """Contacts at the stage are left without one, without per-contact events (as tag deletion)."""
    principal.require_manager("restrict_space_setting")
    stage = get_stage(session, workspace_id=principal.workspace_id, stage_id=stage_id)
    session.delete(stage)
    session.flush()
    for position, remaining in enumerate(list_stages(session, workspace_id=principal.workspace_id)):
        remaining.position = position
    session.flush()


def reorder_stages(
    session: Session, principal: Principal, *, stage_ids: list[int]
) -> Sequence[LifecycleStage]:
    principal.require_manager("restrict_space_setting")
    stages = {stage.id: stage for stage in list_stages(session, workspace_id=principal.workspace_id)}
    if sorted(stage_ids) != sorted(stages):
        raise field_error("stage_ids", "Give every stage id of the workspace exactly once")
    for position, stage_id in enumerate(stage_ids):
        stages[stage_id].position = position
    session.flush()
    return list_stages(session, workspace_id=principal.workspace_id)


def _summary(stage: LifecycleStage | None) -> dict[str, object] | None:
    return None if stage is None else {"id": stage.id, "name": stage.name}


def set_contact_stage(session: Session, *, contact: Contact, stage_id: int | None, actor: Actor) -> bool:
    """Moves the contact to a stage (or none); emits contact.lifecycle.updated when it changed."""
    if not lifecycle_enabled(session, contact.workspace_id):
        raise InvalidInput("Lifecycle stages are switched off in this workspace", error="lifecycle_disabled")
    new = (
        None if stage_id is None else get_stage(session, workspace_id=contact.workspace_id, stage_id=stage_id)
    )
    if contact.lifecycle_stage_id == stage_id:
        return False
    old = (
        None
        if contact.lifecycle_stage_id is None
        else session.get(LifecycleStage, contact.lifecycle_stage_id)
    )
    contact.lifecycle_stage_id = stage_id
    contact.updated_at = now(session)
    emit(
        session,
        workspace_id=contact.workspace_id,
        contact_id=contact.id,
        type=catalogue.CONTACT_LIFECYCLE_UPDATED,
        actor=actor,
        payload={"contact_id": contact.id, "from": _summary(old), "to": _summary(new)},
    )
    return True


def count_contacts_at(session: Session, *, stage_id: int) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(Contact).where(Contact.lifecycle_stage_id == stage_id)
        )
        or 0
    )
