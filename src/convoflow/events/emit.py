"""Writing domain events. Services call emit(); routes never do."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from convoflow.db.base import table_of
from convoflow.db.session import core, now
from convoflow.events import queue
from convoflow.events.actor import Actor
from convoflow.events.catalogue import ACTIVITY_EVENTS, ALL_EVENTS
from convoflow.events.models import Event

_INSERT_EVENT = insert(table_of(Event)).returning(table_of(Event).c.id)  # built once: emit is hot


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
    return int(
        core(session)
        .execute(
            _INSERT_EVENT,
            {
                "workspace_id": workspace_id,
                "contact_id": contact_id,
                "type": type,
                "payload": payload,
                "source": actor.source,
                "actor_id": actor_id,
                "run_id": actor.run_id,
                "occurred_at": at,
                "dispatched_at": at if activity_only else None,
            },
        )
        .scalar_one()
    )


_INSERT_EVENTS = insert(table_of(Event))


def emit_activity_many(
    session: Session, *, type: str, events: list[tuple[Actor, int, int, dict[str, Any]]]
) -> None:
    """Many activity-only events at once, each (actor, workspace_id, contact_id, payload): one statement
    for a batch of runs. They are stored already dispatched and give no contact work, as with emit()."""
    if type not in ACTIVITY_EVENTS:
        raise ValueError(f"{type!r} is not an activity-only event")
    if not events:
        return
    at = now(session)
    core(session).execute(
        _INSERT_EVENTS,
        [
            {
                "workspace_id": workspace_id,
                "contact_id": contact_id,
                "type": type,
                "payload": payload,
                "source": actor.source,
                "actor_id": actor.actor_id,
                "run_id": actor.run_id,
                "occurred_at": at,
                "dispatched_at": at,
            }
            for actor, workspace_id, contact_id, payload in events
        ],
    )
