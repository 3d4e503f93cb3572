"""Workflow lifecycle (workflows.md §2-3): create, save, publish, stop, edit, clone, delete."""

from __future__ import annotations

import secrets
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from convoflow.accounts.models import User, Workspace
from convoflow.accounts.principal import Principal
from convoflow.audit import service as audit
from convoflow.db.session import now
from convoflow.errors import Conflict, NotFound, WorkflowInvalid
from convoflow.validators import fold
from convoflow.workflows import drafts, references, runs
from convoflow.workflows.catalog_source import build_catalog
from convoflow.workflows.definition import limits
from convoflow.workflows.definition.graph import WorkflowDefinition, WorkflowSettings
from convoflow.workflows.definition.hashing import content_hash
from convoflow.workflows.definition.loops import Candidate, find_loop
from convoflow.workflows.definition.problems import Problem
from convoflow.workflows.definition.text_safety import nul_problems
from convoflow.workflows.definition.triggers import IncomingWebhookTrigger
from convoflow.workflows.definition.validate import parse
from convoflow.workflows.models import Workflow, WorkflowVersion

State = Literal["draft", "published", "stopped"]
SortKey = Literal["created_at", "name", "published_at", "state"]


def _actor_user(principal: Principal) -> int | None:
    return principal.user_id


def get_workflow(session: Session, principal: Principal, workflow_id: int, *, lock: bool = False) -> Workflow:
    """WF-GEN-01: Owners and Managers only; other workspaces' ids are 404."""
    principal.require_manager()
    query = select(Workflow).where(
        Workflow.id == workflow_id, Workflow.workspace_id == principal.workspace_id
    )
    workflow = session.scalar(query.with_for_update() if lock else query)
    if workflow is None:
        raise NotFound("Workflow not found")
    return workflow


def definition_of(workflow: Workflow) -> WorkflowDefinition:
    definition, _problems = parse(workflow.draft)
    return definition or WorkflowDefinition()


def validate_definition(
    session: Session, principal: Principal, *, workflow_id: int, definition: Any = None
) -> list[Problem]:
    """The configuration errors of `definition`, or of the saved draft when None; nothing is stored."""
    workflow = get_workflow(session, principal, workflow_id)
    catalog = build_catalog(session, workspace_id=workflow.workspace_id, workflow_id=workflow.id)
    return drafts.all_problems(workflow.draft if definition is None else definition, catalog)[1]


def published_version(session: Session, workflow: Workflow) -> WorkflowVersion | None:
    return (
        None
        if workflow.published_version_id is None
        else session.get(WorkflowVersion, workflow.published_version_id)
    )


def count_workflows(session: Session, workspace_id: int) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(Workflow).where(Workflow.workspace_id == workspace_id)
        )
        or 0
    )


def reserve_slot(session: Session, workspace_id: int) -> None:
    """WF-LIST-04: at most 100 workflows, all states; the workspace lock serialises concurrent creates."""
    session.scalar(select(Workspace.id).where(Workspace.id == workspace_id).with_for_update())
    if count_workflows(session, workspace_id) >= limits.MAX_WORKFLOWS:
        raise Conflict(f"Workflow limit reached ({limits.MAX_WORKFLOWS})", error="workflow_limit_reached")


def _name_taken(session: Session, workspace_id: int, name: str, *, except_id: int | None = None) -> bool:
    query = select(Workflow.id).where(Workflow.workspace_id == workspace_id, Workflow.name_norm == fold(name))
    if except_id is not None:
        query = query.where(Workflow.id != except_id)
    return session.scalar(query) is not None


def check_name_free(session: Session, workspace_id: int, name: str, *, except_id: int | None = None) -> None:
    if _name_taken(session, workspace_id, name, except_id=except_id):
        raise Conflict(f"A workflow named {name!r} already exists", error="workflow_name_taken")


