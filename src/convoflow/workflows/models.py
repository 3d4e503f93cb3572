"""Workflows and their immutable published versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from convoflow.db.base import Base, IdType, id_column


class Workflow(Base):
    __tablename__ = "workflows"
    __table_args__ = (UniqueConstraint("workspace_id", "name_norm"), Index(None, "workspace_id", "id"))

    id: Mapped[int] = id_column()
    workspace_id: Mapped[int] = mapped_column(IdType, ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str]
    name_norm: Mapped[str]
    description: Mapped[str] = mapped_column(default="")
    state: Mapped[str] = mapped_column(String(16))  # draft | published | stopped
    draft: Mapped[dict[str, Any]]  # the editable definition (may hold configuration errors)
    revision: Mapped[int] = mapped_column(default=1)  # optimistic saves (WF-LIFE-07)
    settings: Mapped[dict[str, Any]]
    trigger_type: Mapped[str | None] = mapped_column(String(32))  # of the published version
    # No foreign key: versions are deleted only with their workflow, and a cycle of keys between the
    # two tables would complicate every migration.
    published_version_id: Mapped[int | None] = mapped_column(IdType)
    hook_token: Mapped[str | None] = mapped_column(String(64), unique=True)  # Incoming Webhook URL
    import_report: Mapped[list[Any] | None]  # WF-IO-06, until the first save
    created_by: Mapped[int | None] = mapped_column(IdType, ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    updated_by: Mapped[int | None] = mapped_column(IdType, ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime]
    published_by: Mapped[int | None] = mapped_column(IdType, ForeignKey("users.id", ondelete="SET NULL"))
    published_at: Mapped[datetime | None]


class WorkflowVersion(Base):
    """Insert-only: a run pins to one of these (WF-GEN-04)."""

    __tablename__ = "workflow_versions"
    __table_args__ = (UniqueConstraint("workflow_id", "number"),)

    id: Mapped[int] = id_column()
    workflow_id: Mapped[int] = mapped_column(IdType, ForeignKey("workflows.id", ondelete="CASCADE"))
    number: Mapped[int]
    definition: Mapped[dict[str, Any]]
    content_hash: Mapped[str] = mapped_column(String(64))
    published_by: Mapped[int | None] = mapped_column(IdType, ForeignKey("users.id", ondelete="SET NULL"))
    published_at: Mapped[datetime]
