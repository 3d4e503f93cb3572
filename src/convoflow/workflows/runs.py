"""Ending runs from outside the engine: a stopped workflow, a blocked contact, one stopped run."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from convoflow.accounts.models import Workspace
from convoflow.db.session import now
from convoflow.workflows.models import Run


def end_active_runs(
    session: Session, *, reason: str, workflow_id: int | None = None, contact_id: int | None = None
) -> int:
    """Ends every active run of the workflow and/or contact; their waits, timers and unsent outbox
    rows go stale (wake-ups compare tokens, the relay drops effects of ended runs)."""
    query = update(Run).where(Run.status != "ended")
    if workflow_id is not None:
        query = query.where(Run.workflow_id == workflow_id)
    if contact_id is not None:
        query = query.where(Run.contact_id == contact_id)
    ended = session.execute(
        query.values(
            status="ended", end_reason=reason, ended_at=now(session), wait_kind=None, cursor=None, wake=None
        ).execution_options(synchronize_session=False)
    )
    return int(ended.rowcount or 0)  # type: ignore[attr-defined]


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
