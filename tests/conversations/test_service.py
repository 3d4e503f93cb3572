"""Conversations service: one open per contact, opening sources, the conversation record, closing notes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from convoflow.accounts.models import Workspace
from convoflow.bootstrap import Container
from convoflow.contacts import service as contacts
from convoflow.contacts.assignment import apply_assignee
from convoflow.conversations import closing
from convoflow.conversations import service as conversations
from convoflow.conversations.content import TextContent
from convoflow.conversations.messages import create_outgoing
from convoflow.conversations.models import Conversation
from convoflow.errors import Conflict, InvalidInput, NotFound
from convoflow.events.actor import Actor
from convoflow.teams import service as teams
from convoflow.testing.clock import FakeClock
from convoflow.testing.factories import make_channel, make_contact, principal
from tests.conversations.helpers import contact_events, conversations_of, event_types, inbound
from tests.support import World, seed_world


@pytest.fixture
def world(session: Session, container: Container) -> World:
    return seed_world(session, container.hasher)


def _set_closing_notes(session: Session, workspace: Workspace, rule: str) -> None:
    workspace.settings = {**workspace.settings, "closing_notes": rule}
    session.flush()


# CRM-CONV-01 -------------------------------------------------------------------------------------------


def test_opening_twice_keeps_one_open_conversation_and_emits_once(session: Session, world: World) -> None:
    # CRM-CONV-01, CRM-EVT-04
    contact = make_contact(session, workspace_id=world.workspace.id)
    first, opened = conversations.open_conversation(
        session, contact=contact, actor=Actor.user(world.agent.id)
    )
    again, opened_again = conversations.open_conversation(
        session, contact=contact, actor=Actor.user(world.owner.id)
    )
    session.commit()
    assert opened is True and opened_again is False
    assert again.id == first.id
    rows = conversations_of(session, contact.id)
    assert [(c.id, c.status) for c in rows] == [(first.id, "open")]
    assert event_types(session, contact.id) == ["contact.created", "conversation.opened"]
    assert contacts.snapshot(session, contact)["status"] == "open"


def test_database_refuses_a_second_open_conversation_row(
    session: Session, world: World, clock: FakeClock
) -> None:
    # CRM-CONV-01: the unique partial index holds even if a service is bypassed.
    contact = make_contact(session, workspace_id=world.workspace.id)
    conversations.open_conversation(session, contact=contact, actor=Actor.system())
    session.commit()
    session.add(
        Conversation(
            workspace_id=world.workspace.id,
            contact_id=contact.id,
            status="open",
            opened_at=clock.now(),
            opened_source="system",
            last_message_at=clock.now(),
        )
    )
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()
    assert [c.status for c in conversations_of(session, contact.id)] == ["open"]


def test_database_accepts_many_closed_conversations_beside_an_open_one(
    session: Session, world: World, clock: FakeClock
) -> None:
    # CRM-CONV-01: the index is partial; closed rows never collide.
    contact = make_contact(session, workspace_id=world.workspace.id)
    for _ in range(2):
        conversations.open_conversation(session, contact=contact, actor=Actor.system())
        conversations.close_conversation(
            session, contact=contact, actor=Actor.system(), category_id=None, summary=None
        )
        clock.advance(minutes=1)
    conversations.open_conversation(session, contact=contact, actor=Actor.system())
    session.commit()
    assert [c.status for c in conversations_of(session, contact.id)] == ["closed", "closed", "open"]


# CRM-CONV-02 -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("source", ["user", "api"])
def test_opening_by_user_or_api_records_source_and_actor(
    session: Session, world: World, clock: FakeClock, source: str
) -> None:
    # CRM-CONV-02, CRM-CONV-03 (opened at/source/by), CRM-EVT-01/02
    contact = make_contact(session, workspace_id=world.workspace.id)
    actor = Actor.user(world.agent.id) if source == "user" else Actor.api(77)
    conversation, opened = conversations.open_conversation(session, contact=contact, actor=actor)
    session.commit()
    assert opened
    assert conversation.opened_source == source
    assert conversation.opened_by == (world.agent.id if source == "user" else None)
    assert conversation.opened_at == clock.now()
    assert conversation.channel_id is None
    assert (conversation.in_count, conversation.out_count) == (0, 0)
    event = contact_events(session, contact.id)[-1]
    assert event.type == "conversation.opened"
    assert event.payload == {
        "contact_id": contact.id,
        "conversation_id": conversation.id,
        "source": source,
        "channel_id": None,
    }
    assert event.source == source
    assert event.actor_id == (world.agent.id if source == "user" else 77)
    assert event.run_id is None
    assert event.occurred_at == clock.now()


def test_inbound_message_opens_a_conversation_with_source_contact(session: Session, world: World) -> None:
    # CRM-CONV-02: an inbound message while none is open opens one.
    channel = make_channel(session, workspace_id=world.workspace.id)
    result = inbound(session, channel)
    session.commit()
    assert result.conversation_opened
    [conversation] = conversations_of(session, result.contact.id)
    assert conversation.status == "open"
    assert conversation.opened_source == "contact"
    assert conversation.opened_by is None
    assert conversation.channel_id == channel.id
    assert conversation.in_count == 1
    assert result.message.conversation_id == conversation.id
    opened = [e for e in contact_events(session, result.contact.id) if e.type == "conversation.opened"]
    assert len(opened) == 1
    assert opened[0].source == "contact" and opened[0].actor_id == result.contact.id
    assert opened[0].payload["channel_id"] == channel.id


def test_inbound_message_joins_the_open_conversation(
    session: Session, world: World, clock: FakeClock
) -> None:
    # CRM-CONV-01/02: a second inbound message does not open another.
    channel = make_channel(session, workspace_id=world.workspace.id)
    first = inbound(session, channel, text="uno")
    clock.advance(minutes=3)
    second = inbound(session, channel, text="dos")
    session.commit()
    assert not second.conversation_opened and not second.contact_created
    [conversation] = conversations_of(session, first.contact.id)
    assert second.message.conversation_id == conversation.id
    assert conversation.in_count == 2
    assert conversation.last_message_at == clock.now()
    assert event_types(session, first.contact.id).count("conversation.opened") == 1


def test_inbound_message_after_close_opens_a_new_conversation(
    session: Session, world: World, clock: FakeClock
) -> None:
    # CRM-CONV-02
    channel = make_channel(session, workspace_id=world.workspace.id)
    first = inbound(session, channel)
    conversations.close_conversation(
        session, contact=first.contact, actor=Actor.user(world.agent.id), category_id=None, summary=None
    )
    clock.advance(hours=2)
    second = inbound(session, channel)
    session.commit()
    assert second.conversation_opened
    rows = conversations_of(session, first.contact.id)
    assert [(c.status, c.in_count) for c in rows] == [("closed", 1), ("open", 1)]
    assert second.message.conversation_id == rows[1].id


def test_blocked_contact_inbound_opens_no_conversation(session: Session, world: World) -> None:
    # CRM-CONV-02, CRM-CONT-07
    channel = make_channel(session, workspace_id=world.workspace.id)
    contact = inbound(session, channel).contact
    contacts.set_blocked(session, contact=contact, blocked=True, actor=Actor.user(world.owner.id))
    before = event_types(session, contact.id)
    result = inbound(session, channel, text="still here")
    session.commit()
    assert not result.conversation_opened
    assert result.message.conversation_id is None
    assert [c.status for c in conversations_of(session, contact.id)] == ["closed"]
    assert "conversation.opened" not in event_types(session, contact.id)[len(before) :]


def test_opening_for_a_blocked_contact_is_refused(session: Session, world: World) -> None:
    # CRM-CONV-02, CRM-CONT-07
    contact = make_contact(session, workspace_id=world.workspace.id)
    contacts.set_blocked(session, contact=contact, blocked=True, actor=Actor.system())
    before = event_types(session, contact.id)
    with pytest.raises(Conflict) as refused:
        conversations.open_conversation(session, contact=contact, actor=Actor.user(world.owner.id))
    assert refused.value.error == "contact_blocked"
    assert conversations_of(session, contact.id) == []
    assert event_types(session, contact.id) == before


# CRM-CONV-03 -------------------------------------------------------------------------------------------


def test_closing_records_the_full_conversation_record(
    session: Session, world: World, clock: FakeClock
) -> None:
    # CRM-CONV-03: closed at/source/by, category, summary, first response, assignee and team at close, counts.
    team = teams.create_team(session, principal(world.workspace, world.owner), name="Ventas")
    teams.add_member(
        session, principal(world.workspace, world.owner), team_id=team.id, user_id=world.agent.id, move=False
    )
    category = closing.create_category(session, principal(world.workspace, world.owner), name="Resolved")
    channel = make_channel(session, workspace_id=world.workspace.id)
    received = inbound(session, channel)
    contact = received.contact
    opened_at = clock.now()
    apply_assignee(session, contact=contact, user_id=world.agent.id, actor=Actor.user(world.owner.id))
    clock.advance(minutes=4)
    create_outgoing(
        session,
        contact=contact,
        channel=channel,
        content=TextContent(text="Hi!"),
        actor=Actor.user(world.agent.id),
    )
    replied_at = clock.now()
    clock.advance(minutes=1)
    inbound(session, channel, text="thanks")
    clock.advance(minutes=10)
    closed = conversations.close_conversation(
        session,
        contact=contact,
        actor=Actor.user(world.agent.id),
        category_id=category.id,
        summary="  Sold a plan  ",
    )
    session.commit()
    assert closed is not None
    [row] = conversations_of(session, contact.id)
    assert row.status == "closed"
    assert row.opened_at == opened_at and row.opened_source == "contact"
    assert row.closed_at == clock.now()
    assert row.closed_source == "user" and row.closed_by == world.agent.id
    assert row.closing_category_id == category.id
    assert row.summary == "Sold a plan"
    assert row.first_response_at == replied_at
    assert row.assignee_at_close == world.agent.id
    assert row.team_at_close == team.id
    assert (row.in_count, row.out_count) == (2, 1)
    event = contact_events(session, contact.id)[-1]
    assert event.type == "conversation.closed"
    assert event.payload == {
        "contact_id": contact.id,
        "conversation_id": row.id,
        "source": "user",
        "channel_id": channel.id,
        "category": {"id": category.id, "name": "Resolved"},
        "summary": "Sold a plan",
    }
    assert (event.source, event.actor_id, event.run_id) == ("user", world.agent.id, None)
    assert contacts.snapshot(session, contact)["status"] == "closed"


def test_unassigned_close_has_no_assignee_or_team(session: Session, world: World) -> None:
    # CRM-CONV-03
    contact = make_contact(session, workspace_id=world.workspace.id)
    conversations.open_conversation(session, contact=contact, actor=Actor.user(world.owner.id))
    conversations.close_conversation(
        session, contact=contact, actor=Actor.api(5), category_id=None, summary="   "
    )
    session.commit()
    [row] = conversations_of(session, contact.id)
    assert (row.assignee_at_close, row.team_at_close) == (None, None)
    assert (row.closed_source, row.closed_by) == ("api", None)
    assert row.summary is None and row.closing_category_id is None
    event = contact_events(session, contact.id)[-1]
    assert (event.type, event.source, event.actor_id) == ("conversation.closed", "api", 5)
    assert event.payload["category"] is None and event.payload["summary"] is None


def test_first_response_is_set_by_the_first_user_message_only(
    session: Session, world: World, clock: FakeClock
) -> None:
    # CRM-CONV-03: API, workflow and system messages are not responses; a later user message is not first.
    channel = make_channel(session, workspace_id=world.workspace.id)
    contact = inbound(session, channel).contact
    for actor in (Actor.api(3), Actor.workflow(9), Actor.system()):
        clock.advance(minutes=1)
        create_outgoing(
            session, contact=contact, channel=channel, content=TextContent(text="auto"), actor=actor
        )
    [row] = conversations_of(session, contact.id)
    assert row.first_response_at is None
    clock.advance(minutes=1)
    first_user_reply = clock.now()
    create_outgoing(
        session,
        contact=contact,
        channel=channel,
        content=TextContent(text="me"),
        actor=Actor.user(world.agent.id),
    )
    clock.advance(minutes=1)
    create_outgoing(
        session,
        contact=contact,
        channel=channel,
        content=TextContent(text="me"),
        actor=Actor.user(world.owner.id),
    )
    session.commit()
    [row] = conversations_of(session, contact.id)
    assert row.first_response_at == first_user_reply
    assert row.out_count == 5


def test_outgoing_without_open_conversation_opens_none(session: Session, world: World) -> None:
    # CRM-CONV-02: sending never opens a conversation.
    channel = make_channel(session, workspace_id=world.workspace.id)
    contact = make_contact(session, workspace_id=world.workspace.id)
    message = create_outgoing(
        session,
        contact=contact,
        channel=channel,
        content=TextContent(text="hi"),
        actor=Actor.user(world.owner.id),
    )
    session.commit()
    assert message.conversation_id is None
    assert conversations_of(session, contact.id) == []
    assert event_types(session, contact.id) == ["contact.created"]


def test_team_at_close_is_the_assignee_team_at_that_moment(session: Session, world: World) -> None:
    # CRM-CONV-03: later team moves do not rewrite a closed conversation.
    owner = principal(world.workspace, world.owner)
    ventas = teams.create_team(session, owner, name="Ventas")
    soporte = teams.create_team(session, owner, name="Soporte")
    teams.add_member(session, owner, team_id=ventas.id, user_id=world.manager.id, move=False)
    contact = make_contact(session, workspace_id=world.workspace.id)
    apply_assignee(session, contact=contact, user_id=world.manager.id, actor=Actor.system())
    conversations.open_conversation(session, contact=contact, actor=Actor.user(world.owner.id))
    conversations.close_conversation(
        session, contact=contact, actor=Actor.user(world.owner.id), category_id=None, summary=None
    )
    teams.add_member(session, owner, team_id=soporte.id, user_id=world.manager.id, move=True)
    session.commit()
    [row] = conversations_of(session, contact.id)
    assert (row.assignee_at_close, row.team_at_close) == (world.manager.id, ventas.id)


# Closing: no-ops and CRM-CONV-04 -----------------------------------------------------------------------


def test_closing_with_nothing_open_changes_nothing(session: Session, world: World) -> None:
    # CRM-EVT-04
    contact = make_contact(session, workspace_id=world.workspace.id)
    result = conversations.close_conversation(
        session, contact=contact, actor=Actor.user(world.owner.id), category_id=None, summary=None
    )
    session.commit()
    assert result is None
    assert conversations_of(session, contact.id) == []
    assert event_types(session, contact.id) == ["contact.created"]


@pytest.mark.parametrize(
    ("rule", "category", "summary", "field"),
    [
        ("category_required", False, "done", "category_id"),
        ("category_and_summary_required", False, "done", "category_id"),
        ("category_and_summary_required", True, None, "summary"),
        ("category_and_summary_required", True, "   ", "summary"),
    ],
)
def test_closing_notes_rule_refuses_missing_fields(
    session: Session, world: World, rule: str, category: bool, summary: str | None, field: str
) -> None:
    # CRM-CONV-04: the conversation stays open and nothing is emitted.
    _set_closing_notes(session, world.workspace, rule)
    resolved = closing.create_category(session, principal(world.workspace, world.owner), name="Resolved")
    contact = make_contact(session, workspace_id=world.workspace.id)
    conversations.open_conversation(session, contact=contact, actor=Actor.user(world.owner.id))
    before = event_types(session, contact.id)
    with pytest.raises(InvalidInput) as refused:
        conversations.close_conversation(
            session,
            contact=contact,
            actor=Actor.user(world.owner.id),
            category_id=resolved.id if category else None,
            summary=summary,
        )
    assert refused.value.status == 422
    assert refused.value.error == "closing_notes_required"
    assert refused.value.details == [{"field": field, "message": refused.value.message}]
    assert [c.status for c in conversations_of(session, contact.id)] == ["open"]
    assert event_types(session, contact.id) == before


@pytest.mark.parametrize("rule", ["off", "optional"])
def test_closing_notes_off_or_optional_close_without_notes(session: Session, world: World, rule: str) -> None:
    # CRM-CONV-04
    _set_closing_notes(session, world.workspace, rule)
    contact = make_contact(session, workspace_id=world.workspace.id)
    conversations.open_conversation(session, contact=contact, actor=Actor.user(world.owner.id))
    closed = conversations.close_conversation(
        session, contact=contact, actor=Actor.user(world.owner.id), category_id=None, summary=None
    )
    assert closed is not None and closed.status == "closed"


def test_category_and_summary_required_accepts_both(session: Session, world: World) -> None:
    # CRM-CONV-04
    _set_closing_notes(session, world.workspace, "category_and_summary_required")
    resolved = closing.create_category(session, principal(world.workspace, world.owner), name="Resolved")
    contact = make_contact(session, workspace_id=world.workspace.id)
    conversations.open_conversation(session, contact=contact, actor=Actor.user(world.owner.id))
    closed = conversations.close_conversation(
        session, contact=contact, actor=Actor.user(world.owner.id), category_id=resolved.id, summary="ok"
    )
    assert closed is not None
    assert (closed.closing_category_id, closed.summary) == (resolved.id, "ok")


def test_system_close_skips_the_closing_notes_rule(session: Session, world: World) -> None:
    # CRM-CONV-04 applies to user and API closes; blocking closes with source system (decisions.md).
    _set_closing_notes(session, world.workspace, "category_and_summary_required")
    contact = make_contact(session, workspace_id=world.workspace.id)
    conversations.open_conversation(session, contact=contact, actor=Actor.user(world.owner.id))
    contacts.set_blocked(session, contact=contact, blocked=True, actor=Actor.user(world.owner.id))
    session.commit()
    [row] = conversations_of(session, contact.id)
    assert (row.status, row.closed_source, row.closed_by) == ("closed", "system", None)
    closed = contact_events(session, contact.id)[-1]
    assert (closed.type, closed.source, closed.actor_id) == ("conversation.closed", "system", None)


def test_summary_over_512_characters_is_refused(session: Session, world: World) -> None:
    # CRM-CONV-04
    contact = make_contact(session, workspace_id=world.workspace.id)
    conversations.open_conversation(session, contact=contact, actor=Actor.user(world.owner.id))
    with pytest.raises(InvalidInput) as refused:
        conversations.close_conversation(
            session, contact=contact, actor=Actor.user(world.owner.id), category_id=None, summary="x" * 513
        )
    assert refused.value.details[0]["field"] == "summary"
    closed = conversations.close_conversation(
        session, contact=contact, actor=Actor.user(world.owner.id), category_id=None, summary="x" * 512
    )
    assert closed is not None and closed.summary == "x" * 512


def test_unknown_or_foreign_category_is_not_found(
    session: Session, world: World, container: Container
) -> None:
    # CRM-CONV-04: a category of another workspace is unknown here.
    other = seed_world(session, container.hasher, name="Other")
    foreign = closing.create_category(session, principal(other.workspace, other.owner), name="Theirs")
    contact = make_contact(session, workspace_id=world.workspace.id)
    conversations.open_conversation(session, contact=contact, actor=Actor.user(world.owner.id))
    for category_id in (foreign.id, foreign.id + 1000):
        with pytest.raises(NotFound):
            conversations.close_conversation(
                session,
                contact=contact,
                actor=Actor.user(world.owner.id),
                category_id=category_id,
                summary=None,
            )
    assert [c.status for c in conversations_of(session, contact.id)] == ["open"]


def test_deleting_a_category_keeps_closed_conversations(session: Session, world: World) -> None:
    # CRM-CONV-03: history stays; the category becomes empty.
    owner = principal(world.workspace, world.owner)
    category = closing.create_category(session, owner, name="Spam")
    contact = make_contact(session, workspace_id=world.workspace.id)
    conversations.open_conversation(session, contact=contact, actor=Actor.user(world.owner.id))
    conversations.close_conversation(
        session, contact=contact, actor=Actor.user(world.owner.id), category_id=category.id, summary="s"
    )
    session.commit()
    closing.delete_category(session, owner, category_id=category.id)
    session.commit()
    [row] = conversations_of(session, contact.id)
    assert (row.status, row.closing_category_id, row.summary) == ("closed", None, "s")


def test_closing_emits_only_conversation_closed(session: Session, world: World, clock: FakeClock) -> None:
    # CRM-CONV-07: closing changes nothing else: assignee, tags, stage and messages stay; one event.
    channel = make_channel(session, workspace_id=world.workspace.id)
    contact = inbound(session, channel).contact
    apply_assignee(session, contact=contact, user_id=world.agent.id, actor=Actor.user(world.owner.id))
    session.commit()
    before_snapshot = contacts.snapshot(session, contact)
    before = [e.id for e in contact_events(session, contact.id)]
    clock.advance(days=1)
    conversations.close_conversation(
        session, contact=contact, actor=Actor.user(world.agent.id), category_id=None, summary=None
    )
    session.commit()
    after = contact_events(session, contact.id)
    assert [e.type for e in after if e.id not in before] == ["conversation.closed"]
    session.refresh(contact)
    assert contacts.snapshot(session, contact) == {**before_snapshot, "status": "closed"}
    assert contact.updated_at <= clock.now() - timedelta(days=1)
