"""Tags (CRM-TAG): unique ignoring case, created implicitly when added, renamed without losing contacts."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from convoflow.accounts.principal import Principal
from convoflow.contacts.models import Contact, ContactTag, Tag
from convoflow.db.session import now
from convoflow.errors import Conflict, NotFound, field_error
from convoflow.events import catalogue
from convoflow.events.actor import Actor
from convoflow.events.emit import emit
from convoflow.validators import clean_name, fold
from convoflow.workflows import references

NAME_MAX = 255


def clean_tag_name(name: str) -> str:
    try:
        return clean_name(name, field="tag name", max_length=NAME_MAX)
    except ValueError as exc:
        raise field_error("tags", str(exc)) from None


def list_tags(session: Session, *, workspace_id: int) -> Sequence[tuple[Tag, int]]:
    """Tags with how many contacts hold each, by name."""
    counts = (
        select(ContactTag.tag_id, func.count().label("n"))
        .join(Tag, Tag.id == ContactTag.tag_id)
        .where(Tag.workspace_id == workspace_id)
        .group_by(ContactTag.tag_id)
        .subquery()
    )
    rows = session.execute(
        select(Tag, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.tag_id == Tag.id)
        .where(Tag.workspace_id == workspace_id)
        .order_by(Tag.name_norm)
    )
    return [(tag, int(n)) for tag, n in rows]


def get_tag(session: Session, *, workspace_id: int, tag_id: int) -> Tag:
    tag = session.scalar(select(Tag).where(Tag.id == tag_id, Tag.workspace_id == workspace_id))
    if tag is None:
        raise NotFound("Tag not found")
    return tag


def find_tag(session: Session, *, workspace_id: int, name: str) -> Tag | None:
    return session.scalar(select(Tag).where(Tag.workspace_id == workspace_id, Tag.name_norm == fold(name)))


def create_tag(
    session: Session,
    principal: Principal,
    *,
    name: str,
    description: str = "",
    color: str | None = None,
    emoji: str | None = None,
) -> Tag:
    principal.require_manager("restrict_space_setting")
    if find_tag(session, workspace_id=principal.workspace_id, name=name) is not None:
        raise Conflict(f"A tag named {name!r} already exists", error="tag_name_taken")
    tag = Tag(
        workspace_id=principal.workspace_id,
        name=name,
        name_norm=fold(name),
        description=description,
        color=color,
        emoji=emoji,
        created_at=now(session),
    )
    session.add(tag)
    session.flush()
    return tag


def update_tag(
    session: Session,
    principal: Principal,
    *,
    tag_id: int,
    name: str | None = None,
    description: str | None = None,
    color: str | None = None,
    emoji: str | None = None,
    clear: frozenset[str] = frozenset(),
) -> Tag:
    """Renaming keeps every contact's tag (CRM-TAG-02). `clear` names optional attributes to empty."""
    principal.require_manager("restrict_space_setting")
    tag = get_tag(session, workspace_id=principal.workspace_id, tag_id=tag_id)
    if name is not None:
        other = find_tag(session, workspace_id=principal.workspace_id, name=name)
        if other is not None and other.id != tag.id:
            raise Conflict(f"A tag named {name!r} already exists", error="tag_name_taken")
        tag.name, tag.name_norm = name, fold(name)
    if description is not None:
        tag.description = description
    if color is not None or "color" in clear:
        tag.color = color
    if emoji is not None or "emoji" in clear:
        tag.emoji = emoji
    session.flush()
    return tag


def delete_tag(session: Session, principal: Principal, *, tag_id: int) -> None:
    """Removes the tag from every contact, without per-contact events; refused while a published
    workflow names it (CRM-TAG-03)."""
    principal.require_manager("restrict_space_setting")
    tag = get_tag(session, workspace_id=principal.workspace_id, tag_id=tag_id)
    references.refuse_if_used(
        references.published_users_of(session, workspace_id=tag.workspace_id, kind="tag", object_id=tag.id),
        f"Tag {tag.name!r}",
    )
    session.delete(tag)
    session.flush()


def ensure_tags(session: Session, *, workspace_id: int, names: list[str]) -> list[Tag]:
    """The tags named, created if missing (CRM-TAG-02), de-duplicated ignoring case, in order."""
    wanted: dict[str, str] = {}
    for name in names:
        cleaned = clean_tag_name(name)
        wanted.setdefault(fold(cleaned), cleaned)
    if not wanted:
        return []
    existing = {
        tag.name_norm: tag
        for tag in session.scalars(
            select(Tag).where(Tag.workspace_id == workspace_id, Tag.name_norm.in_(list(wanted)))
        )
    }
    at = now(session)
    for norm, name in wanted.items():
        if norm not in existing:
            tag = Tag(workspace_id=workspace_id, name=name, name_norm=norm, created_at=at)
            session.add(tag)
            existing[norm] = tag
    session.flush()
    return [existing[norm] for norm in wanted]


def contact_tag_names(session: Session, contact_id: int) -> list[str]:
    return list(
        session.scalars(
            select(Tag.name)
            .join(ContactTag, ContactTag.tag_id == Tag.id)
            .where(ContactTag.contact_id == contact_id)
            .order_by(Tag.name_norm)
        )
    )


def change_contact_tags(
    session: Session, *, contact: Contact, add: list[str], remove: list[str], actor: Actor
) -> tuple[list[str], list[str]]:
    """Adds and removes tags; emits one contact.tag.updated listing what really changed (CRM-EVT-04)."""
    current = {
        tag.name_norm: tag
        for tag in session.scalars(
            select(Tag)
            .join(ContactTag, ContactTag.tag_id == Tag.id)
            .where(ContactTag.contact_id == contact.id)
        )
    }
    remove_norms = {fold(clean_tag_name(name)) for name in remove}
    to_add = [
        tag
        for tag in ensure_tags(session, workspace_id=contact.workspace_id, names=add)
        if tag.name_norm not in current and tag.name_norm not in remove_norms
    ]
    to_remove = [tag for norm, tag in current.items() if norm in remove_norms]
    at = now(session)
    if to_add:
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.execute(
            insert(ContactTag)
            .values([{"contact_id": contact.id, "tag_id": tag.id, "created_at": at} for tag in to_add])
            .on_conflict_do_nothing()
        )
    if to_remove:
        session.execute(
            delete(ContactTag).where(
                ContactTag.contact_id == contact.id, ContactTag.tag_id.in_([tag.id for tag in to_remove])
            )
        )
    added, removed = [tag.name for tag in to_add], [tag.name for tag in to_remove]
    if added or removed:
        contact.updated_at = at
        emit(
            session,
            workspace_id=contact.workspace_id,
            contact_id=contact.id,
            type=catalogue.CONTACT_TAG_UPDATED,
            actor=actor,
            payload={
                "contact_id": contact.id,
                "added": added,
                "removed": removed,
                "added_ids": [tag.id for tag in to_add],
                "removed_ids": [tag.id for tag in to_remove],
            },
        )
    return added, removed
