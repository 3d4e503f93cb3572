"""Firing due timers (DESIGN §3.5, WF-RUN-07), a batch per transaction.

A timer whose run moved on (another wait token) just vanishes. A timer whose step's timeout ends the
run whatever the contact (engine/timeouts.py) ends it here, set-based: one statement per table for the
whole batch, recording exactly what the runner would. Any other timer wakes its run for the contact
worker, which runs the waiting step again.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, select
from sqlalchemy.orm import Session

from convoflow import metrics
from convoflow.contacts.models import Contact
from convoflow.db.base import table_of
from convoflow.db.session import Database, core
from convoflow.events.queue import touch
from convoflow.worker.peek import any_work
from convoflow.workflows.activity import LeftRun, record_left_many
from convoflow.workflows.engine.outcomes import TimerFired, wake_to_json
from convoflow.workflows.engine.registry import Registry
from convoflow.workflows.engine.runner import MAX_STEPS_PER_RUN
from convoflow.workflows.engine.timeouts import TimeoutEnding, ending_on_timeout
from convoflow.workflows.models import Run, RunStep, Timer
from convoflow.workflows.store import SqlRunHost

BATCH = 1000

_RUNS, _STEPS = table_of(Run), table_of(RunStep)
_UPDATE_RUN = _RUNS.update().where(_RUNS.c.id == bindparam("w_run"))  # SET from the parameters given
_FINISH_STEP = _STEPS.update().where(
    _STEPS.c.run_id == bindparam("w_run"), _STEPS.c.seq == bindparam("w_seq")
)
_TIMER_FIRED = wake_to_json(TimerFired())


def _due(session: Session, now: datetime, batch: int) -> tuple[list[Any], dict[int, Any]]:
    """Due timers, and the runs still waiting on them (by id) with their current step's summary. On
    PostgreSQL both are locked, skipping rows another transaction holds (its run is left for later)."""
    timers = (
        select(Timer.id, Timer.run_id, Timer.token, Timer.contact_id, Timer.due_at)
        .where(Timer.due_at <= now)
        .order_by(Timer.due_at)
        .limit(batch)
    )
    runs = (
        select(
            Run.id,
            Run.wait_token,
            Run.workspace_id,
            Run.workflow_id,
            Run.workflow_name,
            Run.version_id,
            Run.cursor,
            Run.next_seq,
            Run.steps_done,
            Contact.blocked,
            RunStep.summary,
        )
        .join(Contact, Contact.id == Run.contact_id)
        .outerjoin(RunStep, and_(RunStep.run_id == Run.id, RunStep.seq == Run.next_seq - 1))
        .where(Run.status == "waiting")
    )
    if session.get_bind().dialect.name == "postgresql":
        timers = timers.with_for_update(skip_locked=True)
        runs = runs.with_for_update(skip_locked=True, of=Run)
    due = list(core(session).execute(timers))
    waiting = core(session).execute(runs.where(Run.id.in_({row.run_id for row in due})))
    return due, {run.id: run for run in waiting}


def fire_timers_once(db: Database, *, registry: Registry, batch: int = BATCH) -> int:
    """Fires up to `batch` due timers in one transaction; returns how many it took."""
    if not any_work(db, select(Timer.id).where(Timer.due_at <= db.clock.now())):
        return 0
    with db.session() as session:
        now = db.clock.now()
        due, runs = _due(session, now, batch)
        if not due:
            return 0
        host = SqlRunHost(session)
        endings: list[tuple[Any, Any, TimeoutEnding]] = []
        woken = []
        fired = []
        for timer in due:
            run = runs.get(timer.run_id)
            if run is None or run.wait_token != timer.token:
                if (
                    run is None
                    and session.get_bind().dialect.name == "postgresql"
                    and _locked(session, timer)
                ):
                    continue  # its run is busy in another transaction: fire the timer on a later pass
                fired.append(timer.id)
                continue  # the run moved on: a stale timer
            fired.append(timer.id)
            metrics.observe_timer_lag(session, due_at=timer.due_at, fired_at=now)
            ending = _ending(host, registry, run)
            if ending is None:
                woken.append((timer, run))
            else:
                endings.append((timer, run, ending))
        if woken:
            core(session).execute(
                _UPDATE_RUN,
                [{"w_run": run.id, "status": "ready", "wake": _TIMER_FIRED} for _timer, run in woken],
            )
            for timer, run in woken:
                touch(session, workspace_id=run.workspace_id, contact_id=timer.contact_id)
        _end_runs(session, endings, now)
        core(session).execute(delete(Timer).where(Timer.id.in_(fired)))
        session.commit()
        return len(due)


def _locked(session: Session, timer: Any) -> bool:
    """Whether the timer's run still waits on it but another transaction holds the run's row."""
    return (
        core(session).scalar(
            select(Run.id).where(
                Run.id == timer.run_id, Run.status == "waiting", Run.wait_token == timer.token
            )
        )
        is not None
    )


def _ending(host: SqlRunHost, registry: Registry, run: Any) -> TimeoutEnding | None:
    """The run's timeout ending when the runner would reach it with no other check in the way."""
    if run.version_id is None or run.blocked or run.summary is None or run.steps_done >= MAX_STEPS_PER_RUN:
        return None  # the runner ends these runs with their own reasons
    return ending_on_timeout(host.definition(run.version_id), run.cursor, registry)


def _end_runs(session: Session, endings: list[tuple[Any, Any, TimeoutEnding]], now: datetime) -> None:
    """What the runner records for a step that ended its run, for many runs at once (runner.py)."""
    if not endings:
        return
    connection = core(session)
    connection.execute(
        _FINISH_STEP,
        [
            {
                "w_run": run.id,
                "w_seq": run.next_seq - 1,
                "status": "done",
                "output": ending.output,
                "summary": {**run.summary, **ending.summary},
                "error": None,
                "finished_at": now,
            }
            for _timer, run, ending in endings
        ],
    )
    connection.execute(
        _UPDATE_RUN,
        [
            {
                "w_run": run.id,
                "status": "ended",
                "end_reason": ending.reason,
                "cursor": None,
                "wait_kind": None,
                "wake": None,
                "variables": {},  # WF-VAR-06
                "steps_done": run.steps_done + 1,
                "ended_at": now,
            }
            for _timer, run, ending in endings
        ],
    )
    record_left_many(
        session,
        [
            LeftRun(
                run.id, run.workspace_id, timer.contact_id, run.workflow_id, run.workflow_name, ending.reason
            )
            for timer, run, ending in endings
        ],
    )
    for reason, runs in Counter(ending.reason for _timer, _run, ending in endings).items():
        metrics.count_runs_finished(session, reason=reason, runs=runs)
