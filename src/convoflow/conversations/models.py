"""Conversations, messages, comments and closing categories."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from convoflow.db.base import Base, IdType, id_column


class ClosingCategory(Base):
    __tablename__ = "closing_categories"
    __table_args__ = (UniqueConstraint("workspace_id", "name_norm"),)

    id: Mapped[int] = id_column()
    workspace_id: Mapped[int] = mapped_column(IdType, ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str]
    name_norm: Mapped[str]
    description: Mapped[str] = mapped_column(default="")
    created_at: Mapped[datetime]


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        # CRM-CONV-01: at most one open conversation per contact, enforced by the database.
        Index(
            "uq_conversations_contact_id_open",
            "contact_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
        Index(
            "ix_conversations_workspace_id_last_message_at_open",
            "workspace_id",
            "last_message_at",
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
        Index(None, "contact_id", "id"),
    )

    id: Mapped[int] = id_column()
    workspace_id: Mapped[int] = mapped_column(IdType, ForeignKey("workspaces.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(IdType, ForeignKey("contacts.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(8))  # open | closed
    channel_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("channels.id", ondelete="SET NULL"))
    opened_at: Mapped[datetime]
    opened_source: Mapped[str] = mapped_column(String(16))
    opened_by: Mapped[int | None] = mapped_column(IdType, ForeignKey("users.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None]
    closed_source: Mapped[str | None] = mapped_column(String(16))
    closed_by: Mapped[int | None] = mapped_column(IdType, ForeignKey("users.id", ondelete="SET NULL"))
    closing_category_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("closing_categories.id", ondelete="SET NULL")
    )
    summary: Mapped[str | None]
    first_response_at: Mapped[datetime | None]
    assignee_at_close: Mapped[int | None] = mapped_column(IdType, ForeignKey("users.id", ondelete="SET NULL"))
    team_at_close: Mapped[int | None] = mapped_column(IdType, ForeignKey("teams.id", ondelete="SET NULL"))
    in_count: Mapped[int] = mapped_column(default=0)
    out_count: Mapped[int] = mapped_column(default=0)
    last_message_at: Mapped[datetime]


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        # CRM-CHAN-02: a redelivered provider message is stored once.
        Index(
            "uq_messages_channel_id_provider_message_id",
            "channel_id",
            "provider_message_id",
            unique=True,
            sqlite_where=text("provider_message_id IS NOT NULL"),
            postgresql_where=text("provider_message_id IS NOT NULL"),
        ),
        Index(None, "contact_id", "id"),
        Index(None, "conversation_id"),
    )

    id: Mapped[int] = id_column()
    workspace_id: Mapped[int] = mapped_column(IdType, ForeignKey("workspaces.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(IdType, ForeignKey("contacts.id", ondelete="CASCADE"))
    conversation_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("conversations.id", ondelete="SET NULL")
    )
    channel_id: Mapped[int] = mapped_column(IdType, ForeignKey("channels.id", ondelete="CASCADE"))
    traffic: Mapped[str] = mapped_column(String(8))  # incoming | outgoing
    source: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("users.id", ondelete="SET NULL"))
    run_id: Mapped[int | None] = mapped_column(IdType)
    type: Mapped[str] = mapped_column(String(32))
    content: Mapped[dict[str, Any]]
    provider_message_id: Mapped[str | None]
    status: Mapped[str | None] = mapped_column(String(16))  # outgoing only
    status_history: Mapped[list[Any]]
    created_at: Mapped[datetime]


class Comment(Base):
    __tablename__ = "comments"
    __table_args__ = (Index(None, "contact_id", "id"),)

    id: Mapped[int] = id_column()
    workspace_id: Mapped[int] = mapped_column(IdType, ForeignKey("workspaces.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(IdType, ForeignKey("contacts.id", ondelete="CASCADE"))
    text: Mapped[str]
    mentions: Mapped[list[Any]]
    source: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("users.id", ondelete="SET NULL"))
    run_id: Mapped[int | None] = mapped_column(IdType)
    created_at: Mapped[datetime]