def free_name(session: Session, workspace_id: int, name: str, suffix: str) -> str:
    """`name`, or `name` + suffix (+ a number) when taken, within 100 characters."""
    if not _name_taken(session, workspace_id, name):
        return name
    for n in range(1, 1000):
        tail = suffix if n == 1 else f"{suffix} {n}"
        if not tail:
            continue
        candidate = name[: limits.NAME_MAX - len(tail)] + tail
        if not _name_taken(session, workspace_id, candidate):
            return candidate
    raise Conflict("No free name for the workflow", error="workflow_name_taken")


def new_workflow(
    session: Session,
    principal: Principal,
    *,
    name: str,
    description: str,
    definition: WorkflowDefinition,
    settings: WorkflowSettings | None = None,
    report: list[Any] | None = None,
    action: str = "created",
    audit_data: dict[str, Any] | None = None,
) -> Workflow:
    """Every new workflow starts as a Draft (WF-LIFE-01); callers have checked the name."""
    problems = nul_problems({"description": description, "importReport": report, **definition.to_json()})
    if problems:
        raise WorkflowInvalid(
            "The workflow contains a NUL character", details=[p.as_json() for p in problems]
        )
    at = now(session)
    workflow = Workflow(
        workspace_id=principal.workspace_id,
        name=name,
        name_norm=fold(name),
        description=description,
        state="draft",
        draft=definition.to_json(),
        revision=1,
        settings=(settings or WorkflowSettings()).model_dump(by_alias=True),
        import_report=report,
        created_by=_actor_user(principal),
        created_at=at,
        updated_by=_actor_user(principal),
        updated_at=at,
    )
    _ensure_hook_token(workflow, definition)
    session.add(workflow)
    session.flush()
    audit.record(
        session,
        workspace_id=principal.workspace_id,
        actor=principal.actor,
        action=action,
        target_kind="workflow",
        target_id=workflow.id,
        data={"name": name, **(audit_data or {})},
    )
    return workflow


def create_workflow(session: Session, principal: Principal, *, name: str, description: str = "") -> Workflow:
    """WF-LIST-03: a blank Draft whose trigger is still to be chosen."""
    principal.require_manager()
    reserve_slot(session, principal.workspace_id)
    check_name_free(session, principal.workspace_id, name)
    return new_workflow(
        session, principal, name=name, description=description, definition=WorkflowDefinition()
    )


def _ensure_hook_token(workflow: Workflow, definition: WorkflowDefinition) -> None:
    if isinstance(definition.trigger, IncomingWebhookTrigger) and workflow.hook_token is None:
        workflow.hook_token = secrets.token_urlsafe(24)  # 32 URL-safe characters (WF-TRG-HOOK-01)


def _has_webhook(workflow: Workflow) -> bool:
    """The draft's trigger, or the last published one, is an Incoming Webhook."""
    return (
        isinstance(definition_of(workflow).trigger, IncomingWebhookTrigger)
        or workflow.trigger_type == "incoming_webhook"
    )


def webhook_path(workflow: Workflow) -> str | None:
    """`/hooks/wf/<token>` while the workflow has an Incoming Webhook trigger (WF-TRG-HOOK-01). The token
    is kept when the trigger changes, so switching back restores the same URL."""
    if workflow.hook_token is None or not _has_webhook(workflow):
        return None
    return f"/hooks/wf/{workflow.hook_token}"


def regenerate_hook_token(session: Session, principal: Principal, *, workflow_id: int) -> Workflow:
    """WF-TRG-HOOK-01: a new URL; the old one stops working at once."""
    workflow = get_workflow(session, principal, workflow_id, lock=True)
    if not _has_webhook(workflow):
        raise Conflict("This workflow has no Incoming Webhook trigger", error="not_a_webhook_workflow")
    workflow.hook_token = secrets.token_urlsafe(24)
    touch(session, principal, workflow, "webhook_regenerated")
    return workflow


def touch(session: Session, principal: Principal, workflow: Workflow, action: str, **data: Any) -> None:
    workflow.updated_by = _actor_user(principal)
    workflow.updated_at = now(session)
    session.flush()
    audit.record(
        session,
        workspace_id=workflow.workspace_id,
        actor=principal.actor,
        action=action,
        target_kind="workflow",
        target_id=workflow.id,
        data=data,
    )


