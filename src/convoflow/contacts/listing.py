"""Contact lists (CRM-CONT-08): search, filters, the caller's visibility, newest first."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from convoflow.accounts.principal import Principal
from convoflow.contacts.filters import ContactFilter, compile_filter
from convoflow.contacts.models import Contact
from convoflow.contacts.visibility import visible_contacts
from convoflow.db.text_ops import folded, folded_text
from convoflow.errors import field_error
from convoflow.validators import timezone_name_ignoring_case


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def list_contacts(
    session: Session,
    principal: Principal,
    *,
    search: str | None = None,
    contact_filter: ContactFilter | None = None,
    timezone: str = "UTC",
    before_id: int | None = None,
    limit: int = 25,
) -> Sequence[Contact]:
    """One page of contacts with ids below `before_id`, newest first."""
    try:
        zone = timezone_name_ignoring_case(timezone)
    except ValueError as exc:
        raise field_error("timezone", str(exc)) from None
    query = select(Contact).where(visible_contacts(principal))
    if search and search.strip():
        pattern = _like_pattern(search.strip())
        folded_pattern = folded_text(session, pattern)
        full_name = Contact.first_name + " " + Contact.last_name
        query = query.where(
            or_(
                folded(session, full_name).like(folded_pattern, escape="\\"),
                folded(session, Contact.email).like(folded_pattern, escape="\\"),
                Contact.phone.like(pattern, escape="\\"),
            )
        )
    if contact_filter is not None:
        query = query.where(
            compile_filter(
                session, workspace_id=principal.workspace_id, contact_filter=contact_filter, timezone=zone
            )
        )
    if before_id is not None:
        query = query.where(Contact.id < before_id)
    return session.scalars(query.order_by(Contact.id.desc()).limit(limit)).all()
