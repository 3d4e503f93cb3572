"""Domain events of conversations, messages and comments: completeness, payloads, transactions, order.

CRM-EVT-01 (the right type and essentials for each change), CRM-EVT-02 (source, actor, run),
CRM-EVT-03 (same transaction; ordered by id), CRM-EVT-04 (no-op changes emit nothing).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from convoflow.bootstrap import Container
from convoflow.contacts import service as contacts
from convoflow.contacts.identities import ChannelProfile
from convoflow.conversations import comments
from convoflow.conversations import service as conversations
from convoflow.conversations.content import TextContent
from convoflow.conversations.messages import create_outgoing, update_status
from convoflow.events.actor import Actor
from convoflow.testing.clock import FakeClock
from convoflow.testing.factories import make_channel, make_contact
from tests.conversations.helpers import contact_events, counts, event_types, inbound, token_client
from tests.support import World, events_of, login, seed_world

MESSAGE_KEYS = {
    "id",
    "contact_id",
    "conversation_id",
    "channel_id",
    "traffic",
    "source",
    "type",
    "content",
    "status",
    "provider_message_id",
    "user_id",
    "run_id",
    "created_at",
}


@pytest.fixture
def world(session: Session, container: Container) -> World:
    return seed_world(session, container.hasher)


# Ordering (CRM-EVT-03) ---------------------------------------------------------------------------------


def test_first_inbound_message_emits_created_opened_received_in_order(
    session: Session, world: World, clock: FakeClock
) -> None:
    # CRM-EVT-03, CRM-CONT-03, CRM-CONV-02: one inbound message for a new contact.
    channel = make_channel(session, workspace_id=world.workspace.id)
    result = inbound(session, channel, external_id="new", profile=ChannelProfile(first_name="Nora"))
    session.commit()
    events = events_of(session, workspace_id=world.workspace.id)
    assert [e.type for e in events] == ["contact.created", "conversation.opened", "message.received"]
    assert [e.id for e in events] == sorted(e.id for e in events)
    contact_id = result.contact.id
    for event in events:
        assert event.contact_id == contact_id
        assert (event.source, event.actor_id, event.run_id) == ("contact", contact_id, None)
        assert event.occurred_at == clock.now()
        assert event.workspace_id == world.workspace.id
    created, opened, received = events
    assert created.payload["contact"]["id"] == contact_id
    assert created.payload["contact"]["first_name"] == "Nora"
    assert opened.payload == {
        "contact_id": contact_id,
        "conversation_id": result.message.conversation_id,
        "source": "contact",
        "channel_id": channel.id,
    }
    assert set(received.payload["message"]) == MESSAGE_KEYS
    assert received.payload["message"]["id"] == result.message.id
    assert received.payload["message"]["conversation_id"] == opened.payload["conversation_id"]


def test_a_conversation_lifecycle_emits_each_event_once_in_order(
    session: Session, world: World, clock: FakeClock
) -> None:
    # CRM-EVT-01/03 over a whole conversation: ids increase and times never go back.
    channel = make_channel(session, workspace_id=world.workspace.id)
    contact = inbound(session, channel).contact
    clock.advance(seconds=20)
    comments.add_comment(
        session, contact=contact, text="VIP", mentions=[world.agent.id], actor=Actor.user(world.owner.id)
    )
    clock.advance(seconds=20)
    reply = create_outgoing(
        session,
        contact=contact,
        channel=channel,
        content=TextContent(text="hi"),
        actor=Actor.user(world.agent.id),
    )
    clock.advance(seconds=1)
    update_status(session, message=reply, status="sent")
    clock.advance(seconds=1)
    update_status(session, message=reply, status="read")
    clock.advance(minutes=5)
    conversations.close_conversation(
        session, contact=contact, actor=Actor.user(world.agent.id), category_id=None, summary="ok"
    )
    session.commit()
    events = contact_events(session, contact.id)
    assert [e.type for e in events] == [
        "contact.created",
        "conversation.opened",
        "message.received",
        "comment.created",
        "message.sent",
        "message.status.updated",
        "conversation.closed",
    ]
    assert [e.id for e in events] == sorted({e.id for e in events})
    times = [e.occurred_at for e in events]
    assert times == sorted(times)
    assert [(e.source, e.actor_id) for e in events[3:]] == [
        ("user", world.owner.id),
        ("user", world.agent.id),
        ("system", None),
        ("user", world.agent.id),
    ]
    assert events[3].payload["comment"]["mentions"] == [world.agent.id]
    assert events[5].payload == {"message_id": reply.id, "status": "read", "reason": None}
    assert events[6].payload["summary"] == "ok"


def test_every_event_names_its_contact_and_workspace(
    session: Session, world: World, container: Container
) -> None:
    # CRM-EVT-02, CRM-WS-01: events of two workspaces never mix.
    other = seed_world(session, container.hasher, name="Other")
    here = make_channel(session, workspace_id=world.workspace.id)
    there = make_channel(session, workspace_id=other.workspace.id)
    a = inbound(session, here, external_id="same-id").contact
    b = inbound(session, there, external_id="same-id").contact
    session.commit()
    assert a.id != b.id
    assert {e.contact_id for e in events_of(session, workspace_id=world.workspace.id)} == {a.id}
    assert {e.contact_id for e in events_of(session, workspace_id=other.workspace.id)} == {b.id}


# Completeness: the right type, payload and source for each change (CRM-EVT-01/02) ----------------------


def test_outgoing_message_events_carry_the_message_and_status(session: Session, world: World) -> None:
    # CRM-EVT-01: message.sent carries the message (with source); message.status.updated id/status/reason.
    channel = make_channel(session, workspace_id=world.workspace.id)
    contact = make_contact(session, workspace_id=world.workspace.id)
    message = create_outgoing(
        session,
        contact=contact,
        channel=channel,
        content=TextContent(text="Order shipped"),
        actor=Actor.api(4),
    )
    update_status(session, message=message, status="sent", provider_message_id="prov-9")
    update_status(session, message=message, status="failed", reason="undeliverable")
    session.commit()
    sent, failed = contact_events(session, contact.id)[-2:]
    assert sent.type == "message.sent"
    assert set(sent.payload["message"]) == MESSAGE_KEYS
    assert sent.payload["message"]["source"] == "api"
    assert sent.payload["message"]["traffic"] == "outgoing"
    assert sent.payload["message"]["content"] == {"type": "text", "text": "Order shipped"}
    assert sent.payload["message"]["provider_message_id"] == "prov-9"
    assert sent.source == "api" and sent.run_id is None
    assert failed.type == "message.status.updated"
    assert failed.payload == {"message_id": message.id, "status": "failed", "reason": "undeliverable"}


def test_api_changes_carry_the_token_as_actor(make_client: Any, session: Session, world: World) -> None:
    # CRM-EVT-02: source api, actor the token id, no run id.
    contact = make_contact(session, workspace_id=world.workspace.id)
    api, token_id = token_client(make_client, session, world.workspace, world.owner)
    assert api.post(f"/api/contacts/{contact.id}/conversation/open").status_code == 200
    assert api.post(f"/api/contacts/{contact.id}/comments", json={"text": "synced"}).status_code == 201
    assert api.post(f"/api/contacts/{contact.id}/conversation/close", json={}).status_code == 200
    events = contact_events(session, contact.id)[1:]
    assert [e.type for e in events] == ["conversation.opened", "comment.created", "conversation.closed"]
    assert {(e.source, e.actor_id, e.run_id) for e in events} == {("api", token_id, None)}


def test_user_changes_carry_the_user_as_actor(client: TestClient, session: Session, world: World) -> None:
    # CRM-EVT-02: source user, actor the user id, no run id.
    contact = make_contact(session, workspace_id=world.workspace.id)
    session.commit()
    login(client, world.manager)
    assert client.post(f"/api/contacts/{contact.id}/conversation/open").status_code == 200
    assert client.post(f"/api/contacts/{contact.id}/comments", json={"text": "note"}).status_code == 201
    assert client.post(f"/api/contacts/{contact.id}/conversation/close", json={}).status_code == 200
    events = contact_events(session, contact.id)[1:]
    assert [e.type for e in events] == ["conversation.opened", "comment.created", "conversation.closed"]
    assert {(e.source, e.actor_id, e.run_id) for e in events} == {("user", world.manager.id, None)}


def test_workflow_changes_carry_the_run(session: Session, world: World) -> None:
    # CRM-EVT-02: a run's changes carry its id as actor and run id.
    channel = make_channel(session, workspace_id=world.workspace.id)
    contact = make_contact(session, workspace_id=world.workspace.id)
    run = Actor.workflow(55)
    conversations.open_conversation(session, contact=contact, actor=run)
    message = create_outgoing(
        session, contact=contact, channel=channel, content=TextContent(text="auto"), actor=run
    )
    update_status(session, message=message, status="sent")
    comments.add_comment(session, contact=contact, text="auto note", mentions=[], actor=run)
    conversations.close_conversation(
        session, contact=contact, actor=run, category_id=None, summary=None, enforce_notes=False
    )
    session.commit()
    events = contact_events(session, contact.id)[1:]
    assert [e.type for e in events] == [
        "conversation.opened",
        "message.sent",
        "comment.created",
        "conversation.closed",
    ]
    assert {(e.source, e.actor_id, e.run_id) for e in events} == {("workflow", 55, 55)}


# Same transaction (CRM-EVT-03) -------------------------------------------------------------------------


@pytest.fixture
def failing_client(client: TestClient) -> Iterator[TestClient]:
    """A client that receives 500 responses instead of raising the server's exception."""
    with TestClient(client.app, raise_server_exceptions=False) as failing:
        yield failing


