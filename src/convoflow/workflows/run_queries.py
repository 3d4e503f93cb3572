"""Reading runs for the UI (WF-RUN-18): a workflow's runs, one run's execution log, live step counts.

The read models are returned as they are shown; secrets are redacted on the way out (redaction.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from convoflow.accounts.principal import Principal
from convoflow.contacts.models import Contact
from convoflow.errors import NotFound, field_error
from convoflow.events.models import Event, Outbox
from convoflow.workflows import service
from convoflow.workflows.definition.graph import WorkflowDefinition
from convoflow.workflows.definition.steps import BranchStep, Step
from convoflow.workflows.engine.state import END_REASONS
from convoflow.workflows.models import Run, RunStep, WorkflowVersion
from convoflow.workflows.redaction import redact_effect, redact_values

RunFilter = Literal["active", "ended"]


class ContactRef(BaseModel):
    id: int
    name: str


class StepRef(BaseModel):
    key: str
    name: str | None
    type: str | None


class RunSummary(BaseModel):
    id: int
    workflow_id: int | None
    workflow_name: str
    contact: ContactRef
    status: str
    end_reason: str | None
    version: int | None
    current_step: StepRef | None
    wait_kind: str | None
    steps_done: int
    started_at: datetime
    ended_at: datetime | None


class TriggerEventRef(BaseModel):
    id: int
    type: str
    source: str
    occurred_at: datetime


class EffectLog(BaseModel):
    kind: str
    status: str
    attempts: int
    request: dict[str, Any]
    result: dict[str, Any] | None


class StepLog(BaseModel):
    seq: int
    key: str
    name: str | None
    type: str
    status: str
    output: str | None
    branch: str | None
    attempt: int
    started_at: datetime
    finished_at: datetime | None
    summary: dict[str, Any]
    error: dict[str, Any] | None
    effects: list[EffectLog]


class RunDetail(RunSummary):
    trigger_type: str | None
    trigger_event: TriggerEventRef | None
    trigger_variables: dict[str, Any]
    variables: dict[str, Any]
    steps: list[StepLog]


class StepCount(BaseModel):
    step: StepRef
    contacts: int


class StepCounts(BaseModel):
    """WF-RUN-18: contacts at each step now, and the workflow's active/completed/other-ended totals."""

    active: int
    completed: int
    other_ended: int
    ended_by_reason: dict[str, int]
    steps: list[StepCount]


def _definitions(session: Session, version_ids: set[int | None]) -> dict[int, tuple[int, WorkflowDefinition]]:
    wanted = [v for v in version_ids if v is not None]
    if not wanted:
        return {}
    rows = session.execute(
        select(WorkflowVersion.id, WorkflowVersion.number, WorkflowVersion.definition).where(
            WorkflowVersion.id.in_(wanted)
        )
    )
    return {vid: (number, WorkflowDefinition.model_validate(doc)) for vid, number, doc in rows}


def step_ref(definition: WorkflowDefinition | None, key: str | None) -> StepRef | None:
    if key is None:
        return None
    step = definition.step(key) if definition is not None else None
    return StepRef(
        key=key, name=None if step is None else step.name, type=None if step is None else step.type
    )


def _contact_names(session: Session, contact_ids: set[int]) -> dict[int, str]:
    if not contact_ids:
        return {}
    rows = session.execute(
        select(Contact.id, Contact.first_name, Contact.last_name).where(Contact.id.in_(contact_ids))
    )
    return {cid: f"{first} {last or ''}".strip() for cid, first, last in rows}


def _summary(
    run: Run, names: dict[int, str], definitions: dict[int, tuple[int, WorkflowDefinition]]
) -> dict[str, Any]:
    number, definition = definitions.get(run.version_id or 0, (None, None))
    return {
        "id": run.id,
        "workflow_id": run.workflow_id,
        "workflow_name": run.workflow_name,
        "contact": ContactRef(id=run.contact_id, name=names.get(run.contact_id, "")),
        "status": run.status,
        "end_reason": run.end_reason,
        "version": number,
        "current_step": step_ref(definition, run.cursor),
        "wait_kind": run.wait_kind,
        "steps_done": run.steps_done,
        "started_at": run.started_at,
        "ended_at": run.ended_at,
    }


def list_runs(
    session: Session,
    principal: Principal,
    *,
    workflow_id: int,
    status: RunFilter | None,
    end_reason: str | None,
    contact_id: int | None,
    before_id: int | None,
    limit: int,
) -> list[RunSummary]:
    """Newest first; `before_id` is the id cursor of the previous page."""
    workflow = service.get_workflow(session, principal, workflow_id)
    if end_reason is not None and end_reason not in END_REASONS:
        raise field_error("end_reason", f"Unknown end reason; use one of {', '.join(sorted(END_REASONS))}")
    query = select(Run).where(Run.workflow_id == workflow.id, Run.workspace_id == principal.workspace_id)
    if status == "active":
        query = query.where(Run.status != "ended")
    elif status == "ended":
        query = query.where(Run.status == "ended")
    if end_reason is not None:
        query = query.where(Run.end_reason == end_reason)
    if contact_id is not None:
        query = query.where(Run.contact_id == contact_id)
    if before_id is not None:
        query = query.where(Run.id < before_id)
    runs = list(session.scalars(query.order_by(Run.id.desc()).limit(limit)))
    names = _contact_names(session, {r.contact_id for r in runs})
    definitions = _definitions(session, {r.version_id for r in runs})
    return [RunSummary(**_summary(run, names, definitions)) for run in runs]


