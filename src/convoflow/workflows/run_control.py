"""A contact's workflows panel and Stop for one contact (WF-LIFE-10); enrolling by hand (WF-TRG-MAN-01)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from convoflow.accounts.principal import Principal
from convoflow.audit import service as audit
from convoflow.contacts import service as contacts
from convoflow.errors import Conflict, InvalidInput, NotFound
from convoflow.workflows import runs, service
from convoflow.workflows.definition.graph import WorkflowDefinition, WorkflowSettings
from convoflow.workflows.definition.triggers import ManualTrigger
from convoflow.workflows.enrolment import Decision, enrol
from convoflow.workflows.models import Run, Workflow, WorkflowVersion
from convoflow.workflows.run_queries import StepRef, step_ref


class ContactWorkflow(BaseModel):
    """One line of the contact's Workflows panel: a published workflow, with the ongoing run if any."""

    workflow_id: int
    workflow_name: str
    ongoing: bool
    run_id: int | None
    status: str | None
    current_step: StepRef | None
    wait_kind: str | None
    since: datetime | None
    can_stop: bool


class EnrolResult(BaseModel):
    """`enrolled`, or `refused` with the enrolment rule that said no (WF-TRG-SHORT-02)."""

    status: str
    reason: str | None = None
    message: str | None = None
    run_id: int | None = None


REFUSALS = {
    "already_enrolled": "The contact is already in this workflow",
    "once_per_contact": "This workflow runs only once per contact",
    "blocked": "The contact is blocked",
    "not_published": "The workflow is not published",
    "loop_guard": "The contact entered this workflow too often in the last hour",
}


def enrol_result(decision: Decision) -> EnrolResult:
    if decision.outcome == "enrolled":
        return EnrolResult(status="enrolled", run_id=decision.run_id)
    return EnrolResult(
        status="refused", reason=decision.outcome, message=REFUSALS.get(decision.outcome, decision.outcome)
    )


def _allows_stop(settings: dict[str, Any]) -> bool:
    return WorkflowSettings.model_validate(settings).allow_stop_for_contact


def contact_workflows(session: Session, principal: Principal, *, contact_id: int) -> list[ContactWorkflow]:
    """WF-LIFE-10: the published workflows, the ones the contact is in first (newest run first)."""
    contact = contacts.get_contact(session, principal, contact_id)
    active = session.execute(
        select(Run, Workflow.name, Workflow.settings, WorkflowVersion.definition)
        .join(Workflow, Workflow.id == Run.workflow_id)
        .outerjoin(WorkflowVersion, WorkflowVersion.id == Run.version_id)
        .where(Run.contact_id == contact.id, Run.status != "ended")
        .order_by(Run.started_at.desc(), Run.id.desc())
    ).all()
    lines = [
        ContactWorkflow(
            workflow_id=workflow_id,
            workflow_name=name,
            ongoing=True,
            run_id=run.id,
            status=run.status,
            current_step=step_ref(
                None if document is None else WorkflowDefinition.model_validate(document), run.cursor
            ),
            wait_kind=run.wait_kind,
            since=run.started_at,
            can_stop=_allows_stop(settings),
        )
        for run, name, settings, document in active
        if (workflow_id := run.workflow_id) is not None
    ]
    ongoing = {line.workflow_id for line in lines}
    published = session.execute(
        select(Workflow.id, Workflow.name)
        .where(Workflow.workspace_id == contact.workspace_id, Workflow.state == "published")
        .order_by(Workflow.name_norm, Workflow.id)
    ).all()
    lines += [
        ContactWorkflow(
            workflow_id=workflow_id,
            workflow_name=name,
            ongoing=False,
            run_id=None,
            status=None,
            current_step=None,
            wait_kind=None,
            since=None,
            can_stop=False,
        )
        for workflow_id, name in published
        if workflow_id not in ongoing
    ]
    return lines


def stop_for_contact(session: Session, principal: Principal, *, contact_id: int, run_id: int) -> Run:
    """WF-LIFE-10: any user who can see the contact, only when the workflow allows it; the run ends
    `stopped_for_contact` and a later trigger event may enrol the contact again."""
    contact = contacts.get_contact(session, principal, contact_id)
    row = session.execute(
        select(Run, Workflow)
        .join(Workflow, Workflow.id == Run.workflow_id)
        .where(Run.id == run_id, Run.contact_id == contact.id, Run.workspace_id == contact.workspace_id)
    ).first()
    if row is None:
        raise NotFound("Run not found", error="run_not_found")
    run, workflow = row
    if not _allows_stop(workflow.settings):
        raise Conflict(
            "This workflow does not allow stopping it for one contact", error="stop_for_contact_not_allowed"
        )
    if runs.end_active_runs(session, reason="stopped_for_contact", run_id=run.id) == 0:
        raise Conflict("The run has already ended", error="run_ended")
    audit.record(
        session,
        workspace_id=workflow.workspace_id,
        actor=principal.actor,
        action="run_stopped_for_contact",
        target_kind="workflow",
        target_id=workflow.id,
        data={"run_id": run.id, "contact_id": contact.id},
    )
    session.refresh(run)
    return run


def published_definition(session: Session, workflow: Workflow) -> WorkflowDefinition:
    """The definition runs enrol into; 409 when the workflow is not published."""
    version = (
        None
        if workflow.state != "published" or workflow.published_version_id is None
        else session.get(WorkflowVersion, workflow.published_version_id)
    )
    if version is None:
        raise Conflict("The workflow is not published", error="workflow_not_published")
    return WorkflowDefinition.model_validate(version.definition)


def enrol_by_hand(
    session: Session, principal: Principal, *, workflow_id: int, contact_id: int, inputs: dict[str, str]
) -> Decision:
    """WF-TRG-MAN-01 from the web app: a published Manual-trigger workflow, its declared inputs only."""
    workflow = service.get_workflow(session, principal, workflow_id)
    definition = published_definition(session, workflow)
    if not isinstance(definition.trigger, ManualTrigger):
        raise Conflict(
            "Only workflows with a Manual trigger can be enrolled by hand", error="not_manual_trigger"
        )
    declared = set(definition.trigger.config.inputs)
    unknown = sorted(set(inputs) - declared)
    if unknown:
        raise InvalidInput(
            f"Unknown inputs: {', '.join(unknown)}",
            error="unknown_inputs",
            details=[
                {"field": f"inputs.{name}", "message": "Not declared by the Manual trigger"}
                for name in unknown
            ],
        )
    contact = contacts.get_contact(session, principal, contact_id)
    assert workflow.published_version_id is not None
    return enrol(
        session,
        workspace_id=workflow.workspace_id,
        workflow_id=workflow.id,
        workflow_name=workflow.name,
        version_id=workflow.published_version_id,
        definition=definition,
        contact_id=contact.id,
        variables=dict(inputs),
        event_id=None,
    )
