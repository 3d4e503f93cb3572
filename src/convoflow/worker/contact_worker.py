"""The contact worker: claims contacts, dispatches their events and advances their runs (DESIGN §1.2-3)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from convoflow.db.session import Database
from convoflow.events.queue import touched, untouch
from convoflow.worker.claims import claim_contacts, claimable, release_contact
from convoflow.worker.peek import any_work
from convoflow.workflows.dispatcher import dispatch_contact
from convoflow.workflows.engine.registry import Registry
from convoflow.workflows.engine.runner import advance
from convoflow.workflows.store import SqlRunHost, WorkspaceCache, ready_runs
from convoflow.workflows.triggers.index import TriggerIndex

log = logging.getLogger("convoflow.worker")
ROUNDS = 20  # events a run causes can enrol or wake more runs of the contact; bounded per claim


def process_contact(
    session: Session,
    *,
    contact_id: int,
    index: TriggerIndex,
    registry: Registry,
    now: datetime,
    facts: WorkspaceCache | None = None,
) -> bool:
    """Everything pending for one contact; True when nothing is left (the claim can be released)."""
    host = SqlRunHost(session, facts)
    for _ in range(ROUNDS):
        untouch(session, contact_id)
        dispatch_contact(session, contact_id=contact_id, index=index, host=host, now=now)
        unfinished = False
        for run in ready_runs(session, contact_id):
            advance(run, host=host, registry=registry, now=now)
            unfinished = unfinished or run.status == "ready"  # its step budget ran out
        if not unfinished and not touched(session, contact_id):  # no new event, no woken run
            return True
    return False


def run_contacts_once(
    db: Database, *, worker: str, index: TriggerIndex, registry: Registry, lease: timedelta, batch: int = 50
) -> int:
    """One claim of up to `batch` contacts, each processed in its own transaction; returns how many."""
    if not any_work(db, claimable(db.clock.now())):
        return 0
    with db.session() as session:
        claimed = claim_contacts(session, worker=worker, now=db.clock.now(), lease=lease, limit=batch)
        session.commit()
    facts = WorkspaceCache()
    for contact_id, gen in claimed:
        with db.session() as session:
            try:
                finished = process_contact(
                    session,
                    contact_id=contact_id,
                    index=index,
                    registry=registry,
                    now=db.clock.now(),
                    facts=facts,
                )
                if finished:
                    untouch(session, contact_id)  # its own events were handled in this transaction
                if not release_contact(
                    session, worker=worker, contact_id=contact_id, gen=gen if finished else -1
                ):
                    session.rollback()  # the lease was lost: a newer owner has the contact
                    continue
                session.commit()
            except Exception:
                session.rollback()
                log.exception("worker.contact.failed", extra={"contact_id": contact_id})
                with db.session() as cleanup:
                    release_contact(cleanup, worker=worker, contact_id=contact_id, gen=-1)
                    cleanup.commit()
    return len(claimed)
