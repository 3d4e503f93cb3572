"""The workflow list page (WF-LIST-01/02) and the people shown on it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from convoflow.accounts.models import User
from convoflow.accounts.principal import Principal
from convoflow.db.text_ops import folded, folded_text
from convoflow.workflows.definition.text_safety import NUL
from convoflow.workflows.models import Workflow
from convoflow.workflows.service import SortKey, State


@dataclass(frozen=True, slots=True)
class Listed:
    workflow: Workflow
    created_by: User | None
    published_by: User | None


def list_workflows(
    session: Session,
    principal: Principal,
    *,
    search: str | None = None,
    state: State | None = None,
    sort: SortKey = "created_at",
    descending: bool = True,
) -> list[Listed]:
    """WF-LIST-01/02: every workflow of the workspace (at most 100), filtered and sorted."""
    principal.require_manager()
    if search and NUL in search:
        return []  # no stored name or description holds one (PostgreSQL could not even compare it)
    query = select(Workflow).where(Workflow.workspace_id == principal.workspace_id)
    if search and search.strip():
        pattern = f"%{_escape(search.strip())}%"
        query = query.where(
            folded(session, Workflow.name).like(folded_text(session, pattern), escape="\\")
            | folded(session, Workflow.description).like(folded_text(session, pattern), escape="\\")
        )
    if state is not None:
        query = query.where(Workflow.state == state)
    column = {
        "created_at": Workflow.created_at,
        "name": Workflow.name_norm,
        "published_at": Workflow.published_at,
        "state": Workflow.state,
    }[sort]
    order = column.desc() if descending else column.asc()
    workflows = session.scalars(query.order_by(order.nulls_last(), Workflow.id.desc())).all()
    user_ids = {w.created_by for w in workflows} | {w.published_by for w in workflows}
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_([i for i in user_ids if i])))}
    return [Listed(w, users.get(w.created_by or 0), users.get(w.published_by or 0)) for w in workflows]


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def people(session: Session, user_ids: set[int | None]) -> dict[int, User]:
    """Users by id, for showing who created, published or changed something."""
    wanted = [i for i in user_ids if i is not None]
    return {u.id: u for u in session.scalars(select(User).where(User.id.in_(wanted)))} if wanted else {}
