"""Recording and reading the audit trail."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from convoflow.audit.models import AuditEntry
from convoflow.db.session import now
from convoflow.events.actor import Actor

# Event sources as audit actor kinds (DESIGN.md: user | token | workflow | system); contacts, broadcasts
# and the system itself are "system".
ACTOR_KINDS = {"user": "user", "api": "token", "workflow": "workflow"}


def record(
    session: Session,
    *,
    workspace_id: int,
    actor: Actor,
    action: str,
    target_kind: str,
    target_id: int,
    data: dict[str, Any] | None = None,
) -> None:
    """One entry: who (a user, an API token, a workflow run, or the system), did what, to what, when."""
    kind = ACTOR_KINDS.get(actor.source, "system")
    session.add(
        AuditEntry(
            workspace_id=workspace_id,
            actor_kind=kind,
            actor_id=None if kind == "system" else actor.actor_id,
            action=action,
            target_kind=target_kind,
            target_id=target_id,
            data=data or {},
            at=now(session),
        )
    )


def history(
    session: Session, *, workspace_id: int, target_kind: str, target_id: int, limit: int = 100
) -> Sequence[AuditEntry]:
    """Newest first."""
    return session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.workspace_id == workspace_id,
            AuditEntry.target_kind == target_kind,
            AuditEntry.target_id == target_id,
        )
        .order_by(AuditEntry.id.desc())
        .limit(limit)
    ).all()
