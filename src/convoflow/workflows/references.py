"""Which published workflows name a team, field, tag or workflow (CRM-TEAM-04, CRM-FIELD-04, CRM-TAG-03,
WF-LIFE-09). Deleting such an object is refused with the list."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from convoflow.accounts.models import Workspace
from convoflow.errors import Conflict
from convoflow.workflows.definition import variables
from convoflow.workflows.definition.conditions import Condition
from convoflow.workflows.definition.graph import WorkflowDefinition
from convoflow.workflows.definition.refs import Ref
from convoflow.workflows.definition.steps import AskQuestionStep, UpdateFieldStep
from convoflow.workflows.definition.triggers import ContactFieldUpdatedTrigger
from convoflow.workflows.models import Workflow, WorkflowVersion


def _refs(node: Any) -> Iterator[Ref]:
    if isinstance(node, Ref):
        yield node
    elif isinstance(node, BaseModel):
        for name in type(node).model_fields:
            yield from _refs(getattr(node, name))
    elif isinstance(node, list | tuple):
        for item in node:
            yield from _refs(item)
    elif isinstance(node, dict):
        for item in node.values():
            yield from _refs(item)


def _field_names(definition: WorkflowDefinition) -> set[str]:
    names: set[str] = set()
    if isinstance(definition.trigger, ContactFieldUpdatedTrigger):
        names |= {name.lower() for name in definition.trigger.config.fields}
    for step in definition.steps:
        if isinstance(step, UpdateFieldStep):
            names |= {row.field.lower() for row in step.config.rows}
        if isinstance(step, AskQuestionStep) and step.config.save_field:
            names.add(step.config.save_field.lower())
    stack: list[Any] = [definition]
    while stack:
        node = stack.pop()
        if isinstance(node, Condition) and node.category == "contact_field" and node.field:
            names.add(node.field.lower())
            stack.append(node.value)
        elif isinstance(node, str):
            # `$contact.<slug>` in a text (WF-VAR-02) names the field too.
            names |= {token.path for token in variables.tokens(node) if token.namespace == "contact"}
        elif isinstance(node, BaseModel):
            stack.extend(getattr(node, name) for name in type(node).model_fields)
        elif isinstance(node, list | tuple):
            stack.extend(node)
        elif isinstance(node, dict):
            stack.extend(node.values())
    return names


def lock_workspace(session: Session, workspace_id: int) -> None:
    """Serialises publishing with the checks below: publish takes this lock before it validates, and
    every "who uses this" check takes it before it reads. So a deletion never misses a workflow being
    published at the same moment (nor a publish an object deleted meanwhile), and two publishes never
    miss each other's loop (WF-LOOP-01). SQLite writers are serialised anyway."""
    session.scalar(select(Workspace.id).where(Workspace.id == workspace_id).with_for_update())


def _published(session: Session, workspace_id: int) -> Iterator[tuple[Workflow, WorkflowDefinition]]:
    lock_workspace(session, workspace_id)
    rows = session.execute(
        select(Workflow, WorkflowVersion.definition)
        .join(WorkflowVersion, WorkflowVersion.id == Workflow.published_version_id)
        .where(Workflow.workspace_id == workspace_id, Workflow.state == "published")
        .order_by(Workflow.id)
    )
    for workflow, document in rows:
        yield workflow, WorkflowDefinition.model_validate(document)


def published_users_of(session: Session, *, workspace_id: int, kind: str, object_id: int) -> list[Workflow]:
    """Published workflows whose current version refers to object `object_id` of `kind`."""
    return [
        workflow
        for workflow, definition in _published(session, workspace_id)
        if any(ref.ref == kind and ref.id == object_id for ref in _refs(definition))
    ]


def published_users_of_field(session: Session, *, workspace_id: int, slug: str) -> list[Workflow]:
    return [
        workflow
        for workflow, definition in _published(session, workspace_id)
        if slug.lower() in _field_names(definition)
    ]


def refuse_if_used(workflows: list[Workflow], what: str) -> None:
    if workflows:
        names = ", ".join(repr(w.name) for w in workflows)
        raise Conflict(
            f"{what} is used by published workflows: {names}",
            error="used_by_published_workflows",
            details={"workflows": [{"id": w.id, "name": w.name} for w in workflows]},
        )
