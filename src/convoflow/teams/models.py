"""Teams of users."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from convoflow.db.base import Base, IdType, id_column


class Team(Base):
    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("workspace_id", "name_norm"),)

    id: Mapped[int] = id_column()
    workspace_id: Mapped[int] = mapped_column(IdType, ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str]
    name_norm: Mapped[str]
    description: Mapped[str] = mapped_column(default="")
    rr_cursor_user_id: Mapped[int | None] = mapped_column(IdType)  # round robin pointer (WF-STEP-ASSIGN-03)
    created_at: Mapped[datetime]
