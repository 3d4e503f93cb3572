"""Builds the definition layer's Catalog from a workspace's rows."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from convoflow.accounts.models import Membership, User, Workspace
from convoflow.accounts.workspace_settings import WorkspaceSettings
from convoflow.channels.models import Channel
from convoflow.contacts.models import ContactField, LifecycleStage, Tag
from convoflow.conversations.models import ClosingCategory
from convoflow.teams.models import Team
from convoflow.workflows.definition.catalog import (
    Catalog,
    CatalogChannel,
    CatalogField,
    CatalogUser,
    CatalogWorkflow,
)
from convoflow.workflows.definition.graph import WorkflowDefinition
from convoflow.workflows.definition.triggers import ManualTrigger
from convoflow.workflows.models import Workflow, WorkflowVersion


def build_catalog(session: Session, *, workspace_id: int, workflow_id: int | None = None) -> Catalog:
    workspace = session.get(Workspace, workspace_id)
    settings = WorkspaceSettings.model_validate(workspace.settings if workspace else {})
    users = {
        user.id: CatalogUser(
            user.id,
            user.email,
            f"{user.first_name} {user.last_name}".strip(),
            membership.deactivated_at is None,
        )
        for user, membership in session.execute(
            select(User, Membership)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.workspace_id == workspace_id)
        )
    }

    def names(model: type[Team] | type[Tag] | type[LifecycleStage] | type[ClosingCategory]) -> dict[int, str]:
        rows = session.execute(select(model.id, model.name).where(model.workspace_id == workspace_id))
        return {row_id: name for row_id, name in rows}

    return Catalog(
        users=users,
        teams=names(Team),
        channels={
            c.id: CatalogChannel(c.id, c.kind, c.name)
            for c in session.scalars(select(Channel).where(Channel.workspace_id == workspace_id))
        },
        fields={
            f.slug: CatalogField(f.slug, f.name, f.type, tuple(f.options))
            for f in session.scalars(select(ContactField).where(ContactField.workspace_id == workspace_id))
        },
        tags=names(Tag),
        stages=names(LifecycleStage) if settings.lifecycle_enabled else {},
        categories=names(ClosingCategory),
        workflows=_workflows(session, workspace_id),
        closing_category_required=settings.closing_notes
        in ("category_required", "category_and_summary_required"),
        closing_summary_required=settings.closing_notes == "category_and_summary_required",
        workflow_id=workflow_id,
    )


def _workflows(session: Session, workspace_id: int) -> dict[int, CatalogWorkflow]:
    """Other workflows as Trigger Another Workflow sees them: the published trigger when there is one,
    else the draft's, with its Manual inputs."""
    result: dict[int, CatalogWorkflow] = {}
    rows = session.execute(
        select(Workflow, WorkflowVersion.definition)
        .outerjoin(WorkflowVersion, WorkflowVersion.id == Workflow.published_version_id)
        .where(Workflow.workspace_id == workspace_id)
    )
    for workflow, published in rows:
        try:
            definition = WorkflowDefinition.model_validate(published or workflow.draft)
        except ValueError:
            definition = WorkflowDefinition()
        trigger = definition.trigger
        inputs = tuple(trigger.config.inputs) if isinstance(trigger, ManualTrigger) else ()
        result[workflow.id] = CatalogWorkflow(
            workflow.id, workflow.name, None if trigger is None else trigger.type, workflow.state, inputs
        )
    return result
