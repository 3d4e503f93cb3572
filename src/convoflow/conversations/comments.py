"""Comments: internal notes on a contact, never sent to it (CRM-MSG-07)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from convoflow.accounts.models import Membership
from convoflow.contacts.models import Contact
from convoflow.conversations.models import Comment
from convoflow.db.session import now
from convoflow.errors import field_error
from convoflow.events import catalogue
from convoflow.events.actor import Actor
from convoflow.events.emit import emit

TEXT_MAX = 1000


def add_comment(
    session: Session, *, contact: Contact, text: str, mentions: list[int], actor: Actor
) -> Comment:
    """Stores the note; mentioned users must be active members and are named in comment.created."""
    text = text.strip()
    if not 1 <= len(text) <= TEXT_MAX:
        raise field_error("text", f"A comment has 1 to {TEXT_MAX} characters")
    wanted = list(dict.fromkeys(mentions))
    if wanted:
        active = set(
            session.scalars(
                select(Membership.user_id).where(
                    Membership.workspace_id == contact.workspace_id,
                    Membership.user_id.in_(wanted),
                    Membership.deactivated_at.is_(None),
                )
            )
        )
        unknown = [user_id for user_id in wanted if user_id not in active]
        if unknown:
            raise field_error("mentions", f"Unknown users mentioned: {unknown}")
    comment = Comment(
        workspace_id=contact.workspace_id,
        contact_id=contact.id,
        text=text,
        mentions=wanted,
        source=actor.source,
        user_id=actor.user_id,
        run_id=actor.run_id,
        created_at=now(session),
    )
    session.add(comment)
    session.flush()
    emit(
        session,
        workspace_id=contact.workspace_id,
        contact_id=contact.id,
        type=catalogue.COMMENT_CREATED,
        actor=actor,
        payload={
            "comment": {"id": comment.id, "contact_id": contact.id, "text": comment.text, "mentions": wanted}
        },
    )
    return comment


def list_comments(
    session: Session, *, contact_id: int, before_id: int | None, limit: int
) -> Sequence[Comment]:
    query = select(Comment).where(Comment.contact_id == contact_id)
    if before_id is not None:
        query = query.where(Comment.id < before_id)
    return session.scalars(query.order_by(Comment.id.desc()).limit(limit)).all()
