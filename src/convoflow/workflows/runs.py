"""Ending runs from outside the engine: a stopped workflow, a blocked contact, one stopped run."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from convoflow import metrics
from convoflow.accounts.models import Workspace
from convoflow.db.session import now
from convoflow.workflows.activity import record_left
from convoflow.workflows.models import Run


def end_active_runs(
    session: Session,
    *,
    reason: str,
    workflow_id: int | None = None,
    contact_id: int | None = None,
    run_id: int | None = None,
) -> int:
    """Ends every active run of the workflow and/or contact (or the one run); their waits, timers and
    unsent outbox rows go stale (wake-ups compare tokens, the relay drops effects of ended runs)."""
    query = update(Run).where(Run.status != "ended")
    if run_id is not None:
        query = query.where(Run.id == run_id)
    if workflow_id is not None:
        query = query.where(Run.workflow_id == workflow_id)
    if contact_id is not None:
        query = query.where(Run.contact_id == contact_id)
    ended = session.execute(
        query.values(
            status="ended",
            end_reason=reason,
            ended_at=now(session),
            wait_kind=None,
            cursor=None,
            wake=None,
            variables={},  # WF-VAR-06
        )
        .returning(Run.id, Run.workspace_id, Run.contact_id, Run.workflow_id, Run.workflow_name)
        .execution_options(synchronize_session=False)
    ).all()
    for run_id, workspace_id, run_contact_id, run_workflow_id, workflow_name in ended:
        record_left(
            session,
            run_id=run_id,
            workspace_id=workspace_id,
            contact_id=run_contact_id,
            workflow_id=run_workflow_id,
            workflow_name=workflow_name,
            reason=reason,
        )
    count = len(ended)
    metrics.count_runs_finished(session, reason=reason, runs=count)
    return count


def count_active(session: Session, *, workflow_id: int) -> int:
    """Contacts currently enrolled (the Stop confirmation shows it, WF-LIST-05)."""
    return (
        session.scalar(
            select(func.count()).select_from(Run).where(Run.workflow_id == workflow_id, Run.status != "ended")
        )
        or 0
    )


def bump_revision(session: Session, *, workspace_id: int) -> None:
    """Every process's trigger index reloads this workspace on its next event (DESIGN §3.10)."""
    session.execute(
        update(Workspace)
        .where(Workspace.id == workspace_id)
        .values(workflow_revision=Workspace.workflow_revision + 1)
    )
