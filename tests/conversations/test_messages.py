"""Messages: recording inbound ones, de-duplication, new contacts, outgoing messages and delivery status."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from convoflow.accounts.models import Workspace
from convoflow.bootstrap import Container
from convoflow.channels.models import Channel
from convoflow.contacts import lifecycle
from convoflow.contacts import service as contacts
from convoflow.contacts.identities import ChannelProfile, link_identity
from convoflow.contacts.models import Contact, ContactIdentity, LifecycleStage
from convoflow.conversations import service as conversations
from convoflow.conversations.content import LocationContent, QuickReplyContent, TextContent
from convoflow.conversations.messages import create_outgoing, message_payload, record_inbound, update_status
from convoflow.conversations.models import Message
from convoflow.errors import Conflict
from convoflow.events.actor import Actor
from convoflow.testing.clock import FakeClock
from convoflow.testing.factories import make_channel, make_contact
from tests.conversations.helpers import contact_events, conversations_of, count, event_types, fresh, inbound
from tests.support import World, events_of, seed_world


@pytest.fixture
def world(session: Session, container: Container) -> World:
    return seed_world(session, container.hasher)


def _messages(session: Session, contact_id: int) -> list[Message]:
    return fresh(session, select(Message).where(Message.contact_id == contact_id).order_by(Message.id))


def _default_stage(session: Session, workspace: Workspace, name: str = "New Lead") -> LifecycleStage:
    stage = lifecycle.find_stage(session, workspace_id=workspace.id, name=name)
    assert stage is not None
    stage.is_default = True
    session.flush()
    return stage


# CRM-MSG-01 / CRM-MSG-02: recording inbound messages ---------------------------------------------------


def test_record_inbound_stores_the_message(session: Session, world: World, clock: FakeClock) -> None:
    # CRM-MSG-01
    channel = make_channel(session, workspace_id=world.workspace.id, kind="telegram")
    result = record_inbound(
        session,
        channel=channel,
        external_id="chat-42",
        content=LocationContent(latitude=40.4, longitude=-3.7, address="Madrid"),
        provider_message_id="tg-1001",
        profile=ChannelProfile(first_name="Lucía", last_name="Gómez", language="es"),
    )
    session.commit()
    [message] = _messages(session, result.contact.id)
    assert message.id == result.message.id
    assert message.workspace_id == world.workspace.id
    assert message.channel_id == channel.id
    assert message.traffic == "incoming"
    assert message.source == "contact"
    assert message.type == "location"
    assert message.content == {"type": "location", "latitude": 40.4, "longitude": -3.7, "address": "Madrid"}
    assert message.provider_message_id == "tg-1001"
    assert message.status is None and message.status_history == []
    assert (message.user_id, message.run_id) == (None, None)
    assert message.created_at == clock.now()
    [conversation] = conversations_of(session, result.contact.id)
    assert message.conversation_id == conversation.id
    assert result.duplicate is False and result.contact_created is True


def test_message_received_event_carries_the_message(session: Session, world: World, clock: FakeClock) -> None:
    # CRM-EVT-01/02: message.received with source contact, actor the contact.
    channel = make_channel(session, workspace_id=world.workspace.id)
    result = record_inbound(
        session,
        channel=channel,
        external_id="v-1",
        content=QuickReplyContent(title="Pick", replies=["Yes", "No"]),
        provider_message_id="w-1",
    )
    session.commit()
    event = contact_events(session, result.contact.id)[-1]
    assert event.type == "message.received"
    assert (event.source, event.actor_id, event.run_id) == ("contact", result.contact.id, None)
    assert event.payload == {
        "message": {
            "id": result.message.id,
            "contact_id": result.contact.id,
            "conversation_id": result.message.conversation_id,
            "channel_id": channel.id,
            "traffic": "incoming",
            "source": "contact",
            "type": "quick_reply",
            "content": {"type": "quick_reply", "title": "Pick", "replies": ["Yes", "No"]},
            "status": None,
            "provider_message_id": "w-1",
            "user_id": None,
            "run_id": None,
            "created_at": clock.now().isoformat(),
        }
    }


# CRM-CHAN-02: de-duplication ---------------------------------------------------------------------------


def test_redelivered_provider_message_is_stored_once(
    session: Session, world: World, clock: FakeClock
) -> None:
    # CRM-CHAN-02
    channel = make_channel(session, workspace_id=world.workspace.id)
    first = inbound(session, channel, provider_message_id="m-1", text="hola")
    session.commit()
    before = event_types(session, first.contact.id)
    clock.advance(minutes=5)
    again = inbound(session, channel, provider_message_id="m-1", text="hola (retry)")
    session.commit()
    assert again.duplicate is True
    assert again.message.id == first.message.id and again.contact.id == first.contact.id
    assert not again.contact_created and not again.conversation_opened
    assert [m.id for m in _messages(session, first.contact.id)] == [first.message.id]
    assert event_types(session, first.contact.id) == before
    [conversation] = conversations_of(session, first.contact.id)
    assert conversation.in_count == 1


def test_same_provider_id_on_another_channel_is_another_message(session: Session, world: World) -> None:
    # CRM-CHAN-02: de-duplication is per channel.
    one = make_channel(session, workspace_id=world.workspace.id)
    two = make_channel(session, workspace_id=world.workspace.id)
    a = inbound(session, one, external_id="x", provider_message_id="m-1")
    b = inbound(session, two, external_id="x", provider_message_id="m-1")
    session.commit()
    assert not b.duplicate and b.message.id != a.message.id
    assert count(session, Message) == 2
    assert len(events_of(session, workspace_id=world.workspace.id, type="message.received")) == 2


def test_messages_without_provider_id_are_never_duplicates(session: Session, world: World) -> None:
    # CRM-CHAN-02: only a channel message id de-duplicates.
    channel = make_channel(session, workspace_id=world.workspace.id)
    a = inbound(session, channel, text="same")
    b = inbound(session, channel, text="same")
    session.commit()
    assert not b.duplicate
    assert [m.id for m in _messages(session, a.contact.id)] == [a.message.id, b.message.id]


# CRM-CONT-03: unknown identities -----------------------------------------------------------------------


def test_unknown_identity_creates_a_contact_from_the_profile(session: Session, world: World) -> None:
    # CRM-CONT-03
    channel = make_channel(session, workspace_id=world.workspace.id, kind="telegram")
    result = inbound(
        session, channel, external_id="chat-7", profile=ChannelProfile(first_name="Lucía", last_name="Gómez")
    )
    session.commit()
    assert result.contact_created
    session.refresh(result.contact)
    assert (result.contact.first_name, result.contact.last_name) == ("Lucía", "Gómez")
    assert result.contact.workspace_id == world.workspace.id
    identity = session.scalar(select(ContactIdentity).where(ContactIdentity.contact_id == result.contact.id))
    assert identity is not None
    assert (identity.channel_id, identity.external_id) == (channel.id, "chat-7")
    created = contact_events(session, result.contact.id)[0]
    assert created.type == "contact.created"
    assert created.source == "contact"
    assert created.payload["contact"]["first_name"] == "Lucía"


def test_unknown_identity_without_profile_name_is_unknown(session: Session, world: World) -> None:
    # CRM-CONT-03: fallback name "Unknown".
    channel = make_channel(session, workspace_id=world.workspace.id)
    result = inbound(session, channel, external_id="anon", profile=ChannelProfile(first_name="   "))
    session.commit()
    session.refresh(result.contact)
    assert result.contact.first_name == "Unknown"


def test_known_identity_reuses_the_contact(session: Session, world: World) -> None:
    # CRM-CONT-03: the second message of the same identity creates nothing.
    channel = make_channel(session, workspace_id=world.workspace.id)
    a = inbound(session, channel, external_id="v-9")
    b = inbound(session, channel, external_id="v-9", profile=ChannelProfile(first_name="Changed"))
    session.commit()
    assert not b.contact_created and b.contact.id == a.contact.id
    assert count(session, Contact) == 1
    assert event_types(session, a.contact.id).count("contact.created") == 1


def test_phone_identity_is_stored_on_the_new_contact(session: Session, world: World) -> None:
    # CRM-CONT-03: phone from the identity where it is one.
    channel = make_channel(session, workspace_id=world.workspace.id, kind="whatsapp_cloud")
    result = inbound(session, channel, external_id="34600111222")
    session.commit()
    session.refresh(result.contact)
    assert result.contact.phone == "+34600111222"
    assert result.contact.first_name == "Unknown"


def test_default_lifecycle_stage_is_applied_to_new_contacts(session: Session, world: World) -> None:
    # CRM-CONT-03, CRM-LIFE-02
    stage = _default_stage(session, world.workspace)
    channel = make_channel(session, workspace_id=world.workspace.id)
    result = inbound(session, channel, external_id="new-lead")
    session.commit()
    session.refresh(result.contact)
    assert result.contact.lifecycle_stage_id == stage.id
    events = contact_events(session, result.contact.id)
    assert [e.type for e in events] == [
        "contact.created",
        "contact.lifecycle.updated",
        "conversation.opened",
        "message.received",
    ]
    assert events[1].payload == {
        "contact_id": result.contact.id,
        "from": None,
        "to": {"id": stage.id, "name": "New Lead"},
    }
    assert (events[1].source, events[1].actor_id) == ("contact", result.contact.id)


def test_no_default_stage_leaves_new_contacts_without_stage(session: Session, world: World) -> None:
    # CRM-CONT-03: a new workspace has no default stage (decisions.md).
    channel = make_channel(session, workspace_id=world.workspace.id)
    result = inbound(session, channel)
    session.commit()
    session.refresh(result.contact)
    assert result.contact.lifecycle_stage_id is None
    assert "contact.lifecycle.updated" not in event_types(session, result.contact.id)


def test_default_stage_is_not_applied_to_an_existing_contact(session: Session, world: World) -> None:
    # CRM-LIFE-02: only a new contact on its first inbound message.
    channel = make_channel(session, workspace_id=world.workspace.id)
    first = inbound(session, channel, external_id="old")
    _default_stage(session, world.workspace)
    inbound(session, channel, external_id="old")
    session.commit()
    session.refresh(first.contact)
    assert first.contact.lifecycle_stage_id is None


# CRM-CONT-07: blocked contacts -------------------------------------------------------------------------


def test_blocked_contact_inbound_is_stored_without_conversation(session: Session, world: World) -> None:
    # CRM-CONT-07
    channel = make_channel(session, workspace_id=world.workspace.id)
    contact = inbound(session, channel, external_id="spam").contact
    contacts.set_blocked(session, contact=contact, blocked=True, actor=Actor.user(world.owner.id))
    session.commit()
    before = event_types(session, contact.id)
    result = inbound(session, channel, external_id="spam", text="let me in", provider_message_id="s-2")
    session.commit()
    stored = _messages(session, contact.id)
    assert stored[-1].id == result.message.id
    assert stored[-1].content == {"type": "text", "text": "let me in"}
    assert stored[-1].conversation_id is None
    assert [c.status for c in conversations_of(session, contact.id)] == ["closed"]
    new = event_types(session, contact.id)[len(before) :]
    assert "conversation.opened" not in new


def test_nothing_can_be_sent_to_a_blocked_contact(session: Session, world: World) -> None:
    # CRM-CONT-07
    channel = make_channel(session, workspace_id=world.workspace.id)
    contact = make_contact(session, workspace_id=world.workspace.id)
    contacts.set_blocked(session, contact=contact, blocked=True, actor=Actor.system())
    session.commit()
    with pytest.raises(Conflict) as refused:
        create_outgoing(
            session,
            contact=contact,
            channel=channel,
            content=TextContent(text="hi"),
            actor=Actor.user(world.owner.id),
        )
    assert refused.value.error == "contact_blocked"
    session.rollback()
    assert _messages(session, contact.id) == []


def test_outgoing_on_a_channel_of_another_workspace_is_refused(
    session: Session, world: World, container: Container
) -> None:
    # CRM-WS-01: a message never crosses workspaces.
    other = seed_world(session, container.hasher, name="Other")
    foreign = make_channel(session, workspace_id=other.workspace.id)
    contact = make_contact(session, workspace_id=world.workspace.id)
    with pytest.raises(Conflict) as refused:
        create_outgoing(
            session,
            contact=contact,
            channel=foreign,
            content=TextContent(text="hi"),
            actor=Actor.user(world.owner.id),
        )
    assert refused.value.error == "channel_mismatch"
    assert _messages(session, contact.id) == []


# CRM-MSG-06: last interacted channel -------------------------------------------------------------------


def test_last_channel_is_the_channel_of_the_latest_incoming_message(
    session: Session, world: World, clock: FakeClock
) -> None:
    # CRM-MSG-06
    webchat = make_channel(session, workspace_id=world.workspace.id, kind="webchat")
    email = make_channel(session, workspace_id=world.workspace.id, kind="other_email")
    contact = inbound(session, webchat, external_id="v-1").contact
    assert contact.last_channel_id == webchat.id
    link_identity(session, contact=contact, channel=email, external_id="ana@example.com")
    clock.advance(minutes=1)
    inbound(session, email, external_id="ana@example.com")
    session.commit()
    session.refresh(contact)
    assert contact.last_channel_id == email.id
    assert contacts.snapshot(session, contact)["last_channel_id"] == email.id
    clock.advance(minutes=1)
    create_outgoing(
        session,
        contact=contact,
        channel=webchat,
        content=TextContent(text="hi"),
        actor=Actor.user(world.owner.id),
    )
    session.commit()
    session.refresh(contact)
    assert contact.last_channel_id == email.id  # outgoing traffic never changes it


# Outgoing messages -------------------------------------------------------------------------------------


def test_create_outgoing_is_pending_and_emits_nothing(
    session: Session, world: World, clock: FakeClock
) -> None:
    # CRM-MSG-01, CRM-MSG-03: message.sent waits for the provider.
    channel = make_channel(session, workspace_id=world.workspace.id)
    contact = inbound(session, channel).contact
    before = event_types(session, contact.id)
    clock.advance(seconds=30)
    message = create_outgoing(
        session,
        contact=contact,
        channel=channel,
        content=TextContent(text="Hi"),
        actor=Actor.user(world.agent.id),
    )
    session.commit()
    [conversation] = conversations_of(session, contact.id)
    assert message.traffic == "outgoing" and message.source == "user"
    assert (message.user_id, message.run_id) == (world.agent.id, None)
    assert message.status == "pending"
    assert message.status_history == [{"status": "pending", "at": clock.now().isoformat()}]
    assert message.conversation_id == conversation.id
    assert conversation.out_count == 1 and conversation.last_message_at == clock.now()
    assert event_types(session, contact.id) == before


def test_workflow_outgoing_records_the_run(session: Session, world: World) -> None:
    # CRM-MSG-01: sending workflow run.
    channel = make_channel(session, workspace_id=world.workspace.id)
    contact = make_contact(session, workspace_id=world.workspace.id)
    message = create_outgoing(
        session, contact=contact, channel=channel, content=TextContent(text="auto"), actor=Actor.workflow(31)
    )
    update_status(session, message=message, status="sent")
    session.commit()
    assert (message.source, message.user_id, message.run_id) == ("workflow", None, 31)
    sent = contact_events(session, contact.id)[-1]
    assert (sent.type, sent.source, sent.actor_id, sent.run_id) == ("message.sent", "workflow", 31, 31)


# CRM-MSG-03: delivery status ---------------------------------------------------------------------------


def _outgoing(session: Session, world: World) -> Message:
    channel = make_channel(session, workspace_id=world.workspace.id)
    contact = make_contact(session, workspace_id=world.workspace.id)
    message = create_outgoing(
        session,
        contact=contact,
        channel=channel,
        content=TextContent(text="Hi"),
        actor=Actor.user(world.agent.id),
    )
    session.commit()
    return message


def test_status_moves_forward_with_events_and_timestamps(
    session: Session, world: World, clock: FakeClock
) -> None:
    # CRM-MSG-03, CRM-EVT-01
    message = _outgoing(session, world)
    start = clock.now()
    seen = len(contact_events(session, message.contact_id))
    times = {}
    for status in ("sent", "delivered", "read"):
        clock.advance(seconds=10)
        times[status] = clock.now()
        assert update_status(session, message=message, status=status, provider_message_id="p-1") is True
    session.commit()
    session.refresh(message)
    assert message.status == "read"
    assert message.provider_message_id == "p-1"
    assert message.status_history == [
        {"status": "pending", "at": start.isoformat()},
        {"status": "sent", "at": times["sent"].isoformat()},
        {"status": "delivered", "at": times["delivered"].isoformat()},
        {"status": "read", "at": times["read"].isoformat()},
    ]
    events = contact_events(session, message.contact_id)[seen:]
    assert [e.type for e in events] == ["message.sent", "message.status.updated", "message.status.updated"]
    sent = events[0]
    assert sent.payload["message"]["id"] == message.id
    assert sent.payload["message"]["status"] == "sent"
    assert sent.payload["message"]["provider_message_id"] == "p-1"
    assert (sent.source, sent.actor_id) == ("user", world.agent.id)
    assert [e.payload for e in events[1:]] == [
        {"message_id": message.id, "status": "delivered", "reason": None},
        {"message_id": message.id, "status": "read", "reason": None},
    ]
    assert [e.occurred_at for e in events] == [times["sent"], times["delivered"], times["read"]]


def test_delivered_before_sent_emits_sent_then_status_updated(
    session: Session, world: World, clock: FakeClock
) -> None:
    # CRM-MSG-03 (decisions.md): consumers always see sent before delivered.
    message = _outgoing(session, world)
    seen = len(contact_events(session, message.contact_id))
    clock.advance(seconds=5)
    assert update_status(session, message=message, status="delivered") is True
    session.commit()
    assert message.status == "delivered"
    assert message.status_history[-1] == {"status": "delivered", "at": clock.now().isoformat()}
    events = contact_events(session, message.contact_id)[seen:]
    assert [e.type for e in events] == ["message.sent", "message.status.updated"]
    assert events[0].id < events[1].id
    assert events[1].payload == {"message_id": message.id, "status": "delivered", "reason": None}
    # A late `sent` receipt is stale: nothing changes, nothing is emitted.
    assert update_status(session, message=message, status="sent") is False
    session.commit()
    assert len(contact_events(session, message.contact_id)) == seen + 2


@pytest.mark.parametrize(
    ("path", "late"),
    [
        (["sent", "delivered"], "sent"),
        (["sent", "read"], "delivered"),
        (["sent"], "sent"),
        (["sent", "delivered"], "delivered"),
        (["sent", "delivered"], "pending"),
        (["sent", "delivered"], "failed"),
        (["failed"], "sent"),
        (["failed"], "read"),
        (["failed"], "failed"),
        (["read"], "failed"),
    ],
)
def test_stale_or_repeated_receipts_change_nothing(
    session: Session, world: World, clock: FakeClock, path: list[str], late: str
) -> None:
    # CRM-MSG-03: a status never moves backwards; CRM-EVT-04: nothing emitted.
    message = _outgoing(session, world)
    for status in path:
        clock.advance(seconds=1)
        assert update_status(
            session, message=message, status=status, reason="x" if status == "failed" else None
        )
    session.commit()
    history = list(message.status_history)
    current = message.status
    seen = len(contact_events(session, message.contact_id))
    clock.advance(seconds=1)
    assert update_status(session, message=message, status=late, reason="late") is False
    session.commit()
    session.refresh(message)
    assert (message.status, message.status_history) == (current, history)
    assert len(contact_events(session, message.contact_id)) == seen


@pytest.mark.parametrize("path", [[], ["sent"]])
def test_failed_from_pending_or_sent_records_the_reason(
    session: Session, world: World, clock: FakeClock, path: list[str]
) -> None:
    # CRM-MSG-03: failed (with a reason) from pending or sent.
    message = _outgoing(session, world)
    for status in path:
        update_status(session, message=message, status=status)
    seen = len(contact_events(session, message.contact_id))
    clock.advance(minutes=2)
    assert update_status(session, message=message, status="failed", reason="provider rejected") is True
    session.commit()
    session.refresh(message)
    assert message.status == "failed"
    assert message.status_history[-1] == {
        "status": "failed",
        "at": clock.now().isoformat(),
        "reason": "provider rejected",
    }
    events = contact_events(session, message.contact_id)[seen:]
    assert [e.type for e in events] == ["message.status.updated"]
    assert events[0].payload == {"message_id": message.id, "status": "failed", "reason": "provider rejected"}


def test_status_of_incoming_messages_or_unknown_statuses_cannot_be_set(
    session: Session, world: World
) -> None:
    # CRM-MSG-03: status is for outgoing messages only.
    channel = make_channel(session, workspace_id=world.workspace.id)
    incoming = inbound(session, channel).message
    with pytest.raises(ValueError):
        update_status(session, message=incoming, status="sent")
    outgoing = _outgoing(session, world)
    with pytest.raises(ValueError):
        update_status(session, message=outgoing, status="bounced")
    assert incoming.status is None and outgoing.status == "pending"


def test_provider_message_id_is_kept_once_set(session: Session, world: World) -> None:
    # CRM-MSG-01: the channel message id comes with the first receipt and is not overwritten.
    message = _outgoing(session, world)
    update_status(session, message=message, status="sent", provider_message_id="p-1")
    update_status(session, message=message, status="delivered", provider_message_id="p-2")
    session.commit()
    session.refresh(message)
    assert message.provider_message_id == "p-1"


def test_message_payload_matches_the_row(session: Session, world: World, clock: FakeClock) -> None:
    # CRM-EVT-01: message.received / message.sent carry every documented message field.
    message = _outgoing(session, world)
    payload = message_payload(message)
    assert payload["created_at"] == clock.now().isoformat()
    assert payload["status"] == "pending" and payload["traffic"] == "outgoing"
    assert set(payload) == {
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


@pytest.mark.committing
def test_concurrent_inbound_messages_of_one_contact_share_one_conversation(
    session: Session, world: World, container: Container
) -> None:
    # CRM-CONV-01 under concurrency: the second message waits for the first (contact row lock) and
    # then joins the conversation it opened, instead of failing on the one-open-conversation index.
    channel = make_channel(session, workspace_id=world.workspace.id)
    contact = inbound(session, channel, external_id="fast-typer").contact
    conversations.close_conversation(
        session, contact=contact, actor=Actor.system(), category_id=None, summary=None, enforce_notes=False
    )
    session.commit()
    outcome: dict[str, object] = {}

    def other_transaction() -> None:
        with container.db.session() as other:
            try:
                theirs = other.get(Channel, channel.id)
                assert theirs is not None
                result = inbound(other, theirs, external_id="fast-typer", text="second")
                other.commit()
                outcome["opened"] = result.conversation_opened
            except Exception as exc:  # the failure to report
                outcome["error"] = repr(exc)

    with container.db.session() as mine:
        theirs = mine.get(Channel, channel.id)
        assert theirs is not None
        first = inbound(mine, theirs, external_id="fast-typer", text="first")
        assert first.conversation_opened
        worker = threading.Thread(target=other_transaction)
        worker.start()
        worker.join(timeout=0.5)  # it must be waiting for this transaction
        assert worker.is_alive()
        mine.commit()
    worker.join(timeout=10)
    assert outcome == {"opened": False}
    rows = conversations_of(session, contact.id)
    assert [(c.status, c.in_count) for c in rows] == [("closed", 1), ("open", 2)]
    assert [m.conversation_id for m in _messages(session, contact.id)][1:] == [rows[1].id, rows[1].id]
    assert event_types(session, contact.id).count("conversation.opened") == 2


@pytest.mark.committing
def test_concurrent_redelivery_is_stored_once(session: Session, world: World, container: Container) -> None:
    # CRM-CHAN-02 under concurrency: a redelivery racing the original waits, then sees it as a duplicate.
    channel = make_channel(session, workspace_id=world.workspace.id)
    contact = inbound(session, channel, external_id="known").contact
    session.commit()
    outcome: dict[str, object] = {}

    def other_transaction() -> None:
        with container.db.session() as other:
            try:
                theirs = other.get(Channel, channel.id)
                assert theirs is not None
                result = inbound(other, theirs, external_id="known", provider_message_id="wamid.1")
                other.commit()
                outcome["duplicate"] = result.duplicate
            except Exception as exc:  # the failure to report
                outcome["error"] = repr(exc)

    with container.db.session() as mine:
        theirs = mine.get(Channel, channel.id)
        assert theirs is not None
        original = inbound(mine, theirs, external_id="known", provider_message_id="wamid.1")
        worker = threading.Thread(target=other_transaction)
        worker.start()
        worker.join(timeout=0.5)  # it must be waiting for this transaction
        assert worker.is_alive()
        mine.commit()
    worker.join(timeout=10)
    assert outcome == {"duplicate": True}
    stored = [m for m in _messages(session, contact.id) if m.provider_message_id == "wamid.1"]
    assert [m.id for m in stored] == [original.message.id]
    assert event_types(session, contact.id).count("message.received") == 2
