"""Merging two contacts (CRM-CONT-05): the first survives and takes over the other's history."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from convoflow.bootstrap import Container
from convoflow.channels.models import Channel
from convoflow.contacts import identities, lifecycle
from convoflow.contacts.models import ContactField, ContactIdentity
from convoflow.contacts.tags import change_contact_tags
from convoflow.conversations import comments, messages
from convoflow.conversations.content import TextContent
from convoflow.conversations.models import Comment, Conversation, Message
from convoflow.events.actor import Actor
from convoflow.testing.clock import FakeClock
from convoflow.testing.factories import make_channel, make_contact
from tests.contacts.helpers import (
    ClientFor,
    contact_count,
    contact_row,
    event_count,
    read_events,
    reload,
    set_restrictions,
)
from tests.support import World, assert_error, seed_world


@dataclass
class Pair:
    survivor: int
    other: int
    web: int
    telegram: int


def _say(session: Session, channel_id: int, external_id: str, text: str) -> None:
    channel = session.get(Channel, channel_id)
    assert channel is not None
    messages.record_inbound(
        session, channel=channel, external_id=external_id, content=TextContent(type="text", text=text)
    )


def _pair(session: Session, world: World, clock: FakeClock) -> Pair:
    """Ana (survivor) chats on web chat; Anita (other) on web chat and Telegram, later."""
    ws = world.workspace.id
    for slug, type_ in (("score", "number"), ("notes", "text"), ("plan", "text")):
        session.add(
            ContactField(
                workspace_id=ws, name=slug, slug=slug, type=type_, options=[], created_at=clock.now()
            )
        )
    session.flush()
    web = make_channel(session, workspace_id=ws, kind="webchat")
    telegram = make_channel(session, workspace_id=ws, kind="telegram")
    survivor = make_contact(
        session,
        workspace_id=ws,
        first_name="Ana",
        phone="+34600111222",
        language="es",
        custom_fields={"score": 1},
    )
    other = make_contact(
        session,
        workspace_id=ws,
        first_name="Anita",
        last_name="Pérez",
        email="anita@example.com",
        phone="+5491123456789",
        custom_fields={"score": 2, "notes": "from other", "plan": "pro"},
    )
    identities.link_identity(session, contact=survivor, channel=web, external_id="web-ana")
    identities.link_identity(session, contact=other, channel=web, external_id="web-anita")
    identities.link_identity(session, contact=other, channel=telegram, external_id="tg-anita")
    change_contact_tags(session, contact=survivor, add=["vip"], remove=[], actor=Actor.system())
    change_contact_tags(session, contact=other, add=["VIP", "lead"], remove=[], actor=Actor.system())
    _say(session, web.id, "web-ana", "hola")
    clock.advance(minutes=1)
    _say(session, web.id, "web-anita", "hi")
    clock.advance(minutes=1)
    _say(session, telegram.id, "tg-anita", "again")
    comments.add_comment(
        session, contact=other, text="note on other", mentions=[], actor=Actor.user(world.owner.id)
    )
    session.commit()
    return Pair(survivor.id, other.id, web.id, telegram.id)


def _count(
    session: Session, model: type[Message] | type[Comment] | type[Conversation], contact_id: int
) -> int:
    count = session.scalar(select(func.count()).select_from(model).where(model.contact_id == contact_id)) or 0
    session.commit()
    return count


def test_merge_combines_values_tags_identities_and_history(
    owner: TestClient, session: Session, world: World, clock: FakeClock
) -> None:
    # CRM-CONT-05
    pair = _pair(session, world, clock)
    other_events = [
        e.id for e in read_events(session, workspace_id=world.workspace.id) if e.contact_id == pair.other
    ]
    response = owner.post(
        "/api/contacts/merge",
        json={
            "contact_ids": [pair.survivor, pair.other],
            "values": {"language": "en", "custom_fields": {"notes": "explicit"}},
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == pair.survivor
    # Explicit values win, else the survivor's non-empty values, else the other's.
    assert body["first_name"] == "Ana"
    assert body["last_name"] == "Pérez"
    assert body["email"] == "anita@example.com"
    assert body["phone"] == "+34600111222"
    assert body["country_code"] == "ES"
    assert body["language"] == "en"
    assert body["custom_fields"] == {"score": 1, "notes": "explicit", "plan": "pro"}
    assert body["tags"] == ["lead", "vip"]
    assert body["last_channel_id"] == pair.telegram  # the other wrote last
    # The other contact is gone; its history is the survivor's.
    assert reload(session, pair.other) is None
    assert contact_count(session, world.workspace.id) == 1
    assert _count(session, Message, pair.survivor) == 3
    assert _count(session, Comment, pair.survivor) == 1
    assert _count(session, Conversation, pair.survivor) == 2
    linked = session.execute(
        select(ContactIdentity.channel_id, ContactIdentity.external_id).where(
            ContactIdentity.contact_id == pair.survivor
        )
    ).all()
    session.commit()
    assert sorted(linked) == sorted([(pair.web, "web-ana"), (pair.telegram, "tg-anita")])
    events = read_events(session, workspace_id=world.workspace.id)
    moved = [e for e in events if e.id in other_events]
    assert moved and all(e.contact_id == pair.survivor for e in moved)
    deleted = read_events(session, workspace_id=world.workspace.id, type="contact.deleted")
    assert len(deleted) == 1
    assert deleted[0].contact_id == pair.other
    assert deleted[0].payload == {
        "contact": {"id": pair.other, "first_name": "Anita", "last_name": "Pérez"},
        "merged_into": pair.survivor,
    }
    assert deleted[0].source == "user" and deleted[0].actor_id == world.owner.id
    updated = read_events(session, workspace_id=world.workspace.id, type="contact.updated")[-1]
    assert updated.contact_id == pair.survivor
    assert {c["field"] for c in updated.payload["changes"]} == {
        "last_name",
        "email",
        "language",
        "notes",
        "plan",
    }
    tagged = read_events(session, workspace_id=world.workspace.id, type="contact.tag.updated")[-1]
    assert {k: tagged.payload[k] for k in ("contact_id", "added", "removed", "removed_ids")} == {
        "contact_id": pair.survivor,
        "added": ["lead"],
        "removed": [],
        "removed_ids": [],
    }
    assert len(tagged.payload["added_ids"]) == 1
    # The other's identity now reaches the survivor.
    _say(session, pair.telegram, "tg-anita", "after merge")
    session.commit()
    assert _count(session, Message, pair.survivor) == 4


def test_when_both_have_open_conversations_the_others_is_closed(
    owner: TestClient, session: Session, world: World, clock: FakeClock
) -> None:
    # CRM-CONT-05
    pair = _pair(session, world, clock)
    survivor_open = session.scalars(
        select(Conversation.id).where(Conversation.contact_id == pair.survivor, Conversation.status == "open")
    ).one()
    other_open = session.scalars(
        select(Conversation.id).where(Conversation.contact_id == pair.other, Conversation.status == "open")
    ).one()
    session.commit()
    response = owner.post("/api/contacts/merge", json={"contact_ids": [pair.survivor, pair.other]})
    assert response.status_code == 200 and response.json()["status"] == "open"
    rows = {
        c.id: c for c in session.scalars(select(Conversation).where(Conversation.contact_id == pair.survivor))
    }
    session.commit()
    assert rows[survivor_open].status == "open"
    assert rows[other_open].status == "closed" and rows[other_open].closed_source == "system"
    closed = read_events(session, workspace_id=world.workspace.id, type="conversation.closed")
    assert [e.payload["conversation_id"] for e in closed] == [other_open]
    assert closed[0].source == "system" and closed[0].contact_id == pair.survivor


def test_only_the_other_open_conversation_moves_over_open(
    owner: TestClient, session: Session, world: World
) -> None:
    # CRM-CONT-05: nothing is closed when only one side has an open conversation
    web = make_channel(session, workspace_id=world.workspace.id)
    survivor = make_contact(session, workspace_id=world.workspace.id, first_name="Ana").id
    session.commit()
    _say(session, web.id, "web-other", "hi")
    session.commit()
    other = session.scalars(
        select(ContactIdentity.contact_id).where(ContactIdentity.external_id == "web-other")
    ).one()
    session.commit()
    response = owner.post("/api/contacts/merge", json={"contact_ids": [survivor, other]})
    assert response.status_code == 200
    assert response.json()["status"] == "open"
    assert read_events(session, workspace_id=world.workspace.id, type="conversation.closed") == []


def test_merge_takes_the_others_stage_and_assignee_when_the_survivor_has_none(
    owner: TestClient, session: Session, world: World
) -> None:
    # CRM-CONT-05: survivor's non-empty values, else the other's
    ws = world.workspace.id
    stages = lifecycle.list_stages(session, workspace_id=ws)
    survivor = make_contact(session, workspace_id=ws, first_name="Ana")
    other = make_contact(session, workspace_id=ws, first_name="Bea")
    other.lifecycle_stage_id = stages[3].id
    other.assignee_user_id = world.agent.id
    session.commit()
    body = owner.post("/api/contacts/merge", json={"contact_ids": [survivor.id, other.id]}).json()
    assert body["lifecycle"] == {"id": stages[3].id, "name": "Customer"}
    assert body["assignee"]["id"] == world.agent.id
    stage_event = read_events(session, workspace_id=ws, type="contact.lifecycle.updated")[-1]
    assert stage_event.contact_id == survivor.id and stage_event.payload["to"]["name"] == "Customer"
    assignee_event = read_events(session, workspace_id=ws, type="contact.assignee.updated")[-1]
    assert assignee_event.contact_id == survivor.id
    # The survivor's own stage would have been kept.
    third = make_contact(session, workspace_id=ws, first_name="Cy")
    third.lifecycle_stage_id = stages[0].id
    session.commit()
    kept = owner.post("/api/contacts/merge", json={"contact_ids": [third.id, survivor.id]}).json()
    assert kept["lifecycle"]["name"] == "New Lead"


def test_merge_refusals_change_nothing(
    owner: TestClient,
    session: Session,
    world: World,
    client_for: ClientFor,
    clock: FakeClock,
    container: Container,
) -> None:
    # CRM-CONT-05: same id twice -> 422; Agents (and restricted Managers) -> 403
    pair = _pair(session, world, clock)
    third = make_contact(session, workspace_id=world.workspace.id, first_name="Cy", email="cy@example.com").id
    stranger = make_contact(
        session, workspace_id=seed_world(session, container.hasher, name="B").workspace.id
    ).id
    session.commit()
    before = event_count(session, world.workspace.id)
    url = "/api/contacts/merge"
    body = assert_error(owner.post(url, json={"contact_ids": [pair.survivor, pair.survivor]}), 422)
    assert body["details"][0]["field"] == "contact_ids"
    assert_error(owner.post(url, json={"contact_ids": [pair.survivor]}), 422)
    assert_error(owner.post(url, json={"contact_ids": [pair.survivor, pair.other, third]}), 422)
    assert_error(owner.post(url, json={"contact_ids": [pair.survivor, 999999]}), 404)
    assert_error(owner.post(url, json={"contact_ids": [pair.survivor, stranger]}), 404)
    assert_error(
        client_for(world.agent).post(url, json={"contact_ids": [pair.survivor, pair.other]}),
        403,
        "role_required",
    )
    set_restrictions(session, world.workspace, world.manager, restrict_contact_deletion=True)
    manager = client_for(world.manager)
    assert_error(manager.post(url, json={"contact_ids": [pair.survivor, pair.other]}), 403, "restricted")
    # Explicit values are validated, and a value taken by a third contact is refused, all or nothing.
    assert_error(
        owner.post(url, json={"contact_ids": [pair.survivor, pair.other], "values": {"email": "nope"}}), 422
    )
    assert_error(
        owner.post(
            url, json={"contact_ids": [pair.survivor, pair.other], "values": {"email": "CY@example.com"}}
        ),
        409,
        "email_taken",
    )
    assert_error(
        owner.post(
            url, json={"contact_ids": [pair.survivor, pair.other], "values": {"custom_fields": {"x": 1}}}
        ),
        422,
    )
    assert event_count(session, world.workspace.id) == before
    assert contact_count(session, world.workspace.id) == 3
    assert contact_row(session, pair.other).first_name == "Anita"
    assert _count(session, Message, pair.other) == 2
    assert _count(session, Conversation, pair.other) == 1
    assert contact_row(session, pair.survivor).email is None
