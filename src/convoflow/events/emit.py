"""Writing domain events. Services call emit(); routes never do."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from convoflow.db.session import now
from convoflow.events import queue
from convoflow.events.actor import Actor
from convoflow.events.catalogue import ACTIVITY_EVENTS, ALL_EVENTS
from convoflow.events.models import Event


def emit(
    session: Session,
    *,
    workspace_id: int,
    type: str,
    actor: Actor,
    payload: dict[str, Any],
    contact_id: int | None = None,
) -> int:
    """Insert one event in the caller's transaction and return its id.

    The insert flushes pending ORM changes first, so an event id is always greater than the ids of
    the rows its change created, and events of one transaction keep the order they were emitted in.
    """
    activity_only = type in ACTIVITY_EVENTS
    if type not in ALL_EVENTS and not activity_only:
        raise ValueError(f"unknown event type {type!r}")
    actor_id = actor.actor_id
    if actor.source == "contact" and actor_id is None:
        # A contact acts on itself: the contact created by its own first message had no id yet
        # when its actor was made, but its events must still name it (CRM-EVT-02).
        actor_id = contact_id
    if contact_id is not None and not activity_only:
        queue.touch(session, workspace_id=workspace_id, contact_id=contact_id)  # the dispatcher's work
    at = now(session)
    return session.execute(
        insert(Event)
        .values(
            workspace_id=workspace_id,
            contact_id=contact_id,
            type=type,
            payload=payload,
            source=actor.source,
            actor_id=actor_id,
            run_id=actor.run_id,
            occurred_at=at,
            dispatched_at=at if activity_only else None,
        )
        .returning(Event.id)
    ).scalar_one()