def update_details(
    session: Session,
    principal: Principal,
    *,
    workflow_id: int,
    name: str | None,
    description: str | None,
    settings: WorkflowSettings | None,
) -> Workflow:
    """Name, description and settings change in every state (WF-LIST-05, WF-LIFE-11)."""
    workflow = get_workflow(session, principal, workflow_id, lock=True)
    changed: dict[str, Any] = {}
    if name is not None and name != workflow.name:
        check_name_free(session, principal.workspace_id, name, except_id=workflow.id)
        changed["name"] = {"old": workflow.name, "new": name}
        workflow.name, workflow.name_norm = name, fold(name)
    if description is not None and description != workflow.description:
        changed["description"] = {"old": workflow.description, "new": description}
        workflow.description = description
    if settings is not None:
        new_settings = settings.model_dump(by_alias=True)
        if new_settings != workflow.settings:
            changed["settings"] = {"old": workflow.settings, "new": new_settings}
            workflow.settings = new_settings
    if changed:
        touch(session, principal, workflow, "edited", **changed)
    return workflow


def _stale(session: Session, workflow: Workflow) -> Conflict:
    editor = None if workflow.updated_by is None else session.get(User, workflow.updated_by)
    who = "someone" if editor is None else f"{editor.first_name} {editor.last_name}".strip()
    return Conflict(
        f"Changed by {who} at {workflow.updated_at.isoformat(timespec='seconds')} — reload",  # WF-LIFE-07
        error="stale_revision",
        details={
            "revision": workflow.revision,
            "updated_by": workflow.updated_by,
            "updated_at": workflow.updated_at,
        },
    )


def require_editable(workflow: Workflow) -> None:
    if workflow.state == "published":  # WF-LIFE-02
        raise Conflict("Stop this workflow to edit it", error="workflow_published")


def save_draft(
    session: Session, principal: Principal, *, workflow_id: int, definition: Any, revision: int
) -> Workflow:
    """WF-LIFE-07: only in Draft or Stopped, only without configuration errors, only over the
    revision the editor loaded."""
    workflow = get_workflow(session, principal, workflow_id, lock=True)
    require_editable(workflow)
    if revision != workflow.revision:
        raise _stale(session, workflow)
    checked = drafts.checked(session, workflow, definition)
    workflow.draft = checked.to_json()
    workflow.revision += 1
    workflow.import_report = None  # WF-IO-06: the report stays until the first save
    _ensure_hook_token(workflow, checked)
    touch(session, principal, workflow, "saved", revision=workflow.revision)
    return workflow


def _published_candidates(session: Session, workspace_id: int, except_id: int) -> list[Candidate]:
    rows = session.execute(
        select(Workflow, WorkflowVersion.definition)
        .join(WorkflowVersion, WorkflowVersion.id == Workflow.published_version_id)
        .where(Workflow.workspace_id == workspace_id, Workflow.state == "published", Workflow.id != except_id)
    )
    return [Candidate(w.id, w.name, WorkflowDefinition.model_validate(d)) for w, d in rows]


