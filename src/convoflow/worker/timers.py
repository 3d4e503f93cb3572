"""Firing due timers: each wakes its run if the run still waits on that token (DESIGN §3.5, WF-RUN-07)."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from convoflow import metrics
from convoflow.db.session import Database
from convoflow.events.queue import touch
from convoflow.worker.peek import any_work
from convoflow.workflows.engine.outcomes import TimerFired, wake_to_json
from convoflow.workflows.models import Run, Timer

BATCH = 500


def fire_timers_once(db: Database, *, batch: int = BATCH) -> int:
    """Fires up to `batch` due timers in one transaction; stale ones (the run moved on) just vanish."""
    if not any_work(db, select(Timer.id).where(Timer.due_at <= db.clock.now())):
        return 0
    with db.session() as session:
        now = db.clock.now()
        query = select(Timer.id, Timer.run_id, Timer.token, Timer.contact_id, Timer.due_at)
        query = query.where(Timer.due_at <= now)
        query = query.order_by(Timer.due_at).limit(batch)
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        due = session.execute(query).all()
        if not due:
            return 0
        workspaces = dict(
            session.execute(
                select(Run.id, Run.workspace_id).where(Run.id.in_([row.run_id for row in due]))
            ).all()
        )
        for _timer_id, run_id, token, contact_id, due_at in due:
            woken = session.execute(
                update(Run)
                .where(Run.id == run_id, Run.status == "waiting", Run.wait_token == token)
                .values(status="ready", wake=wake_to_json(TimerFired()))
                .execution_options(synchronize_session=False)
            )
            if woken.rowcount:  # type: ignore[attr-defined]
                touch(session, workspace_id=workspaces[run_id], contact_id=contact_id)
                metrics.observe_timer_lag(session, due_at=due_at, fired_at=now)
        session.execute(delete(Timer).where(Timer.id.in_([row.id for row in due])))
        session.commit()
        return len(due)
