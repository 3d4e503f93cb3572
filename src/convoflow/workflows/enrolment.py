"""Enrolling a contact in a published workflow (WF-RUN-01/02, WF-TRG-04, WF-LOOP-04)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from convoflow import metrics
from convoflow.contacts.models import Contact
from convoflow.db.base import table_of
from convoflow.db.session import core, now
from convoflow.events.queue import touch
from convoflow.workflows.activity import record_entered
from convoflow.workflows.definition.graph import WorkflowDefinition
from convoflow.workflows.definition.triggers import ManualTrigger
from convoflow.workflows.models import Enrolment, Run, Workflow, WorkflowVersion

ENROLMENTS_PER_HOUR = 20  # WF-LOOP-04

# Built once: enrolment runs for every matching event (docs/benchmarks.md).
_PAIR = (Run.workflow_id == bindparam("workflow_id")) & (Run.contact_id == bindparam("contact_id"))
_PUBLISHED = select(Workflow.state, Workflow.published_version_id).where(
    Workflow.id == bindparam("workflow_id")
)
_BLOCKED = select(Contact.blocked).where(Contact.id == bindparam("contact_id"))
_ACTIVE = select(Run.id).where(_PAIR, Run.status != "ended")
_ENROLLED_BEFORE = select(Enrolment.first_at).where(
    Enrolment.workflow_id == bindparam("workflow_id"), Enrolment.contact_id == bindparam("contact_id")
)
_RECENT = select(func.count()).select_from(Run).where(_PAIR, Run.started_at > bindparam("since"))
_INSERT_RUN = insert(table_of(Run)).returning(table_of(Run).c.id)


@dataclass(frozen=True, slots=True)
class Decision:
    """What happened for one published workflow on one event: the "why did my workflow (not) fire" log."""

    workflow_id: int
    outcome: str  # enrolled | no_match | conditions_false | blocked | already_enrolled | once_per_contact
    #               | not_published | loop_guard
    run_id: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {"workflow_id": self.workflow_id, "outcome": self.outcome, "run_id": self.run_id}


def enrol(
    session: Session,
    *,
    workspace_id: int,
    workflow_id: int,
    workflow_name: str,
    version_id: int,
    definition: WorkflowDefinition,
    contact_id: int,
    variables: dict[str, Any],
    event_id: int | None,
) -> Decision:
    """Creates a run when every rule allows it; the partial unique index is the last word (WF-RUN-02)."""
    connection = core(session)
    pair = {"workflow_id": workflow_id, "contact_id": contact_id}
    state = connection.execute(_PUBLISHED, pair).first()
    if state is None or state[0] != "published" or state[1] != version_id:
        return Decision(workflow_id, "not_published")  # a stale index never enrols into a stopped workflow
    blocked = connection.scalar(_BLOCKED, pair)
    if blocked is None or blocked:
        return Decision(workflow_id, "blocked")
    active = connection.scalar(_ACTIVE, pair)
    if active is not None:
        return Decision(workflow_id, "already_enrolled", active)
    trigger = definition.trigger
    once = trigger is not None and not isinstance(trigger, ManualTrigger) and trigger.trigger_once_per_contact
    if once and connection.scalar(_ENROLLED_BEFORE, pair) is not None:
        return Decision(workflow_id, "once_per_contact")
    at = now(session)
    recent = connection.scalar(_RECENT, {**pair, "since": at - timedelta(hours=1)}) or 0
    guarded = recent >= ENROLMENTS_PER_HOUR
    run_id = int(
        connection.execute(
            _INSERT_RUN,
            {
                "workspace_id": workspace_id,
                "workflow_id": workflow_id,
                "workflow_name": workflow_name,
                "version_id": version_id,
                "contact_id": contact_id,
                "status": "ended" if guarded else "ready",
                "end_reason": "loop_guard" if guarded else None,
                "cursor": None if guarded else definition.root,
                "next_seq": 1,
                "wait_token": 0,
                "variables": {} if guarded else {"trigger": variables, "var": {}},
                "jumps": {},
                "steps_done": 0,
                "trigger_event_id": event_id,
                "started_at": at,
                "ended_at": at if guarded else None,
            },
        ).scalar_one()
    )
    insert_ = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    connection.execute(
        insert_(Enrolment)
        .values(workflow_id=workflow_id, contact_id=contact_id, first_at=at)
        .on_conflict_do_nothing()
    )
    metrics.count_run_started(session, trigger=trigger.type if trigger is not None else "none")
    if guarded:
        metrics.count_runs_finished(session, reason="loop_guard")
        return Decision(workflow_id, "loop_guard", run_id)
    touch(session, workspace_id=workspace_id, contact_id=contact_id)
    record_entered(
        session,
        run_id=run_id,
        workspace_id=workspace_id,
        contact_id=contact_id,
        workflow_id=workflow_id,
        workflow_name=workflow_name,
    )
    return Decision(workflow_id, "enrolled", run_id)


def enrol_manual(
    session: Session, *, workspace_id: int, contact_id: int, workflow_id: int, inputs: dict[str, str]
) -> bool:
    """WF-TRG-MAN-01: the target must be published with a Manual trigger; inputs become $trigger.*."""
    row = session.execute(
        select(Workflow, WorkflowVersion.definition)
        .join(WorkflowVersion, WorkflowVersion.id == Workflow.published_version_id)
        .where(
            Workflow.id == workflow_id, Workflow.workspace_id == workspace_id, Workflow.state == "published"
        )
    ).first()
    if row is None:
        return False
    workflow, document = row
    definition = WorkflowDefinition.model_validate(document)
    if not isinstance(definition.trigger, ManualTrigger):
        return False
    declared = set(definition.trigger.config.inputs)
    decision = enrol(
        session,
        workspace_id=workspace_id,
        workflow_id=workflow.id,
        workflow_name=workflow.name,
        version_id=workflow.published_version_id or 0,
        definition=definition,
        contact_id=contact_id,
        variables={name: value for name, value in inputs.items() if name in declared},
        event_id=None,
    )
    return decision.outcome == "enrolled"
