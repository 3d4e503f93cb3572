"""Who did what to which object, and when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from convoflow.db.base import Base, IdType, id_column


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index(None, "workspace_id", "target_kind", "target_id", "id"),)

    id: Mapped[int] = id_column()
    workspace_id: Mapped[int] = mapped_column(IdType, ForeignKey("workspaces.id", ondelete="CASCADE"))
    actor_kind: Mapped[str] = mapped_column(String(16))  # user | token | system
    actor_id: Mapped[int | None] = mapped_column(IdType)
    action: Mapped[str] = mapped_column(String(32))
    target_kind: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[int] = mapped_column(IdType)
    data: Mapped[dict[str, Any]]
    at: Mapped[datetime]
