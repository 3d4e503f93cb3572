"""The demo workspace behind `convoflow demo`, created through the real services on both databases."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from convoflow.accounts.models import Membership, User, Workspace
from convoflow.bootstrap import Container
from convoflow.contacts.models import Contact, ContactField, ContactTag, Tag
from convoflow.conversations.models import ClosingCategory, Conversation, Message
from convoflow.demo import DEMO_SLUG, OWNER_EMAIL, create_demo, find_demo, reset_owner_password
from convoflow.teams.models import Team
from convoflow.testing.factories import make_user, make_workspace
from convoflow.validators import E164
from tests.support import events_of


def _owner(session: Session) -> User:
    owner = session.scalar(select(User).where(User.email == OWNER_EMAIL))
    assert owner is not None
    return owner


def test_demo_creates_people_teams_contacts_and_conversations(session: Session, container: Container) -> None:
    login = create_demo(session, container.hasher)
    session.commit()
    session.expire_all()
    workspace = login.workspace
    ws = workspace.id

    assert login.email == OWNER_EMAIL
    assert container.hasher.verify(_owner(session).password_hash, login.password)
    assert (workspace.slug, workspace.name, workspace.timezone) == (DEMO_SLUG, "Demo", "Europe/Madrid")
    assert workspace.settings["language"] == "es" and workspace.settings["default_country"] == "ES"

    # People (CRM-ROLE-01): one of each role, two agents.
    members = session.execute(
        select(User.email, Membership.role, Membership.team_id)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.workspace_id == ws)
    ).all()
    assert sorted(role for _, role, _ in members) == ["agent", "agent", "manager", "owner"]
    assert {email for email, _, _ in members} == {
        OWNER_EMAIL,
        "manager@demo.example.com",
        "agent1@demo.example.com",
        "agent2@demo.example.com",
    }

    # Teams (CRM-TEAM-02: one team per user).
    teams = {t.name: t.id for t in session.scalars(select(Team).where(Team.workspace_id == ws))}
    assert set(teams) == {"Ventas", "Soporte"}
    team_of = {email: team_id for email, _, team_id in members}
    assert team_of["agent1@demo.example.com"] == teams["Ventas"]
    assert team_of["agent2@demo.example.com"] == teams["Soporte"]
    assert team_of["manager@demo.example.com"] == teams["Soporte"]

    # Contacts with valid standard fields (CRM-FIELD-01), custom fields (CRM-FIELD-03) and tags.
    contacts = session.scalars(select(Contact).where(Contact.workspace_id == ws)).all()
    assert len(contacts) == 50
    assert len({c.email for c in contacts}) == 50 and len({c.phone for c in contacts}) == 50
    for contact in contacts:
        assert contact.phone is not None and E164.fullmatch(contact.phone)
        assert (
            contact.email is not None and contact.email == contact.email.lower() and contact.email.isascii()
        )
        assert contact.language == "es" and contact.lifecycle_stage_id is not None
        assert set(contact.attributes) == {"city", "plan", "bot_activo", "orders", "birthday"}
        assert contact.attributes["plan"] in ("Free", "Pro", "Enterprise")
    slugs = set(session.scalars(select(ContactField.slug).where(ContactField.workspace_id == ws)))
    assert slugs == {"city", "plan", "bot_activo", "orders", "birthday"}
    tag_names = session.scalars(
        select(Tag.name).join(ContactTag, ContactTag.tag_id == Tag.id).where(Tag.workspace_id == ws)
    ).all()
    assert len(tag_names) >= 10
    assert set(tag_names) <= {"vip", "lead", "prioridad-alta", "newsletter", "recurrente"}

    # Conversations: 8, each with the customer's question and a delivered answer; three closed.
    conversations = session.scalars(select(Conversation).where(Conversation.workspace_id == ws)).all()
    assert len(conversations) == 8
    assert Counter(c.status for c in conversations) == {"open": 5, "closed": 3}
    resolved = session.scalar(select(ClosingCategory.id).where(ClosingCategory.name == "Resuelto"))
    for conversation in conversations:
        messages = session.scalars(
            select(Message).where(Message.conversation_id == conversation.id).order_by(Message.id)
        ).all()
        assert [m.traffic for m in messages] == ["incoming", "outgoing"]
        assert messages[1].status == "delivered"
        if conversation.status == "closed":
            assert conversation.closing_category_id == resolved
            assert conversation.summary == "Consulta resuelta"
    assert len({c.contact_id for c in conversations}) == 8

    # Built through the services, so the activity log is there too (CRM-EVT).
    assert len(events_of(session, workspace_id=ws, type="contact.created")) == 50

    # A later start finds it and only gives the Owner a new password.
    rows_before = _row_counts(session)
    found = find_demo(session)
    assert found is not None and found.id == ws
    new_password = reset_owner_password(session, container.hasher)
    session.commit()
    session.expire_all()
    assert new_password != login.password
    assert container.hasher.verify(_owner(session).password_hash, new_password)
    assert not container.hasher.verify(_owner(session).password_hash, login.password)
    assert _row_counts(session) == rows_before


def _row_counts(session: Session) -> dict[str, int]:
    tables = [Workspace, User, Membership, Team, Contact, ContactTag, Conversation, Message]
    return {t.__tablename__: session.scalar(select(func.count()).select_from(t)) or 0 for t in tables}


def test_no_demo_until_created(session: Session) -> None:
    assert find_demo(session) is None


def test_someone_elses_workspace_named_demo_is_not_taken_for_the_demo(
    session: Session, container: Container
) -> None:
    stranger = make_user(session, container.hasher, email="someone@example.com")
    theirs = make_workspace(session, owner=stranger, name="Demo")
    session.commit()
    assert theirs.slug == DEMO_SLUG
    assert find_demo(session) is None

    login = create_demo(session, container.hasher)
    session.commit()

    assert login.workspace.id != theirs.id and login.workspace.slug.startswith("demo-")
    found = find_demo(session)
    assert found is not None and found.id == login.workspace.id
    members = session.scalar(select(func.count()).where(Membership.workspace_id == theirs.id))
    contacts = session.scalar(select(func.count()).where(Contact.workspace_id == theirs.id))
    assert (members, contacts) == (1, 0)


def test_demo_is_recreated_after_its_workspace_was_deleted(session: Session, container: Container) -> None:
    first = create_demo(session, container.hasher)
    session.commit()
    session.delete(first.workspace)
    session.commit()
    assert find_demo(session) is None

    again = create_demo(session, container.hasher)
    session.commit()
    session.expire_all()

    assert session.scalar(select(func.count()).select_from(User)) == 4  # the accounts are reused
    assert container.hasher.verify(_owner(session).password_hash, again.password)
    roles = session.scalars(
        select(Membership.role).where(Membership.workspace_id == again.workspace.id)
    ).all()
    assert sorted(roles) == ["agent", "agent", "manager", "owner"]
