"""Contacts, their channel identities, custom field definitions, tags and lifecycle stages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from convoflow.db.base import Base, IdType, id_column


class Contact(Base):
    __tablename__ = "contacts"
    __table_args__ = (
        Index(
            "uq_contacts_workspace_id_email",
            "workspace_id",
            "email",
            unique=True,
            sqlite_where=text("email IS NOT NULL"),
            postgresql_where=text("email IS NOT NULL"),
        ),
        Index(
            "uq_contacts_workspace_id_phone",
            "workspace_id",
            "phone",
            unique=True,
            sqlite_where=text("phone IS NOT NULL"),
            postgresql_where=text("phone IS NOT NULL"),
        ),
        Index(None, "workspace_id", "assignee_user_id"),
        Index(None, "workspace_id", "id"),
        Index(None, "lifecycle_stage_id"),
    )

    id: Mapped[int] = id_column()
    workspace_id: Mapped[int] = mapped_column(IdType, ForeignKey("workspaces.id", ondelete="CASCADE"))
    first_name: Mapped[str]
    last_name: Mapped[str] = mapped_column(default="")
    email: Mapped[str | None]  # lower case
    phone: Mapped[str | None] = mapped_column(String(16))  # E.164
    language: Mapped[str | None] = mapped_column(String(2))
    country_code: Mapped[str | None] = mapped_column(String(2))
    profile_pic: Mapped[str | None]
    lifecycle_stage_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("lifecycle_stages.id", ondelete="SET NULL")
    )
    attributes: Mapped[dict[str, Any]]  # custom field values by field slug
    assignee_user_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("users.id", ondelete="SET NULL"))
    assigned_at: Mapped[datetime | None]
    last_channel_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("channels.id", ondelete="SET NULL")
    )
    last_in_at: Mapped[datetime | None]
    last_out_at: Mapped[datetime | None]
    blocked: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ContactIdentity(Base):
    __tablename__ = "contact_identities"
    __table_args__ = (
        UniqueConstraint("channel_id", "external_id"),
        UniqueConstraint("contact_id", "channel_id"),
    )

    id: Mapped[int] = id_column()
    contact_id: Mapped[int] = mapped_column(IdType, ForeignKey("contacts.id", ondelete="CASCADE"))
    channel_id: Mapped[int] = mapped_column(IdType, ForeignKey("channels.id", ondelete="CASCADE"))
    external_id: Mapped[str]
    created_at: Mapped[datetime]


class ContactField(Base):
    __tablename__ = "contact_fields"
    __table_args__ = (UniqueConstraint("workspace_id", "slug"),)

    id: Mapped[int] = id_column()
    workspace_id: Mapped[int] = mapped_column(IdType, ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str]
    slug: Mapped[str] = mapped_column(String(50))  # lower case, immutable
    description: Mapped[str] = mapped_column(default="")
    type: Mapped[str] = mapped_column(String(16))
    options: Mapped[list[Any]]  # allowed values of a list field
    created_at: Mapped[datetime]


class Tag(Base):
    __tablename__ = "tags"
    __table_args__ = (UniqueConstraint("workspace_id", "name_norm"),)

    id: Mapped[int] = id_column()
    workspace_id: Mapped[int] = mapped_column(IdType, ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str]
    name_norm: Mapped[str]
    description: Mapped[str] = mapped_column(default="")
    color: Mapped[str | None] = mapped_column(String(7))
    emoji: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]


class ContactTag(Base):
    __tablename__ = "contact_tags"
    __table_args__ = (Index(None, "tag_id"),)

    contact_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[int] = mapped_column(IdType, ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime]


class LifecycleStage(Base):
    __tablename__ = "lifecycle_stages"
    __table_args__ = (UniqueConstraint("workspace_id", "name_norm"),)

    id: Mapped[int] = id_column()
    workspace_id: Mapped[int] = mapped_column(IdType, ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str]
    name_norm: Mapped[str]
    position: Mapped[int]
    is_lost: Mapped[bool] = mapped_column(default=False)
    is_default: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