def test_a_request_failing_after_its_change_leaves_no_event(
    failing_client: TestClient, session: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # CRM-EVT-03: the conversation and its conversation.opened event are written together or not at all.
    contact = make_contact(session, workspace_id=world.workspace.id)
    session.commit()
    before = counts(session)
    real_open = conversations.open_conversation

    def open_then_fail(*args: Any, **kwargs: Any) -> Any:
        real_open(*args, **kwargs)
        raise RuntimeError("the request fails after the change and its event")

    monkeypatch.setattr(conversations, "open_conversation", open_then_fail)
    login(failing_client, world.owner)
    response = failing_client.post(f"/api/contacts/{contact.id}/conversation/open")
    assert response.status_code == 500
    assert response.json()["error"] == "internal_error"
    assert counts(session) == before
    assert event_types(session, contact.id) == ["contact.created"]


def test_a_failing_comment_request_leaves_no_event(
    failing_client: TestClient, session: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # CRM-EVT-03
    contact = make_contact(session, workspace_id=world.workspace.id)
    session.commit()
    before = counts(session)
    real_add = comments.add_comment

    def add_then_fail(*args: Any, **kwargs: Any) -> Any:
        real_add(*args, **kwargs)
        raise RuntimeError("boom")

    monkeypatch.setattr(comments, "add_comment", add_then_fail)
    login(failing_client, world.owner)
    assert (
        failing_client.post(f"/api/contacts/{contact.id}/comments", json={"text": "lost"}).status_code == 500
    )
    assert counts(session) == before


def test_rolled_back_inbound_message_leaves_nothing(session: Session, world: World) -> None:
    # CRM-EVT-03: contact, conversation, message and their three events share one transaction.
    channel = make_channel(session, workspace_id=world.workspace.id)
    session.commit()
    before = counts(session)
    inbound(session, channel, external_id="ghost")
    session.rollback()
    assert counts(session) == before
    assert events_of(session, workspace_id=world.workspace.id) == []


# No-op changes (CRM-EVT-04) ----------------------------------------------------------------------------


def test_no_op_changes_emit_nothing(session: Session, world: World) -> None:
    # CRM-EVT-04: opening an open conversation, closing none, a redelivery, a repeated or stale receipt.
    channel = make_channel(session, workspace_id=world.workspace.id)
    first = inbound(session, channel, provider_message_id="dup-1")
    contact = first.contact
    reply = create_outgoing(
        session,
        contact=contact,
        channel=channel,
        content=TextContent(text="hi"),
        actor=Actor.user(world.owner.id),
    )
    update_status(session, message=reply, status="delivered")
    session.commit()
    before = event_types(session, contact.id)

    _, opened = conversations.open_conversation(session, contact=contact, actor=Actor.user(world.owner.id))
    assert opened is False
    assert inbound(session, channel, provider_message_id="dup-1").duplicate
    assert update_status(session, message=reply, status="delivered") is False
    assert update_status(session, message=reply, status="sent") is False
    assert update_status(session, message=reply, status="failed", reason="late") is False
    session.commit()
    assert event_types(session, contact.id) == before

    conversations.close_conversation(
        session, contact=contact, actor=Actor.user(world.owner.id), category_id=None, summary=None
    )
    session.commit()
    closed = event_types(session, contact.id)
    assert closed == [*before, "conversation.closed"]
    again = conversations.close_conversation(
        session, contact=contact, actor=Actor.user(world.owner.id), category_id=None, summary=None
    )
    session.commit()
    assert again is None
    assert event_types(session, contact.id) == closed


def test_blocking_closes_with_one_system_event_and_blocked_inbound_opens_none(
    session: Session, world: World
) -> None:
    # CRM-CONT-07, CRM-EVT-01: the block's close is source system; later inbound opens nothing.
    channel = make_channel(session, workspace_id=world.workspace.id)
    contact = inbound(session, channel, external_id="pest").contact
    session.commit()
    start = len(event_types(session, contact.id))
    contacts.set_blocked(session, contact=contact, blocked=True, actor=Actor.user(world.owner.id))
    inbound(session, channel, external_id="pest", text="again")
    session.commit()
    events = contact_events(session, contact.id)[start:]
    assert [e.type for e in events][:2] == ["contact.updated", "conversation.closed"]
    assert (events[1].source, events[1].actor_id) == ("system", None)
    assert "conversation.opened" not in [e.type for e in events]
