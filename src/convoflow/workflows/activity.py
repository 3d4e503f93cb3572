"""Contact activity for runs: "Entered workflow <name>" and "Left workflow <name> (<reason>)" (WF-RUN-18)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from convoflow.events import catalogue
from convoflow.events.actor import Actor
from convoflow.events.emit import emit, emit_activity_many


def record_entered(
    session: Session,
    *,
    run_id: int,
    workspace_id: int,
    contact_id: int,
    workflow_id: int | None,
    workflow_name: str,
) -> None:
    _record(
        session,
        catalogue.WORKFLOW_ENTERED,
        run_id,
        workspace_id,
        contact_id,
        workflow_id,
        workflow_name,
        None,
    )


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


@dataclass(frozen=True, slots=True)
class LeftRun:
    run_id: int
    workspace_id: int
    contact_id: int
    workflow_id: int | None
    workflow_name: str
    reason: str


def record_left_many(session: Session, runs: list[LeftRun]) -> None:
    """ "Left workflow" for a batch of runs ended together (timeouts), in one statement."""
    emit_activity_many(
        session,
        type=catalogue.WORKFLOW_LEFT,
        events=[
            (
                Actor.workflow(run.run_id),
                run.workspace_id,
                run.contact_id,
                _payload(run.run_id, run.workflow_id, run.workflow_name, run.reason),
            )
            for run in runs
        ],
    )


def _payload(
    run_id: int, workflow_id: int | None, workflow_name: str, reason: str | None
) -> dict[str, object]:
    payload: dict[str, object] = {
        "run_id": run_id,
        "workflow_id": workflow_id,
        "workflow_name": workflow_name,
    }
    if reason is not None:
        payload["reason"] = reason
    return payload


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
    payload = _payload(run_id, workflow_id, workflow_name, reason)
    emit(
        session,
        workspace_id=workspace_id,
        type=type,
        actor=Actor.workflow(run_id),
        payload=payload,
        contact_id=contact_id,
    )
