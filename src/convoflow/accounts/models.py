"""Workspaces, users, memberships, browser sessions, API tokens and invitations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from convoflow.db.base import Base, IdType, id_column


class Workspace(Base):
    __tablename__ = "workspaces"

    id: Mapped[int] = id_column()
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str]
    timezone: Mapped[str] = mapped_column(String(64))
    settings: Mapped[dict[str, Any]]
    # Bumped by every publish and stop, so each process knows when its trigger index is stale.
    workflow_revision: Mapped[int] = mapped_column(default=0, server_default="0")
    rr_cursor_user_id: Mapped[int | None] = mapped_column(IdType)  # round robin over the whole workspace
    created_at: Mapped[datetime]


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = id_column()
    email: Mapped[str] = mapped_column(unique=True)  # normalised: lower case
    first_name: Mapped[str]
    last_name: Mapped[str] = mapped_column(default="")
    password_hash: Mapped[str]
    presence: Mapped[str] = mapped_column(String(16), default="offline")  # online | offline, as chosen
    last_seen_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (Index(None, "team_id"), Index(None, "user_id"))

    workspace_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(IdType, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))  # owner | manager | agent
    restrictions: Mapped[dict[str, Any]]
    team_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("teams.id", ondelete="SET NULL"))
    last_assigned_at: Mapped[datetime | None]  # least-open-contacts ties go to who waited longest
    created_at: Mapped[datetime]
    deactivated_at: Mapped[datetime | None]


class LoginSession(Base):
    __tablename__ = "login_sessions"
    __table_args__ = (Index(None, "user_id"),)

    id: Mapped[int] = id_column()
    user_id: Mapped[int] = mapped_column(IdType, ForeignKey("users.id", ondelete="CASCADE"))
    workspace_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("workspaces.id", ondelete="SET NULL"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class ApiToken(Base):
    __tablename__ = "api_tokens"
    __table_args__ = (Index(None, "workspace_id"),)

    id: Mapped[int] = id_column()
    workspace_id: Mapped[int] = mapped_column(IdType, ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str]
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[int | None] = mapped_column(IdType, ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class Invitation(Base):
    __tablename__ = "invitations"
    __table_args__ = (Index(None, "workspace_id"),)

    id: Mapped[int] = id_column()
    workspace_id: Mapped[int] = mapped_column(IdType, ForeignKey("workspaces.id", ondelete="CASCADE"))
    email: Mapped[str]
    role: Mapped[str] = mapped_column(String(16))
    team_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("teams.id", ondelete="SET NULL"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by: Mapped[int | None] = mapped_column(IdType, ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
