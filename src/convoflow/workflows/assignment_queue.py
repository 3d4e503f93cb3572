"""Contacts queued on an Assign To step try again as soon as someone may take them (WF-STEP-ASSIGN-05).

Called when a user comes online, joins a team, or an open-contact count drops (a conversation closes,
a contact is unassigned); the step's 60 s retry timer stays as the safety net.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from convoflow.events.queue import touch
from convoflow.workflows.engine.outcomes import Retry, wake_to_json
from convoflow.workflows.models import Run


def requeue_assignments(session: Session, *, workspace_ids: Iterable[int]) -> int:
    """Wakes every run queued on an Assign To step in these workspaces; returns how many."""
    ids = sorted(set(workspace_ids))
    if not ids:
        return 0
    queued = session.execute(
        select(Run.id, Run.workspace_id, Run.contact_id, Run.wait_token, Run.waiting_since)
        .where(Run.workspace_id.in_(ids), Run.status == "waiting", Run.wait_kind == "assignment")
        .order_by(Run.waiting_since, Run.id)
    ).all()
    woken = 0
    for run_id, workspace_id, contact_id, token, since in queued:
        result = session.execute(
            update(Run)
            .where(Run.id == run_id, Run.status == "waiting", Run.wait_token == token)
            .values(status="ready", wake=wake_to_json(Retry()))
            .execution_options(synchronize_session=False)
        )
        if result.rowcount:  # type: ignore[attr-defined]
            woken += 1
            # the longest-waiting contact is claimed first (first come, first served)
            touch(session, workspace_id=workspace_id, contact_id=contact_id, ready_at=since)
    return woken
