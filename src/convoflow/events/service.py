"""Reading domain events (contact activity)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from convoflow.events.models import Event


def list_contact_events(
    session: Session, *, workspace_id: int, contact_id: int, before_id: int | None, limit: int
) -> Sequence[Event]:
    """A contact's events, newest first, for its activity log (CRM-CONT-04)."""
    query = select(Event).where(Event.workspace_id == workspace_id, Event.contact_id == contact_id)
    if before_id is not None:
        query = query.where(Event.id < before_id)
    return session.scalars(query.order_by(Event.id.desc()).limit(limit)).all()
