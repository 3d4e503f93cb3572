"""Which contacts a caller may see (CRM-ROLE-03): Agents may be limited to their team's or their own."""

from __future__ import annotations

from sqlalchemy import or_, select, true
from sqlalchemy.sql.elements import ColumnElement

from convoflow.accounts.models import Membership
from convoflow.accounts.principal import Principal
from convoflow.contacts.models import Contact


def visible_contacts(principal: Principal) -> ColumnElement[bool]:
    """A condition on Contact rows; always scoped to the principal's workspace."""
    in_workspace = Contact.workspace_id == principal.workspace_id
    if principal.role != "agent" or principal.restrictions.contact_visibility == "all":
        return in_workspace & true()
    me = principal.user_id
    if principal.restrictions.contact_visibility == "mine":
        return in_workspace & (Contact.assignee_user_id == me)
    # "team": contacts of the agent's team members, unassigned ones, and always the agent's own.
    conditions: list[ColumnElement[bool]] = [
        Contact.assignee_user_id.is_(None),
        Contact.assignee_user_id == me,
    ]
    if principal.team_id is not None:
        teammates = select(Membership.user_id).where(
            Membership.workspace_id == principal.workspace_id, Membership.team_id == principal.team_id
        )
        conditions.append(Contact.assignee_user_id.in_(teammates))
    return in_workspace & or_(*conditions)
