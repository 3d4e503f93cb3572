"""The contact queue: every change that gives a contact work bumps its row in the same transaction.

emit() only notes the contact; just before commit, `flush_touched` upserts one contact_queue row per
noted contact (gen + 1), so the work and its wake-up commit together or not at all. After commit the
in-process wake-up signal fires, so a worker in this process reacts at once.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Insert, func, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from convoflow.db.session import core, now
from convoflow.events import live
from convoflow.events.models import ContactQueue

_TOUCHED = "convoflow_touched_contacts"
_BUMPED = "convoflow_work_signalled"
WORK_CHANNEL = "convoflow_work"  # PostgreSQL NOTIFY channel


def touch(session: Session, *, workspace_id: int, contact_id: int, ready_at: datetime | None = None) -> None:
    """Marks the contact as having work from `ready_at` (default: now) once this transaction commits."""
    live.note(session, contact_id)  # and live connections showing the contact learn of the change
    touched: dict[int, tuple[int, datetime | None]] = session.info.setdefault(_TOUCHED, {})
    previous = touched.get(contact_id)
    if previous is None or (ready_at is not None and previous[1] is not None and ready_at < previous[1]):
        touched[contact_id] = (workspace_id, ready_at)
    elif ready_at is None:
        touched[contact_id] = (workspace_id, None)


def flush_touched(session: Session) -> None:
    """before_commit hook: upserts the queue rows of the contacts this transaction touched."""
    touched: dict[int, tuple[int, datetime | None]] = session.info.pop(_TOUCHED, {})
    if not touched:
        return
    at = now(session)
    rows = [
        {"contact_id": contact_id, "workspace_id": workspace_id, "ready_at": ready or at, "gen": 1}
        for contact_id, (workspace_id, ready) in sorted(touched.items())
    ]
    connection = core(session)
    connection.execute(_upsert(connection.dialect.name), rows)
    signal_work(session)


@functools.cache
def _upsert(dialect: str) -> Insert:
    """One statement, built once and run with a row of parameters per contact (cached, unlike
    INSERT ... VALUES with an inline list of rows, whose SQL changes with the number of rows)."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(ContactQueue)
    earliest = func.least if dialect == "postgresql" else func.min
    return statement.on_conflict_do_update(
        index_elements=[ContactQueue.contact_id],
        set_={
            "gen": ContactQueue.gen + 1,
            "ready_at": earliest(ContactQueue.ready_at, statement.excluded.ready_at),
        },
    )


def signal_work(session: Session) -> None:
    """Wakes the engine's loops once this transaction commits: in this process through the wake signal,
    in others through a PostgreSQL NOTIFY (delivered only if the transaction commits)."""
    if session.info.get(_BUMPED):
        return
    session.info[_BUMPED] = True
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": WORK_CHANNEL})


class WakeSignal:
    """Lets loop services sleep until work may exist (in-process), or a poll interval passes."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._serial = 0

    def notify(self) -> None:
        with self._condition:
            self._serial += 1
            self._condition.notify_all()

    def wait(self, seen: int, timeout: float) -> int:
        """Blocks until the serial moves past `seen` or `timeout` passes; returns the serial."""
        with self._condition:
            if self._serial == seen:
                self._condition.wait(timeout)
            return self._serial

    @property
    def serial(self) -> int:
        return self._serial


def after_commit_notifier(signal: WakeSignal) -> Callable[[Session], Any]:
    def notify_if_bumped(session: Session) -> None:
        if session.info.pop(_BUMPED, False):
            signal.notify()

    return notify_if_bumped


def touched(session: Session, contact_id: int) -> bool:
    """Whether this transaction gave the contact work since it was last untouched."""
    return contact_id in session.info.get(_TOUCHED, {})


def forget_work(session: Session) -> None:
    """after_rollback hook: work noted by a transaction that rolled back is no work."""
    session.info.pop(_TOUCHED, None)
    session.info.pop(_BUMPED, None)


def untouch(session: Session, contact_id: int) -> None:
    """Forgets that this transaction gave the contact work (its worker already did that work)."""
    session.info.get(_TOUCHED, {}).pop(contact_id, None)
