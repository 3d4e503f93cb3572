"""Domain events: one row per state change, written in the transaction that made the change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from convoflow.db.base import Base, IdType, id_column


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        Index(None, "workspace_id", "id"),
        Index(None, "contact_id", "id"),
        # The dispatcher's work list: a contact's events not yet dispatched, in order.
        Index(
            "ix_events_contact_id_id_pending",
            "contact_id",
            "id",
            sqlite_where=text("dispatched_at IS NULL"),
            postgresql_where=text("dispatched_at IS NULL"),
        ),
    )

    id: Mapped[int] = id_column()
    workspace_id: Mapped[int] = mapped_column(IdType, ForeignKey("workspaces.id", ondelete="CASCADE"))
    # No foreign key: contact.deleted must outlive the contact it names.
    contact_id: Mapped[int | None] = mapped_column(IdType)
    type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]]
    source: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(IdType)
    run_id: Mapped[int | None] = mapped_column(IdType)
    occurred_at: Mapped[datetime]
    dispatched_at: Mapped[datetime | None]
    decisions: Mapped[list[Any] | None]  # why each published workflow did or did not enrol


class ContactQueue(Base):
    """One row per contact with pending work; a worker claims the contact, not the rows behind it."""

    __tablename__ = "contact_queue"
    __table_args__ = (Index(None, "ready_at"),)

    contact_id: Mapped[int] = mapped_column(IdType, primary_key=True)  # no FK: deleted contacts drain
    workspace_id: Mapped[int] = mapped_column(IdType)
    ready_at: Mapped[datetime]
    gen: Mapped[int] = mapped_column(default=0)  # bumped by every enqueue; release checks it
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]


class Outbox(Base):
    """External side effects waiting to be delivered, keyed for idempotency ("{run}:{seq}:{attempt}")."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index(
            "ix_outbox_next_attempt_at_open",
            "next_attempt_at",
            sqlite_where=text("status IN ('pending', 'sending')"),
            postgresql_where=text("status IN ('pending', 'sending')"),
        ),
        Index(
            "ix_outbox_contact_id_id_open",
            "contact_id",
            "id",
            sqlite_where=text("status IN ('pending', 'sending')"),
            postgresql_where=text("status IN ('pending', 'sending')"),
        ),
    )

    id: Mapped[int] = id_column()
    workspace_id: Mapped[int] = mapped_column(IdType, ForeignKey("workspaces.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("contacts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # message | http
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    run_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("runs.id", ondelete="CASCADE"))
    seq: Mapped[int | None]
    wait_token: Mapped[int | None]  # the run's wait this effect answers
    message_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("messages.id", ondelete="CASCADE"))
    request: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16))  # pending | sending | done | failed | cancelled
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    result: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime]
