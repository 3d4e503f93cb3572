"""Workflows and their immutable published versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
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
    hook_listen_until: Mapped[datetime | None]  # "Listen for test event" (WF-TRG-HOOK-03)
    hook_sample: Mapped[dict[str, Any] | None]  # the request it captured: {received_at, body}
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


class Run(Base):
    """One contact's passage through one published version (WF-GEN-04, WF-RUN-*)."""

    __tablename__ = "runs"
    __table_args__ = (
        # WF-RUN-02: at most one active run per workflow and contact, enforced by the database.
        Index(
            "uq_runs_workflow_id_contact_id_active",
            "workflow_id",
            "contact_id",
            unique=True,
            sqlite_where=text("status <> 'ended'"),
            postgresql_where=text("status <> 'ended'"),
        ),
        Index(None, "contact_id", "status"),
        Index(None, "workflow_id", "status"),
        Index(None, "workflow_id", "contact_id", "started_at"),
    )

    id: Mapped[int] = id_column()
    workspace_id: Mapped[int] = mapped_column(IdType, ForeignKey("workspaces.id", ondelete="CASCADE"))
    workflow_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("workflows.id", ondelete="SET NULL"))
    workflow_name: Mapped[str]  # kept for the activity log after the workflow is deleted (WF-LIFE-09)
    version_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("workflow_versions.id", ondelete="SET NULL")
    )
    contact_id: Mapped[int] = mapped_column(IdType, ForeignKey("contacts.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))  # ready | running | waiting | ended
    end_reason: Mapped[str | None] = mapped_column(String(32))
    cursor: Mapped[str | None] = mapped_column(String(40))  # the current step key
    next_seq: Mapped[int] = mapped_column(default=1)
    wait_kind: Mapped[str | None] = mapped_column(String(16))  # reply | timer | effect | assignment
    wait_token: Mapped[int] = mapped_column(default=0)
    waiting_since: Mapped[datetime | None]
    wake: Mapped[dict[str, Any] | None]  # why the run was woken, read by the waiting step
    variables: Mapped[dict[str, Any]]
    jumps: Mapped[dict[str, Any]]
    steps_done: Mapped[int] = mapped_column(default=0)
    trigger_event_id: Mapped[int | None] = mapped_column(IdType)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class RunStep(Base):
    """The record of one step visit; (run_id, seq) makes a repeated attempt fail instead of repeating."""

    __tablename__ = "run_steps"

    run_id: Mapped[int] = mapped_column(IdType, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(primary_key=True)
    step_key: Mapped[str] = mapped_column(String(40))
    step_type: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))  # waiting | done | error
    output: Mapped[str | None] = mapped_column(String(32))
    attempt: Mapped[int] = mapped_column(default=1)
    state: Mapped[dict[str, Any]]
    summary: Mapped[dict[str, Any]]
    error: Mapped[dict[str, Any] | None]
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class Timer(Base):
    """A due time for a waiting run: a question's timeout, a Wait, an assignment retry."""

    __tablename__ = "timers"
    __table_args__ = (Index(None, "due_at"), UniqueConstraint("run_id", "token", "kind"))

    id: Mapped[int] = id_column()
    run_id: Mapped[int] = mapped_column(IdType, ForeignKey("runs.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(IdType)
    token: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16))  # timeout | retry
    due_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]


class Enrolment(Base):
    """Every contact a workflow ever enrolled; outlives run pruning (WF-TRG-04 once per contact)."""

    __tablename__ = "workflow_enrolments"

    workflow_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("workflows.id", ondelete="CASCADE"), primary_key=True
    )
    contact_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    first_at: Mapped[datetime]
