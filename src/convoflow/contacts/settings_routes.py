"""/api/fields, /api/tags and /api/lifecycle-stages: the workspace's contact vocabulary."""

from __future__ import annotations

from fastapi import APIRouter

from convoflow.api.deps import PrincipalDep, SessionDep
from convoflow.api.ids import Id
from convoflow.contacts import fields, lifecycle, tags
from convoflow.contacts.models import Tag
from convoflow.contacts.schemas import (
    FieldCreate,
    FieldRead,
    FieldUpdate,
    StageCreate,
    StageOrder,
    StageRead,
    StageUpdate,
    TagCreate,
    TagRead,
    TagUpdate,
)

router = APIRouter(tags=["settings"])


@router.get("/fields", response_model=list[FieldRead])
def list_fields(principal: PrincipalDep, session: SessionDep) -> list[FieldRead]:
    return [
        FieldRead.model_validate(f) for f in fields.list_fields(session, workspace_id=principal.workspace_id)
    ]


@router.post("/fields", response_model=FieldRead, status_code=201)
def create_field(body: FieldCreate, principal: PrincipalDep, session: SessionDep) -> FieldRead:
    field = fields.create_field(
        session,
        principal,
        name=body.name,
        type=body.type,
        slug=body.slug,
        description=body.description,
        options=body.options,
    )
    session.commit()
    return FieldRead.model_validate(field)


@router.patch("/fields/{field_id}", response_model=FieldRead)
def update_field(field_id: Id, body: FieldUpdate, principal: PrincipalDep, session: SessionDep) -> FieldRead:
    field = fields.update_field(
        session,
        principal,
        field_id=field_id,
        name=body.name,
        description=body.description,
        options=body.options,
    )
    session.commit()
    return FieldRead.model_validate(field)


@router.delete("/fields/{field_id}", status_code=204)
def delete_field(field_id: Id, principal: PrincipalDep, session: SessionDep) -> None:
    fields.delete_field(session, principal, field_id=field_id)
    session.commit()


def _tag_read(tag: Tag, count: int) -> TagRead:
    return TagRead(
        id=tag.id,
        name=tag.name,
        description=tag.description,
        color=tag.color,
        emoji=tag.emoji,
        contact_count=count,
    )


def _tag_with_count(session: SessionDep, workspace_id: int, tag_id: int) -> TagRead:
    return next(
        _tag_read(t, n) for t, n in tags.list_tags(session, workspace_id=workspace_id) if t.id == tag_id
    )


@router.get("/tags", response_model=list[TagRead])
def list_tags(principal: PrincipalDep, session: SessionDep) -> list[TagRead]:
    return [_tag_read(tag, n) for tag, n in tags.list_tags(session, workspace_id=principal.workspace_id)]


@router.post("/tags", response_model=TagRead, status_code=201)
def create_tag(body: TagCreate, principal: PrincipalDep, session: SessionDep) -> TagRead:
    tag = tags.create_tag(
        session, principal, name=body.name, description=body.description, color=body.color, emoji=body.emoji
    )
    session.commit()
    return _tag_read(tag, 0)


@router.patch("/tags/{tag_id}", response_model=TagRead)
def update_tag(tag_id: Id, body: TagUpdate, principal: PrincipalDep, session: SessionDep) -> TagRead:
    cleared = frozenset(
        k for k in ("color", "emoji") if k in body.model_fields_set and getattr(body, k) is None
    )
    tags.update_tag(
        session,
        principal,
        tag_id=tag_id,
        name=body.name,
        description=body.description,
        color=body.color,
        emoji=body.emoji,
        clear=cleared,
    )
    session.commit()
    return _tag_with_count(session, principal.workspace_id, tag_id)


@router.delete("/tags/{tag_id}", status_code=204)
def delete_tag(tag_id: Id, principal: PrincipalDep, session: SessionDep) -> None:
    tags.delete_tag(session, principal, tag_id=tag_id)
    session.commit()


@router.get("/lifecycle-stages", response_model=list[StageRead])
def list_stages(principal: PrincipalDep, session: SessionDep) -> list[StageRead]:
    return [
        StageRead.model_validate(s)
        for s in lifecycle.list_stages(session, workspace_id=principal.workspace_id)
    ]


@router.post("/lifecycle-stages", response_model=StageRead, status_code=201)
def create_stage(body: StageCreate, principal: PrincipalDep, session: SessionDep) -> StageRead:
    stage = lifecycle.create_stage(
        session, principal, name=body.name, is_lost=body.is_lost, is_default=body.is_default
    )
    session.commit()
    return StageRead.model_validate(stage)


@router.put("/lifecycle-stages/order", response_model=list[StageRead])
def reorder_stages(body: StageOrder, principal: PrincipalDep, session: SessionDep) -> list[StageRead]:
    stages = lifecycle.reorder_stages(session, principal, stage_ids=body.stage_ids)
    session.commit()
    return [StageRead.model_validate(s) for s in stages]


@router.patch("/lifecycle-stages/{stage_id}", response_model=StageRead)
def update_stage(stage_id: Id, body: StageUpdate, principal: PrincipalDep, session: SessionDep) -> StageRead:
    stage = lifecycle.update_stage(
        session,
        principal,
        stage_id=stage_id,
        name=body.name,
        is_lost=body.is_lost,
        is_default=body.is_default,
    )
    session.commit()
    return StageRead.model_validate(stage)


@router.delete("/lifecycle-stages/{stage_id}", status_code=204)
def delete_stage(stage_id: Id, principal: PrincipalDep, session: SessionDep) -> None:
    lifecycle.delete_stage(session, principal, stage_id=stage_id)
    session.commit()
