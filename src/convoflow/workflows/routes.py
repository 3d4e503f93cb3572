"""/api/workflows and /api/workflow-templates (API-OWN-03); Owners and Managers only (WF-GEN-01)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from convoflow.accounts.models import User
from convoflow.accounts.workspaces import settings_of
from convoflow.api.deps import PrincipalDep, SessionDep
from convoflow.api.ids import Id
from convoflow.audit import service as audit
from convoflow.errors import NotFound
from convoflow.workflows import drafts, gallery, listing, service, template_use, transfer, versions
from convoflow.workflows.definition import limits
from convoflow.workflows.definition.graph import WorkflowSettings
from convoflow.workflows.models import Workflow, WorkflowVersion
from convoflow.workflows.schemas import (
    DefinitionSave,
    HistoryEntry,
    ImportResult,
    PersonRef,
    ProblemRead,
    PublishRequest,
    TemplatePreview,
    TemplateSummary,
    TemplateUse,
    ValidateRequest,
    VersionDetail,
    VersionRead,
    WorkflowCreate,
    WorkflowDetail,
    WorkflowDocument,
    WorkflowList,
    WorkflowSummary,
    WorkflowUpdate,
)

router = APIRouter(tags=["workflows"])


def _person(users: dict[int, User], user_id: int | None) -> PersonRef | None:
    user = users.get(user_id) if user_id is not None else None
    return None if user is None else PersonRef(id=user.id, name=f"{user.first_name} {user.last_name}".strip())


def _summary(workflow: Workflow, users: dict[int, User]) -> WorkflowSummary:
    return WorkflowSummary(
        id=workflow.id,
        name=workflow.name,
        description=workflow.description,
        state=workflow.state,
        trigger_type=workflow.trigger_type,
        last_published_by=_person(users, workflow.published_by),
        last_published_at=workflow.published_at,
        created_by=_person(users, workflow.created_by),
        created_at=workflow.created_at,
        updated_at=workflow.updated_at,
    )


def _detail(session: Session, workflow: Workflow) -> WorkflowDetail:
    users = listing.people(session, {workflow.published_by, workflow.created_by})
    version = service.published_version(session, workflow)
    return WorkflowDetail(
        **_summary(workflow, users).model_dump(),
        revision=workflow.revision,
        settings=WorkflowSettings.model_validate(workflow.settings),
        definition=workflow.draft,
        problems=[ProblemRead.model_validate(p.as_json()) for p in drafts.problems_of(session, workflow)],
        published_version=None if version is None else version.number,
        has_unpublished_changes=versions.has_unpublished_changes(session, workflow),
        webhook_path=service.webhook_path(workflow),
        import_report=workflow.import_report,
    )


def _version(version: WorkflowVersion, workflow: Workflow, users: dict[int, User]) -> VersionRead:
    return VersionRead(
        number=version.number,
        published_by=_person(users, version.published_by),
        published_at=version.published_at,
        content_hash=version.content_hash,
        current=version.id == workflow.published_version_id,
    )


@router.get("/workflows", response_model=WorkflowList)
def list_workflows(
    principal: PrincipalDep,
    session: SessionDep,
    search: Annotated[str | None, Query(max_length=200)] = None,
    state: Literal["draft", "published", "stopped"] | None = None,
    sort: service.SortKey = "created_at",
    order: Literal["asc", "desc"] = "desc",
) -> WorkflowList:
    """WF-LIST-01/02: search over name and description, status filter, sorting (newest first)."""
    rows = listing.list_workflows(
        session, principal, search=search, state=state, sort=sort, descending=order == "desc"
    )
    users = listing.people(
        session, {r.workflow.created_by for r in rows} | {r.workflow.published_by for r in rows}
    )
    return WorkflowList(
        items=[_summary(row.workflow, users) for row in rows],
        count=service.count_workflows(session, principal.workspace_id),
        limit=limits.MAX_WORKFLOWS,
    )


@router.get("/workflows/schema")
def definition_schema(principal: PrincipalDep) -> dict[str, Any]:
    """The JSON Schema of a workflow definition document, for the builder and importers."""
    principal.require_manager()
    return WorkflowDocument.model_json_schema(by_alias=True)


@router.post("/workflows", response_model=WorkflowDetail, status_code=201)
def create_workflow(body: WorkflowCreate, principal: PrincipalDep, session: SessionDep) -> WorkflowDetail:
    workflow = service.create_workflow(session, principal, name=body.name, description=body.description)
    session.commit()
    return _detail(session, workflow)


async def _raw_body(request: Request) -> bytes:
    return await request.body()


@router.post(
    "/workflows/import",
    response_model=ImportResult,
    status_code=201,
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "An exported workflow file, sent as the raw request body",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
def import_workflow(
    principal: PrincipalDep, session: SessionDep, file: Annotated[bytes, Depends(_raw_body)]
) -> ImportResult:
    """WF-IO-04..07: ≤ 400 KB, ≤ 100 steps; missing references are stripped and reported."""
    imported = transfer.import_file(session, principal, raw=file)
    session.commit()
    return ImportResult(
        workflow=_detail(session, imported.workflow), stripped=[s.as_json() for s in imported.stripped]
    )


@router.get("/workflows/{workflow_id}", response_model=WorkflowDetail)
def get_workflow(workflow_id: Id, principal: PrincipalDep, session: SessionDep) -> WorkflowDetail:
    return _detail(session, service.get_workflow(session, principal, workflow_id))


@router.patch("/workflows/{workflow_id}", response_model=WorkflowDetail)
def update_workflow(
    workflow_id: Id, body: WorkflowUpdate, principal: PrincipalDep, session: SessionDep
) -> WorkflowDetail:
    workflow = service.update_details(
        session,
        principal,
        workflow_id=workflow_id,
        name=body.name,
        description=body.description,
        settings=body.settings,
    )
    session.commit()
    return _detail(session, workflow)


@router.delete("/workflows/{workflow_id}", status_code=204)
def delete_workflow(workflow_id: Id, principal: PrincipalDep, session: SessionDep) -> None:
    service.delete(session, principal, workflow_id=workflow_id)
    session.commit()


@router.get("/workflows/{workflow_id}/definition")
def get_definition(workflow_id: Id, principal: PrincipalDep, session: SessionDep) -> dict[str, Any]:
    workflow = service.get_workflow(session, principal, workflow_id)
    return {"revision": workflow.revision, "definition": workflow.draft}


@router.put("/workflows/{workflow_id}/definition", response_model=WorkflowDetail)
def save_definition(
    workflow_id: Id, body: DefinitionSave, principal: PrincipalDep, session: SessionDep
) -> WorkflowDetail:
    """WF-LIFE-07: refused with 422 and the problem list while errors exist, 409 over a newer revision."""
    workflow = service.save_draft(
        session, principal, workflow_id=workflow_id, definition=body.definition, revision=body.revision
    )
    session.commit()
    return _detail(session, workflow)


@router.post("/workflows/{workflow_id}/validate", response_model=list[ProblemRead])
def validate_workflow(
    workflow_id: Id, body: ValidateRequest, principal: PrincipalDep, session: SessionDep
) -> list[ProblemRead]:
    """The configuration errors of the draft, or of the definition sent (WF-BLD-06); nothing is saved."""
    problems = service.validate_definition(
        session, principal, workflow_id=workflow_id, definition=body.definition
    )
    return [ProblemRead.model_validate(p.as_json()) for p in problems]


@router.post("/workflows/{workflow_id}/publish", response_model=WorkflowDetail)
def publish_workflow(
    workflow_id: Id, principal: PrincipalDep, session: SessionDep, body: PublishRequest | None = None
) -> WorkflowDetail:
    """WF-LIFE-03: 422 with the errors or the loop (WF-LOOP-01); 409 when already published."""
    request = body or PublishRequest()
    service.publish(
        session, principal, workflow_id=workflow_id, definition=request.definition, revision=request.revision
    )
    session.commit()
    return _detail(session, service.get_workflow(session, principal, workflow_id))


@router.post("/workflows/{workflow_id}/stop", response_model=WorkflowDetail)
def stop_workflow(workflow_id: Id, principal: PrincipalDep, session: SessionDep) -> WorkflowDetail:
    workflow = service.stop(session, principal, workflow_id=workflow_id)
    session.commit()
    return _detail(session, workflow)


@router.post("/workflows/{workflow_id}/clone", response_model=WorkflowDetail, status_code=201)
def clone_workflow(workflow_id: Id, principal: PrincipalDep, session: SessionDep) -> WorkflowDetail:
    workflow = service.clone(session, principal, workflow_id=workflow_id)
    session.commit()
    return _detail(session, workflow)


@router.post("/workflows/{workflow_id}/webhook/regenerate", response_model=WorkflowDetail)
def regenerate_webhook(workflow_id: Id, principal: PrincipalDep, session: SessionDep) -> WorkflowDetail:
    workflow = service.regenerate_hook_token(session, principal, workflow_id=workflow_id)
    session.commit()
    return _detail(session, workflow)


@router.get("/workflows/{workflow_id}/export")
def export_workflow(workflow_id: Id, principal: PrincipalDep, session: SessionDep) -> JSONResponse:
    """WF-IO-01: downloads `<name>.json`."""
    filename, document = transfer.export_document(session, principal, workflow_id=workflow_id)
    return JSONResponse(document, headers={"Content-Disposition": transfer.content_disposition(filename)})


@router.get("/workflows/{workflow_id}/versions", response_model=list[VersionRead])
def list_versions(workflow_id: Id, principal: PrincipalDep, session: SessionDep) -> list[VersionRead]:
    workflow = service.get_workflow(session, principal, workflow_id)
    published = versions.list_versions(session, principal, workflow_id=workflow_id)
    users = listing.people(session, {v.published_by for v in published})
    return [_version(v, workflow, users) for v in published]


@router.get("/workflows/{workflow_id}/versions/{number}", response_model=VersionDetail)
def get_version(workflow_id: Id, number: Id, principal: PrincipalDep, session: SessionDep) -> VersionDetail:
    workflow = service.get_workflow(session, principal, workflow_id)
    version = versions.get_version(session, principal, workflow_id=workflow_id, number=number)
    users = listing.people(session, {version.published_by})
    return VersionDetail(**_version(version, workflow, users).model_dump(), definition=version.definition)


@router.post("/workflows/{workflow_id}/versions/{number}/restore", response_model=WorkflowDetail)
def restore_version(
    workflow_id: Id, number: Id, principal: PrincipalDep, session: SessionDep
) -> WorkflowDetail:
    workflow = versions.restore_version(session, principal, workflow_id=workflow_id, number=number)
    session.commit()
    return _detail(session, workflow)


@router.post("/workflows/{workflow_id}/discard-draft", response_model=WorkflowDetail)
def discard_draft(workflow_id: Id, principal: PrincipalDep, session: SessionDep) -> WorkflowDetail:
    workflow = versions.discard_draft(session, principal, workflow_id=workflow_id)
    session.commit()
    return _detail(session, workflow)


@router.get("/workflows/{workflow_id}/history", response_model=list[HistoryEntry])
def workflow_history(workflow_id: Id, principal: PrincipalDep, session: SessionDep) -> list[HistoryEntry]:
    """The audit trail: who created, saved, published, stopped, edited, cloned, imported it, and when."""
    workflow = service.get_workflow(session, principal, workflow_id)
    entries = audit.history(
        session, workspace_id=principal.workspace_id, target_kind="workflow", target_id=workflow.id
    )
    users = listing.people(session, {e.actor_id for e in entries if e.actor_kind == "user"})
    return [
        HistoryEntry(
            action=e.action,
            actor_kind=e.actor_kind,
            actor=_person(users, e.actor_id) if e.actor_kind == "user" else None,
            data=e.data,
            at=e.at,
        )
        for e in entries
    ]


def _template_summary(info: gallery.TemplateInfo, language: gallery.Language) -> TemplateSummary:
    return TemplateSummary(
        key=info.key,
        category=info.category,
        name=info.name[language],
        purpose=info.purpose[language],
        step_count=info.step_count,
        expects=info.expects[language].model_dump(),
    )


@router.get("/workflow-templates", response_model=list[TemplateSummary])
def list_templates(principal: PrincipalDep, session: SessionDep) -> list[TemplateSummary]:
    """WF-TPL-01/02: the gallery in the workspace's language."""
    principal.require_manager()
    language = gallery.pick_language(settings_of(session, principal.workspace_id).language)
    return [_template_summary(info, language) for info in gallery.list_templates()]


@router.get("/workflow-templates/{key}", response_model=TemplatePreview)
def preview_template(key: str, principal: PrincipalDep, session: SessionDep) -> TemplatePreview:
    principal.require_manager()
    language = gallery.pick_language(settings_of(session, principal.workspace_id).language)
    info = next((i for i in gallery.list_templates() if i.key == key), None)
    if info is None:
        raise NotFound("Template not found", error="template_not_found")
    return TemplatePreview(
        **_template_summary(info, language).model_dump(),
        definition=gallery.get_template(key).render(language),
    )


@router.post("/workflow-templates/{key}/use", response_model=ImportResult, status_code=201)
def use_template(
    key: str, principal: PrincipalDep, session: SessionDep, body: TemplateUse | None = None
) -> ImportResult:
    request = body or TemplateUse()
    used = template_use.use_template(
        session, principal, key=key, name=request.name, create_missing=request.create_missing
    )
    session.commit()
    return ImportResult(
        workflow=_detail(session, used.workflow), stripped=[s.as_json() for s in used.stripped]
    )
