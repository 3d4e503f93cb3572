"""Domain events: one row per state change, written in the transaction that made the change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from convoflow.db.base import Base, IdType, id_column


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (Index(None, "workspace_id", "id"), Index(None, "contact_id", "id"))

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
