"""Claiming work rows: FOR UPDATE SKIP LOCKED + lease on PostgreSQL, plain UPDATE on SQLite (one writer)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Select, bindparam, or_, select, update
from sqlalchemy.orm import Session

from convoflow.db.base import table_of
from convoflow.db.session import core
from convoflow.events.models import ContactQueue


def claimable(now: datetime) -> Select[int]:
    """Contacts with work due and no live lease."""
    free = or_(ContactQueue.lease_until.is_(None), ContactQueue.lease_until < now)
    return select(ContactQueue.contact_id).where(ContactQueue.ready_at <= now, free)


def claim_contacts(
    session: Session, *, worker: str, now: datetime, lease: timedelta, limit: int
) -> list[tuple[int, int]]:
    """(contact_id, gen) of up to `limit` contacts with work due and no live lease, now leased to `worker`."""
    free = or_(ContactQueue.lease_until.is_(None), ContactQueue.lease_until < now)
    candidates = claimable(now).order_by(ContactQueue.ready_at).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    rows = session.execute(
        update(ContactQueue)
        .where(ContactQueue.contact_id.in_(candidates.scalar_subquery()), free)
        .values(claimed_by=worker, lease_until=now + lease)
        .returning(ContactQueue.contact_id, ContactQueue.gen)
        .execution_options(synchronize_session=False)
    ).all()
    return [(contact_id, gen) for contact_id, gen in rows]


def release_contact(session: Session, *, worker: str, contact_id: int, gen: int) -> bool:
    """Drops the queue row if no new work arrived since the claim (same gen); otherwise frees it so it
    is claimed again. False when the lease was lost: the caller must roll back (a fence)."""
    connection = core(session)
    done = connection.execute(_DROP, {"contact_id": contact_id, "worker": worker, "gen": gen})
    if done.rowcount:
        return True
    freed = connection.execute(_FREE, {"w_contact": contact_id, "w_worker": worker})
    return bool(freed.rowcount)


_QUEUE = table_of(ContactQueue)
_DROP = _QUEUE.delete().where(
    _QUEUE.c.contact_id == bindparam("contact_id"),
    _QUEUE.c.claimed_by == bindparam("worker"),
    _QUEUE.c.gen == bindparam("gen"),
)
_FREE = (
    _QUEUE.update()
    .where(_QUEUE.c.contact_id == bindparam("w_contact"), _QUEUE.c.claimed_by == bindparam("w_worker"))
    .values(claimed_by=None, lease_until=None)
)