def _branch_name(step: Step | None, output: str | None) -> str | None:
    """The chosen branch of a Branch step, as the builder names it."""
    if not isinstance(step, BranchStep) or output is None:
        return None
    if output == "else":
        return "Else"
    if output.startswith("branch:") and output[7:].isdigit():
        index = int(output[7:]) - 1
        if 0 <= index < len(step.config.branches):
            return step.config.branches[index].name or f"Branch {index + 1}"
    return None


def get_run(session: Session, principal: Principal, *, workflow_id: int, run_id: int) -> RunDetail:
    """The execution log of one run: steps in visit order with outcomes, errors and effects."""
    workflow = service.get_workflow(session, principal, workflow_id)
    run = session.scalar(
        select(Run).where(
            Run.id == run_id, Run.workflow_id == workflow.id, Run.workspace_id == workflow.workspace_id
        )
    )
    if run is None:
        raise NotFound("Run not found", error="run_not_found")
    definitions = _definitions(session, {run.version_id})
    definition = definitions.get(run.version_id or 0, (None, None))[1]
    event = None if run.trigger_event_id is None else session.get(Event, run.trigger_event_id)
    effects: dict[int, list[Outbox]] = {}
    for effect in session.scalars(select(Outbox).where(Outbox.run_id == run.id).order_by(Outbox.id)):
        effects.setdefault(effect.seq or 0, []).append(effect)
    steps = []
    for row in session.scalars(select(RunStep).where(RunStep.run_id == run.id).order_by(RunStep.seq)):
        step = definition.step(row.step_key) if definition is not None else None
        steps.append(
            StepLog(
                seq=row.seq,
                key=row.step_key,
                name=None if step is None else step.name,
                type=row.step_type,
                status=row.status,
                output=row.output,
                branch=_branch_name(step, row.output),
                attempt=row.attempt,
                started_at=row.started_at,
                finished_at=row.finished_at,
                summary=redact_values(row.summary),
                error=row.error,
                effects=[
                    EffectLog(
                        kind=e.kind,
                        status=e.status,
                        attempts=e.attempts,
                        **redact_effect(step, request=e.request, result=e.result),
                    )
                    for e in effects.get(row.seq, [])
                ],
            )
        )
    variables = dict(run.variables)
    return RunDetail(
        **_summary(run, _contact_names(session, {run.contact_id}), definitions),
        trigger_type=None if definition is None or definition.trigger is None else definition.trigger.type,
        trigger_event=None
        if event is None
        else TriggerEventRef(
            id=event.id, type=event.type, source=event.source, occurred_at=event.occurred_at
        ),
        trigger_variables=redact_values(variables.get("trigger") or {}),
        variables=redact_values(variables.get("var") or {}),
        steps=steps,
    )


def step_counts(session: Session, principal: Principal, *, workflow_id: int) -> StepCounts:
    """Live: active runs grouped by their current step, plus totals of the runs kept (WF-RUN-18)."""
    workflow = service.get_workflow(session, principal, workflow_id)
    at_steps = session.execute(
        select(Run.version_id, Run.cursor, func.count())
        .where(Run.workflow_id == workflow.id, Run.status != "ended")
        .group_by(Run.version_id, Run.cursor)
    ).all()
    ended = dict(
        session.execute(
            select(Run.end_reason, func.count())
            .where(Run.workflow_id == workflow.id, Run.status == "ended")
            .group_by(Run.end_reason)
        ).all()
    )
    definitions = _definitions(session, {v for v, _c, _n in at_steps} | {workflow.published_version_id})
    current = definitions.get(workflow.published_version_id or 0, (None, None))[1]
    by_key: dict[str, StepCount] = {}
    for version_id, cursor, count in at_steps:
        if cursor is None:
            continue
        if cursor not in by_key:
            own = definitions.get(version_id or 0, (None, None))[1]
            ref = step_ref(current, cursor) if current is not None and current.step(cursor) else None
            by_key[cursor] = StepCount(
                step=ref or step_ref(own, cursor) or StepRef(key=cursor, name=None, type=None), contacts=0
            )
        by_key[cursor].contacts += count
    order = {step.key: n for n, step in enumerate(current.steps)} if current is not None else {}
    reasons = {str(reason): int(n) for reason, n in ended.items() if reason is not None}
    completed = reasons.get("completed", 0)
    return StepCounts(
        active=sum(int(n) for _v, _c, n in at_steps),
        completed=completed,
        other_ended=sum(reasons.values()) - completed,
        ended_by_reason=reasons,
        steps=sorted(by_key.values(), key=lambda c: (order.get(c.step.key, len(order)), c.step.key)),
    )
