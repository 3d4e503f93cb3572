"""Connected messaging channels."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from convoflow.db.base import Base, IdType, id_column


class Channel(Base):
    __tablename__ = "channels"
    __table_args__ = (UniqueConstraint("workspace_id", "name_norm"),)

    id: Mapped[int] = id_column()
    workspace_id: Mapped[int] = mapped_column(IdType, ForeignKey("workspaces.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str]
    name_norm: Mapped[str]
    token: Mapped[str] = mapped_column(String(64), unique=True)  # random part of the webhook URL
    config: Mapped[dict[str, Any]]  # settings that are not secret (shown to Owners and Managers)
    # Credentials as one Fernet token (channels/credentials.py): never stored or returned in clear.
    secrets: Mapped[str | None] = mapped_column(Text, default=None)
    state: Mapped[str] = mapped_column(String(16))  # connected | error | disconnected
    created_at: Mapped[datetime]
