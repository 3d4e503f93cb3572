"""Closing categories (CRM-CONV-04), managed by Owners and Managers."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from convoflow.accounts.principal import Principal
from convoflow.conversations.models import ClosingCategory
from convoflow.db.session import now
from convoflow.errors import Conflict, NotFound
from convoflow.validators import fold


def list_categories(session: Session, *, workspace_id: int) -> Sequence[ClosingCategory]:
    return session.scalars(
        select(ClosingCategory)
        .where(ClosingCategory.workspace_id == workspace_id)
        .order_by(ClosingCategory.name_norm)
    ).all()


def get_category(session: Session, *, workspace_id: int, category_id: int) -> ClosingCategory:
    category = session.scalar(
        select(ClosingCategory).where(
            ClosingCategory.id == category_id, ClosingCategory.workspace_id == workspace_id
        )
    )
    if category is None:
        raise NotFound("Closing category not found")
    return category


def find_category(session: Session, *, workspace_id: int, name: str) -> ClosingCategory | None:
    return session.scalar(
        select(ClosingCategory).where(
            ClosingCategory.workspace_id == workspace_id, ClosingCategory.name_norm == fold(name)
        )
    )


def _check_name_free(session: Session, workspace_id: int, name: str, *, except_id: int | None = None) -> None:
    other = find_category(session, workspace_id=workspace_id, name=name)
    if other is not None and other.id != except_id:
        raise Conflict(f"A closing category named {name!r} already exists", error="category_name_taken")


def create_category(
    session: Session, principal: Principal, *, name: str, description: str = ""
) -> ClosingCategory:
    principal.require_manager("restrict_space_setting")
    _check_name_free(session, principal.workspace_id, name)
    category = ClosingCategory(
        workspace_id=principal.workspace_id,
        name=name,
        name_norm=fold(name),
        description=description,
        created_at=now(session),
    )
    session.add(category)
    session.flush()
    return category


def update_category(
    session: Session, principal: Principal, *, category_id: int, name: str | None, description: str | None
) -> ClosingCategory:
    principal.require_manager("restrict_space_setting")
    category = get_category(session, workspace_id=principal.workspace_id, category_id=category_id)
    if name is not None:
        _check_name_free(session, principal.workspace_id, name, except_id=category.id)
        category.name, category.name_norm = name, fold(name)
    if description is not None:
        category.description = description
    session.flush()
    return category


def delete_category(session: Session, principal: Principal, *, category_id: int) -> None:
    """Closed conversations keep their history; their category becomes empty."""
    principal.require_manager("restrict_space_setting")
    session.delete(get_category(session, workspace_id=principal.workspace_id, category_id=category_id))
    session.flush()
