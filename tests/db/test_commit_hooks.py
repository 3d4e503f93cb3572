"""Commit hooks mean the real transaction: releasing a savepoint is not a commit."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from convoflow import metrics
from convoflow.bootstrap import Container
from convoflow.events.models import ContactQueue
from convoflow.events.queue import touch, touched
from convoflow.testing.factories import make_contact
from tests.support import seed_world


def _dispatched(event_type: str) -> float:
    return float(metrics.EVENTS_DISPATCHED.labels(type=event_type)._value.get())


def test_released_savepoint_counts_no_metric_until_the_transaction_commits(
    session: Session, container: Container
) -> None:
    before = _dispatched("savepoint.probe")
    with container.db.session() as work:
        with work.begin_nested():
            metrics.count_dispatched(work, event_type="savepoint.probe")
        assert _dispatched("savepoint.probe") == before  # released, not committed
        work.rollback()
    assert _dispatched("savepoint.probe") == before  # the transaction rolled back: nothing happened

    with container.db.session() as work:
        with work.begin_nested():
            metrics.count_dispatched(work, event_type="savepoint.probe")
        work.commit()
    assert _dispatched("savepoint.probe") == before + 1


def test_work_noted_inside_a_savepoint_is_queued_once_at_commit(
    session: Session, container: Container
) -> None:
    world = seed_world(session, container.hasher)
    contact = make_contact(session, workspace_id=world.workspace.id, first_name="Ana")
    session.commit()
    gen = select(ContactQueue.gen).where(ContactQueue.contact_id == contact.id)
    before = session.scalar(gen)
    session.commit()  # the test's session must not hold SQLite's write lock
    with container.db.session() as work:
        with work.begin_nested():
            touch(work, workspace_id=world.workspace.id, contact_id=contact.id)
        assert touched(work, contact.id)  # still the transaction's work after the savepoint
        assert work.scalar(gen) == before  # not queued at the savepoint's release
        work.commit()
    session.expire_all()
    assert session.scalar(gen) == (before or 0) + 1
