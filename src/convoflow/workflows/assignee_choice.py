"""Choosing a user for Assign To (WF-STEP-ASSIGN-02/03): eligibility, round robin, least open contacts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from convoflow.accounts.models import Membership, User, Workspace
from convoflow.accounts.users import availability
from convoflow.contacts.models import Contact
from convoflow.conversations.models import Conversation
from convoflow.db.session import now
from convoflow.teams.models import Team
from convoflow.workflows.engine.ports import AssigneeChoice

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def open_contact_counts(session: Session, *, workspace_id: int, user_ids: list[int]) -> dict[int, int]:
    """WF-STEP-ASSIGN-02: open contacts = contacts assigned to the user whose conversation is open."""
    rows = session.execute(
        select(Contact.assignee_user_id, func.count())
        .join(Conversation, (Conversation.contact_id == Contact.id) & (Conversation.status == "open"))
        .where(Contact.workspace_id == workspace_id, Contact.assignee_user_id.in_(user_ids))
        .group_by(Contact.assignee_user_id)
    )
    counts = {user_id: 0 for user_id in user_ids}
    counts.update({user_id: int(count) for user_id, count in rows if user_id is not None})
    return counts


def choose(
    session: Session,
    *,
    workspace_id: int,
    team_id: int | None,
    logic: Literal["round_robin", "least_open"],
    online_only: bool,
    max_open_contacts: int | None,
) -> AssigneeChoice:
    """Team members (or every active user of the workspace), then the online and capacity filters."""
    query = (
        select(User, Membership)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.workspace_id == workspace_id, Membership.deactivated_at.is_(None))
        .order_by(User.id)
    )
    if team_id is not None:
        query = query.where(Membership.team_id == team_id)
    members = session.execute(query).all()
    if not members:
        return AssigneeChoice(None, "no_members")  # WF-STEP-ASSIGN-04
    at = now(session)
    eligible = [
        (user, membership)
        for user, membership in members
        if not online_only or availability(user, at) == "online"
    ]
    counts = open_contact_counts(session, workspace_id=workspace_id, user_ids=[u.id for u, _m in eligible])
    if max_open_contacts is not None:
        eligible = [(u, m) for u, m in eligible if counts[u.id] < max_open_contacts]
    if not eligible:
        return AssigneeChoice(None, "none_eligible")  # WF-STEP-ASSIGN-05: the contact queues
    if logic == "least_open":
        user, _membership = min(
            eligible, key=lambda um: (counts[um[0].id], um[1].last_assigned_at or _EPOCH, um[0].id)
        )
        return AssigneeChoice(user.id, "chosen")
    return AssigneeChoice(
        _next_in_rotation(session, workspace_id, team_id, [u.id for u, _m in eligible]), "chosen"
    )


def _next_in_rotation(session: Session, workspace_id: int, team_id: int | None, ids: list[int]) -> int:
    """WF-STEP-ASSIGN-03: one pointer per team (and one for the workspace), shared by every workflow;
    the next eligible user after it wins. The pointer row is locked so rotation stays fair."""
    holder: type[Team] | type[Workspace] = Team if team_id is not None else Workspace
    row_id = team_id if team_id is not None else workspace_id
    pointer = session.scalar(select(holder.rr_cursor_user_id).where(holder.id == row_id).with_for_update())
    chosen = next((user_id for user_id in ids if pointer is None or user_id > pointer), ids[0])
    session.execute(update(holder).where(holder.id == row_id).values(rr_cursor_user_id=chosen))
    return chosen


def note_assigned(session: Session, *, workspace_id: int, user_id: int) -> None:
    session.execute(
        update(Membership)
        .where(Membership.workspace_id == workspace_id, Membership.user_id == user_id)
        .values(last_assigned_at=now(session))
    )
