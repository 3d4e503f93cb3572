"""Prometheus metrics of the workflow engine, served at /metrics.

Counters move only when the transaction that did the work commits (`after_commit`), so a rolled-back
or lost-lease attempt that another worker repeats is counted once. Gauges that describe stored work
(outbox backlog, active runs, overdue timers) are read from the database at scrape time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    gc_collector,
    generate_latest,
    platform_collector,
    process_collector,
)
from sqlalchemy import func, select
from sqlalchemy.orm import Session, SessionTransaction

from convoflow.db.session import now
from convoflow.events.models import ContactQueue, Outbox
from convoflow.workflows.models import Run, Timer

CONTENT_TYPE = CONTENT_TYPE_LATEST

# One registry for the process: several apps in one process (tests) share it, as they share the engine.
REGISTRY = CollectorRegistry()
process_collector.ProcessCollector(registry=REGISTRY)
platform_collector.PlatformCollector(registry=REGISTRY)
gc_collector.GCCollector(registry=REGISTRY)

EVENTS_DISPATCHED = Counter(
    "convoflow_events_dispatched", "Domain events handled by the dispatcher", ["type"], registry=REGISTRY
)
RUNS_STARTED = Counter("convoflow_runs_started", "Runs created by enrolment", ["trigger"], registry=REGISTRY)
RUNS_FINISHED = Counter("convoflow_runs_finished", "Runs ended, by end reason", ["reason"], registry=REGISTRY)
# The end reasons that mean something went wrong rather than a contact's normal way out.
FAILURE_REASONS = frozenset({"error", "loop_guard", "send_failed"})
RUNS_FAILED = Counter(
    "convoflow_runs_failed",
    "Runs ended by an error, a loop guard or a failed send",
    ["reason"],
    registry=REGISTRY,
)
STEP_SECONDS = Histogram(
    "convoflow_step_duration_seconds",
    "Time to execute one step visit inside its transaction",
    ["step_type"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
    registry=REGISTRY,
)
TIMER_LAG = Histogram(
    "convoflow_timer_lag_seconds",
    "How late a due timer fired (WF-RUN-07: p99 under 1 s, never over 60 s)",
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
    registry=REGISTRY,
)
OUTBOX_DELIVERIES = Counter(
    "convoflow_outbox_deliveries",
    "Outbox effects handled by the relay: done, failed, retry or cancelled",
    ["kind", "result"],
    registry=REGISTRY,
)
WEBHOOK_REQUESTS = Counter(
    "convoflow_workflow_webhook_requests",
    "Incoming Webhook trigger requests, by reply status",
    ["status"],
    registry=REGISTRY,
)
CHANNEL_WEBHOOK_REQUESTS = Counter(
    "convoflow_channel_webhook_requests",
    "Channel webhook requests, by HTTP status of the reply",
    ["status"],
    registry=REGISTRY,
)
OUTBOX_BACKLOG = Gauge(
    "convoflow_outbox_backlog", "Outbox rows pending or being sent", ["kind"], registry=REGISTRY
)
OUTBOX_OLDEST = Gauge(
    "convoflow_outbox_oldest_pending_seconds", "Age of the oldest undelivered outbox row", registry=REGISTRY
)
RUNS_ACTIVE = Gauge("convoflow_runs_active", "Runs not ended, by status", ["status"], registry=REGISTRY)
TIMERS_OVERDUE = Gauge(
    "convoflow_timers_overdue", "Timers past their due time, not fired yet", registry=REGISTRY
)
CONTACT_QUEUE = Gauge("convoflow_contact_queue_depth", "Contacts with work queued", registry=REGISTRY)

_PENDING = "convoflow_pending_metrics"


def after_commit(session: Session, bump: Callable[[], None]) -> None:
    """Runs `bump` once the session's current transaction commits; dropped if it rolls back."""
    session.info.setdefault(_PENDING, []).append(bump)


def flush_after_commit(session: Session) -> None:
    """The session's after_commit hook (registered by the composition root)."""
    for bump in session.info.pop(_PENDING, []):
        bump()


def drop_after_rollback(session: Session, previous: SessionTransaction) -> None:
    """The session's after_soft_rollback hook: a savepoint's rollback keeps the outer work's counts."""
    if previous.parent is None:
        session.info.pop(_PENDING, None)


def count_run_started(session: Session, *, trigger: str) -> None:
    after_commit(session, RUNS_STARTED.labels(trigger=trigger).inc)


def count_runs_finished(session: Session, *, reason: str, runs: int = 1) -> None:
    if runs <= 0:
        return

    def bump() -> None:
        RUNS_FINISHED.labels(reason=reason).inc(runs)
        if reason in FAILURE_REASONS:
            RUNS_FAILED.labels(reason=reason).inc(runs)

    after_commit(session, bump)


def count_dispatched(session: Session, *, event_type: str) -> None:
    after_commit(session, EVENTS_DISPATCHED.labels(type=event_type).inc)


def count_delivery(session: Session, *, kind: str, result: str) -> None:
    after_commit(session, OUTBOX_DELIVERIES.labels(kind=kind, result=result).inc)


def observe_timer_lag(session: Session, *, due_at: datetime, fired_at: datetime) -> None:
    lag = max(0.0, (fired_at - due_at).total_seconds())
    after_commit(session, lambda: TIMER_LAG.observe(lag))


def read_gauges(session: Session) -> None:
    """Sets the stored-work gauges from the database (all workspaces: the process serves them all)."""
    at = now(session)
    open_rows = Outbox.status.in_(("pending", "sending"))
    backlog = dict(
        session.execute(select(Outbox.kind, func.count()).where(open_rows).group_by(Outbox.kind)).all()
    )
    for kind in {"message", "http", *backlog}:
        OUTBOX_BACKLOG.labels(kind=kind).set(backlog.get(kind, 0))
    oldest = session.scalar(select(func.min(Outbox.created_at)).where(open_rows))
    OUTBOX_OLDEST.set(0 if oldest is None else max(0.0, (at - oldest).total_seconds()))
    active = dict(
        session.execute(
            select(Run.status, func.count()).where(Run.status != "ended").group_by(Run.status)
        ).all()
    )
    for status in ("ready", "running", "waiting"):
        RUNS_ACTIVE.labels(status=status).set(active.get(status, 0))
    TIMERS_OVERDUE.set(session.scalar(select(func.count()).select_from(Timer).where(Timer.due_at <= at)) or 0)
    CONTACT_QUEUE.set(session.scalar(select(func.count()).select_from(ContactQueue)) or 0)


def exposition(session: Session) -> bytes:
    """The text exposition format, gauges refreshed first."""
    read_gauges(session)
    return generate_latest(REGISTRY)
