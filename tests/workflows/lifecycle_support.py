"""Helpers for the lifecycle tests: definition documents, workflows arranged through the service, and
reads of the stored rows (each read ends its transaction so the API can write next on SQLite)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from convoflow.accounts.principal import Principal
from convoflow.audit.models import AuditEntry
from convoflow.testing.factories import principal
from convoflow.workflows import service
from convoflow.workflows.models import Workflow, WorkflowVersion
from tests.support import World

# ----------------------------------------------------------------------------------- definition documents


def step(
    key: str,
    type_: str,
    *,
    name: str | None = None,
    outputs: dict[str, str | None] | None = None,
    **config: Any,
) -> dict[str, Any]:
    return {
        "key": key,
        "name": name or key,
        "type": type_,
        "outputs": outputs if outputs is not None else {},
        "config": config,
    }


def send(key: str = "s1", text: str = "Hola", *, next_: str | None = None, name: str | None = None) -> Any:
    return step(key, "send_message", name=name or f"Send {key}", outputs={"next": next_}, text=text)


def document(trigger: dict[str, Any] | None, *steps: dict[str, Any], root: str | None = None) -> Any:
    """A definition document; the root defaults to the first step."""
    return {
        "trigger": trigger,
        "root": root if root is not None else (steps[0]["key"] if steps else None),
        "steps": list(steps),
    }


OPENED = {"type": "conversation_opened", "config": {"sources": ["contact"]}}


def simple(text: str = "Hola") -> Any:
    """The smallest valid workflow: a conversation opened by the contact gets one message."""
    return document(OPENED, send("s1", text))


def tag_ref(tag_id: int | None, name: str) -> dict[str, Any]:
    return {"ref": "tag", "id": tag_id, "key": name, "label": name}


def workflow_ref(workflow_id: int, name: str) -> dict[str, Any]:
    return {"ref": "workflow", "id": workflow_id, "key": name, "label": name}


def manual(*inputs: str) -> dict[str, Any]:
    return {"type": "manual", "config": {"inputs": list(inputs)}}


def calls(target_id: int, target_name: str, *, key: str = "call", name: str = "Hand over") -> Any:
    """A step handing the contact to another workflow (Trigger Another Workflow)."""
    return step(key, "trigger_workflow", name=name, workflow=workflow_ref(target_id, target_name))


def webhook_trigger() -> dict[str, Any]:
    return {
        "type": "incoming_webhook",
        "config": {"identify_by": "email", "contact_path": "$.customer.email"},
    }


# ------------------------------------------------------------------------------- arranging through services


def owner_of(world: World) -> Principal:
    return principal(world.workspace, world.owner)


def manager_of(world: World) -> Principal:
    return principal(world.workspace, world.manager, role="manager")


def make_draft(
    session: Session,
    who: Principal,
    name: str,
    definition: Any = None,
    *,
    description: str = "",
    commit: bool = True,
) -> Workflow:
    """A Draft, saved with `definition` when one is given."""
    workflow = service.create_workflow(session, who, name=name, description=description)
    if definition is not None:
        service.save_draft(session, who, workflow_id=workflow.id, definition=definition, revision=1)
    if commit:
        session.commit()
    return workflow


def make_published(
    session: Session, who: Principal, name: str, definition: Any = None, *, description: str = ""
) -> Workflow:
    workflow = make_draft(
        session,
        who,
        name,
        simple() if definition is None else definition,
        description=description,
        commit=False,
    )
    service.publish(session, who, workflow_id=workflow.id)
    session.commit()
    return workflow


def make_stopped(session: Session, who: Principal, name: str, definition: Any = None) -> Workflow:
    workflow = make_published(session, who, name, definition)
    service.stop(session, who, workflow_id=workflow.id)
    session.commit()
    return workflow


# ------------------------------------------------------------------------------------ reading stored rows


@dataclass(frozen=True)
class Snapshot:
    """Everything a refused request must leave as it was."""

    workflows: list[tuple[Any, ...]]
    versions: list[tuple[Any, ...]]
    audit: int


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def snapshot(session: Session, workspace_id: int) -> Snapshot:
    workflows = session.scalars(
        select(Workflow)
        .where(Workflow.workspace_id == workspace_id)
        .order_by(Workflow.id)
        .execution_options(populate_existing=True)
    ).all()
    versions = session.scalars(
        select(WorkflowVersion)
        .join(Workflow, Workflow.id == WorkflowVersion.workflow_id)
        .where(Workflow.workspace_id == workspace_id)
        .order_by(WorkflowVersion.id)
        .execution_options(populate_existing=True)
    ).all()
    audit = session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.workspace_id == workspace_id)
    )
    result = Snapshot(
        workflows=[
            (
                w.id,
                w.name,
                w.description,
                w.state,
                _canonical(w.draft),
                w.revision,
                _canonical(w.settings),
                w.published_version_id,
                w.hook_token,
                w.published_at,
                w.updated_at,
            )
            for w in workflows
        ],
        versions=[
            (v.id, v.workflow_id, v.number, _canonical(v.definition), v.content_hash, v.published_at)
            for v in versions
        ],
        audit=audit or 0,
    )
    session.commit()
    return result


def stored(session: Session, workflow_id: int) -> Workflow:
    workflow = session.get(Workflow, workflow_id, populate_existing=True)
    assert workflow is not None
    session.commit()
    return workflow


def versions_of(session: Session, workflow_id: int) -> list[WorkflowVersion]:
    rows = list(
        session.scalars(
            select(WorkflowVersion)
            .where(WorkflowVersion.workflow_id == workflow_id)
            .order_by(WorkflowVersion.number)
            .execution_options(populate_existing=True)
        )
    )
    session.commit()
    return rows


def audit_of(session: Session, workflow_id: int) -> list[AuditEntry]:
    """The workflow's audit entries, oldest first."""
    rows = list(
        session.scalars(
            select(AuditEntry)
            .where(AuditEntry.target_kind == "workflow", AuditEntry.target_id == workflow_id)
            .order_by(AuditEntry.id)
            .execution_options(populate_existing=True)
        )
    )
    session.commit()
    return rows


def workflow_count(session: Session, workspace_id: int) -> int:
    count = service.count_workflows(session, workspace_id)
    session.commit()
    return count
