"""Published versions of a workflow: list, view, restore into the draft, discard draft changes."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from convoflow.accounts.principal import Principal
from convoflow.errors import Conflict, NotFound
from convoflow.workflows import service
from convoflow.workflows.definition.hashing import content_hash
from convoflow.workflows.models import Workflow, WorkflowVersion


def list_versions(session: Session, principal: Principal, *, workflow_id: int) -> Sequence[WorkflowVersion]:
    workflow = service.get_workflow(session, principal, workflow_id)
    return session.scalars(
        select(WorkflowVersion)
        .where(WorkflowVersion.workflow_id == workflow.id)
        .order_by(WorkflowVersion.number.desc())
    ).all()


def get_version(session: Session, principal: Principal, *, workflow_id: int, number: int) -> WorkflowVersion:
    workflow = service.get_workflow(session, principal, workflow_id)
    version = session.scalar(
        select(WorkflowVersion).where(
            WorkflowVersion.workflow_id == workflow.id, WorkflowVersion.number == number
        )
    )
    if version is None:
        raise NotFound("Version not found")
    return version


def restore_version(session: Session, principal: Principal, *, workflow_id: int, number: int) -> Workflow:
    """Copies a version into the draft (Draft or Stopped only); the next publish makes a new version."""
    version = get_version(session, principal, workflow_id=workflow_id, number=number)
    workflow = service.get_workflow(session, principal, workflow_id, lock=True)
    service.require_editable(workflow)
    workflow.draft = dict(version.definition)
    workflow.revision += 1
    service.touch(session, principal, workflow, "version_restored", version=number)
    return workflow


def discard_draft(session: Session, principal: Principal, *, workflow_id: int) -> Workflow:
    """Throws the draft's changes away: back to the last published version."""
    workflow = service.get_workflow(session, principal, workflow_id, lock=True)
    service.require_editable(workflow)
    version = service.published_version(session, workflow)
    if version is None:
        raise Conflict(
            "This workflow was never published; there is nothing to go back to", error="never_published"
        )
    workflow.draft = dict(version.definition)
    workflow.revision += 1
    workflow.import_report = None
    service.touch(session, principal, workflow, "draft_discarded", version=version.number)
    return workflow


def has_unpublished_changes(session: Session, workflow: Workflow) -> bool:
    version = service.published_version(session, workflow)
    return version is None or version.content_hash != content_hash(workflow.draft)
