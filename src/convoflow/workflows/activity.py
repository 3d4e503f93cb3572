"""Contact activity for runs: "Entered workflow <name>" and "Left workflow <name> (<reason>)" (WF-RUN-18)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from convoflow.events import catalogue
from convoflow.events.actor import Actor
from convoflow.events.emit import emit
from convoflow.workflows.models import Run


def record_entered(session: Session, run: Run) -> None:
    _record(session, catalogue.WORKFLOW_ENTERED, run.id, run.workspace_id, run.contact_id,
            run.workflow_id, run.workflow_name, None)  # fmt: skip


def record_left(
    session: Session,
    *,
    run_id: int,
    workspace_id: int,
    contact_id: int,
    workflow_id: int | None,
    workflow_name: str,
    reason: str,
) -> None:
    _record(
        session, catalogue.WORKFLOW_LEFT, run_id, workspace_id, contact_id, workflow_id, workflow_name, reason
    )


def _record(
    session: Session,
    type: str,
    run_id: int,
    workspace_id: int,
    contact_id: int,
    workflow_id: int | None,
    workflow_name: str,
    reason: str | None,
) -> None:
    payload: dict[str, object] = {
        "run_id": run_id,
        "workflow_id": workflow_id,
        "workflow_name": workflow_name,
    }
    if reason is not None:
        payload["reason"] = reason
    emit(
        session,
        workspace_id=workspace_id,
        type=type,
        actor=Actor.workflow(run_id),
        payload=payload,
        contact_id=contact_id,
    )