def publish(
    session: Session,
    principal: Principal,
    *,
    workflow_id: int,
    definition: Any = None,
    revision: int | None = None,
) -> WorkflowVersion:
    """WF-LIFE-03: from Draft or Stopped, without configuration errors or loops (WF-LOOP-01); freezes a
    new numbered version (WF-GEN-04). With `definition`, the pending edits are saved first."""
    workflow = get_workflow(session, principal, workflow_id, lock=True)
    if workflow.state == "published":
        raise Conflict("This workflow is already published", error="already_published")
    references.lock_workspace(session, workflow.workspace_id)
    if definition is not None:
        if revision is None or revision != workflow.revision:
            raise _stale(session, workflow)
        workflow.draft = drafts.checked(session, workflow, definition).to_json()
        workflow.revision += 1
        workflow.import_report = None
    checked = drafts.checked(session, workflow, workflow.draft)
    loop = find_loop(
        Candidate(workflow.id, workflow.name, checked),
        _published_candidates(session, workflow.workspace_id, workflow.id),
    )
    if loop is not None:
        raise WorkflowInvalid(
            f"Workflow loop detected: {loop.describe()}",
            error="loop_detected",
            details={
                "cycle": [
                    {
                        "workflowId": h.workflow_id,
                        "workflowName": h.workflow_name,
                        "stepKey": h.step_key,
                        "stepName": h.step_name,
                    }
                    for h in loop.hops
                ]
            },
        )
    number = (
        session.scalar(
            select(func.max(WorkflowVersion.number)).where(WorkflowVersion.workflow_id == workflow.id)
        )
        or 0
    ) + 1
    document = checked.to_json()
    at = now(session)
    version = WorkflowVersion(
        workflow_id=workflow.id,
        number=number,
        definition=document,
        content_hash=content_hash(document),
        published_by=_actor_user(principal),
        published_at=at,
    )
    session.add(version)
    session.flush()
    workflow.state = "published"
    workflow.published_version_id = version.id
    workflow.trigger_type = None if checked.trigger is None else checked.trigger.type
    workflow.published_by = _actor_user(principal)
    workflow.published_at = at
    _ensure_hook_token(workflow, checked)
    runs.bump_revision(session, workspace_id=workflow.workspace_id)
    touch(session, principal, workflow, "published", version=number)
    return version


def stop(session: Session, principal: Principal, *, workflow_id: int) -> Workflow:
    """WF-LIFE-05: Published → Stopped; from then on its trigger enrols nobody."""
    workflow = get_workflow(session, principal, workflow_id, lock=True)
    if workflow.state != "published":
        raise Conflict("Only a published workflow can be stopped", error="not_published")
    workflow.state = "stopped"
    ejected = runs.end_active_runs(session, reason="workflow_stopped", workflow_id=workflow.id)  # WF-LIFE-05
    runs.bump_revision(session, workspace_id=workflow.workspace_id)
    touch(session, principal, workflow, "stopped", ejected=ejected)
    return workflow


def clone(session: Session, principal: Principal, *, workflow_id: int) -> Workflow:
    """WF-LIFE-08: a new Draft named "<name> (copy)" with the same definition and settings."""
    source = get_workflow(session, principal, workflow_id)
    reserve_slot(session, principal.workspace_id)
    name = free_name(session, principal.workspace_id, source.name, " (copy)")
    definition = definition_of(source)
    return new_workflow(
        session,
        principal,
        name=name,
        description=source.description,
        definition=definition,
        settings=WorkflowSettings.model_validate(source.settings),
        action="cloned",
        audit_data={"from": source.id},
    )


def delete(session: Session, principal: Principal, *, workflow_id: int) -> None:
    """WF-LIFE-09: Draft or Stopped only; refused while a published workflow hands contacts to it."""
    workflow = get_workflow(session, principal, workflow_id, lock=True)
    if workflow.state == "published":
        raise Conflict("Stop the workflow first", error="workflow_published")
    callers = references.published_users_of(
        session, workspace_id=workflow.workspace_id, kind="workflow", object_id=workflow.id
    )
    references.refuse_if_used(callers, f"Workflow {workflow.name!r}")
    audit.record(
        session,
        workspace_id=workflow.workspace_id,
        actor=principal.actor,
        action="deleted",
        target_kind="workflow",
        target_id=workflow.id,
        data={"name": workflow.name},
    )
    session.delete(workflow)
    session.flush()


def workspace_of(session: Session, workflow_id: int) -> int:
    """The workspace a workflow belongs to (for command-line tools that only know its id)."""
    workspace_id = session.scalar(select(Workflow.workspace_id).where(Workflow.id == workflow_id))
    if workspace_id is None:
        raise NotFound("Workflow not found")
    return workspace_id
