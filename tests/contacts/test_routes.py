"""/api/contacts through HTTP: the record, uniqueness, standard fields, bad input, delete and block."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from convoflow.bootstrap import Container
from convoflow.channels.models import Channel
from convoflow.contacts import service as contacts
from convoflow.contacts.models import Contact, ContactField
from convoflow.conversations import comments, messages
from convoflow.conversations import service as conversations
from convoflow.conversations.content import TextContent
from convoflow.conversations.models import Comment, Conversation, Message
from convoflow.errors import Conflict
from convoflow.events.actor import Actor
from convoflow.events.models import Event
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

RECORD_KEYS = {
    "id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "language",
    "country_code",
    "profile_pic",
    "lifecycle",
    "tags",
    "assignee",
    "status",
    "custom_fields",
    "blocked",
    "last_channel_id",
    "created_at",
}


def _inbound(session: Session, channel: Channel, external_id: str, text: str = "hola") -> Contact:
    return messages.record_inbound(
        session, channel=channel, external_id=external_id, content=TextContent(type="text", text=text)
    ).contact


# --- CRM-CONT-01: the record ----------------------------------------------------------------------


def test_get_contact_returns_every_record_field(
    owner: TestClient, session: Session, world: World, clock: FakeClock
) -> None:
    # CRM-CONT-01
    channel = make_channel(session, workspace_id=world.workspace.id, kind="webchat")
    session.add(
        ContactField(
            workspace_id=world.workspace.id,
            name="Plan",
            slug="plan",
            type="text",
            options=[],
            created_at=clock.now(),
        )
    )
    session.commit()
    contact = _inbound(session, channel, "visitor-1")
    contact_id = contact.id
    session.commit()
    patched = owner.patch(
        f"/api/contacts/{contact_id}",
        json={
            "first_name": "Ana",
            "last_name": "Pérez",
            "email": "Ana@Example.com",
            "phone": "+34 600 111 222",
            "language": "ES",
            "profile_pic": "https://cdn.example.com/ana.png",
            "custom_fields": {"plan": "pro"},
        },
    )
    assert patched.status_code == 200, patched.text
    owner.patch(f"/api/contacts/{contact_id}/tags", json={"add": ["VIP"]})
    stage_id = owner.get("/api/lifecycle-stages").json()[1]["id"]
    owner.put(f"/api/contacts/{contact_id}/lifecycle", json={"stage_id": stage_id})
    owner.put(f"/api/contacts/{contact_id}/assignee", json={"user_id": world.agent.id})

    body = owner.get(f"/api/contacts/{contact_id}").json()
    assert set(body) == RECORD_KEYS
    assert body["id"] == contact_id and isinstance(body["id"], int)
    assert body["first_name"] == "Ana" and body["last_name"] == "Pérez"
    assert body["email"] == "ana@example.com"
    assert body["phone"] == "+34600111222"
    assert body["language"] == "es"
    assert body["country_code"] == "ES"  # derived from the phone (CRM-FIELD-01)
    assert body["profile_pic"] == "https://cdn.example.com/ana.png"
    assert body["lifecycle"] == {"id": stage_id, "name": "Hot Lead"}
    assert body["tags"] == ["VIP"]
    assert body["assignee"] == {
        "id": world.agent.id,
        "first_name": world.agent.first_name,
        "last_name": world.agent.last_name,
        "email": world.agent.email,
    }
    assert body["status"] == "open"
    assert body["custom_fields"] == {"plan": "pro"}
    assert body["blocked"] is False
    assert body["last_channel_id"] == channel.id
    assert datetime.fromisoformat(body["created_at"]) == clock.now().astimezone(UTC)


def test_created_contact_has_defaults_and_one_created_event(
    owner: TestClient, session: Session, world: World
) -> None:
    # CRM-CONT-01, decision: creating emits only contact.created with the initial values.
    response = owner.post("/api/contacts", json={"first_name": "  Bea  "})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["first_name"] == "Bea"
    assert body["last_name"] == ""
    assert body["status"] == "closed"
    assert body["tags"] == [] and body["custom_fields"] == {}
    assert body["lifecycle"] is None and body["assignee"] is None
    assert body["email"] is None and body["phone"] is None and body["country_code"] is None
    events = read_events(session, workspace_id=world.workspace.id)
    assert [e.type for e in events] == ["contact.created"]
    assert events[0].contact_id == body["id"]
    assert events[0].source == "user" and events[0].actor_id == world.owner.id
    snapshot = dict(events[0].payload["contact"])
    assert datetime.fromisoformat(snapshot.pop("created_at")) == datetime.fromisoformat(
        body.pop("created_at")
    )
    assert snapshot == body


def test_contact_of_another_workspace_is_not_found(
    owner: TestClient, session: Session, container: Container, world: World
) -> None:
    other_world = seed_world(session, container.hasher, name="Other")
    stranger = make_contact(session, workspace_id=other_world.workspace.id, first_name="Zed")
    session.commit()
    assert_error(owner.get(f"/api/contacts/{stranger.id}"), 404, "not_found")
    assert_error(owner.patch(f"/api/contacts/{stranger.id}", json={"first_name": "Hacked"}), 404)
    assert_error(owner.delete(f"/api/contacts/{stranger.id}"), 404)
    assert contact_row(session, stranger.id).first_name == "Zed"


def test_unknown_contact_id_is_not_found(owner: TestClient) -> None:
    assert_error(owner.get("/api/contacts/999999"), 404, "not_found")


def test_requests_without_sign_in_are_refused(client: TestClient, session: Session, world: World) -> None:
    assert_error(client.get("/api/contacts"), 401)
    assert_error(client.post("/api/contacts", json={"first_name": "Ana"}), 401)
    assert contact_count(session, world.workspace.id) == 0


# --- CRM-CONT-02: email and phone unique per workspace --------------------------------------------


def test_email_taken_ignoring_case_on_create_is_409_and_stores_nothing(
    owner: TestClient, session: Session, world: World
) -> None:
    # CRM-CONT-02
    first = owner.post("/api/contacts", json={"first_name": "Ana", "email": "ana@example.com"})
    assert first.status_code == 201
    before = event_count(session, world.workspace.id)
    body = assert_error(
        owner.post("/api/contacts", json={"first_name": "Other", "email": "ANA@Example.COM"}),
        409,
        "email_taken",
    )
    assert body["details"][0]["contact_id"] == first.json()["id"]
    assert contact_count(session, world.workspace.id) == 1
    assert event_count(session, world.workspace.id) == before


def test_phone_taken_on_create_is_409_even_written_differently(
    owner: TestClient, session: Session, world: World
) -> None:
    # CRM-CONT-02: compared in E.164 form
    assert owner.post("/api/contacts", json={"first_name": "Ana", "phone": "+34600111222"}).status_code == 201
    assert_error(
        owner.post("/api/contacts", json={"first_name": "Other", "phone": "0034 (600) 111-222"}),
        409,
        "phone_taken",
    )
    assert contact_count(session, world.workspace.id) == 1


def test_email_and_phone_taken_on_update_is_409_and_changes_nothing(
    owner: TestClient, session: Session, world: World
) -> None:
    # CRM-CONT-02
    owner.post(
        "/api/contacts", json={"first_name": "Ana", "email": "ana@example.com", "phone": "+34600111222"}
    )
    bob = owner.post("/api/contacts", json={"first_name": "Bob", "email": "bob@example.com"}).json()
    before = event_count(session, world.workspace.id)
    assert_error(
        owner.patch(f"/api/contacts/{bob['id']}", json={"first_name": "Robert", "email": "Ana@example.com"}),
        409,
        "email_taken",
    )
    assert_error(
        owner.patch(f"/api/contacts/{bob['id']}", json={"phone": "+34 600 111 222"}), 409, "phone_taken"
    )
    row = contact_row(session, bob["id"])
    assert (row.first_name, row.email, row.phone) == ("Bob", "bob@example.com", None)
    assert event_count(session, world.workspace.id) == before


def test_keeping_own_email_on_update_is_not_a_conflict(
    owner: TestClient, session: Session, world: World
) -> None:
    # CRM-CONT-02: the contact itself does not count
    ana = owner.post("/api/contacts", json={"first_name": "Ana", "email": "ana@example.com"}).json()
    response = owner.patch(
        f"/api/contacts/{ana['id']}", json={"email": "ANA@example.com", "last_name": "Pérez"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["email"] == "ana@example.com"
    assert response.json()["last_name"] == "Pérez"


def test_same_email_and_phone_in_another_workspace_is_fine(
    owner: TestClient, session: Session, container: Container, client_for: ClientFor
) -> None:
    # CRM-CONT-02: unique within a workspace only
    other_world = seed_world(session, container.hasher, name="Other")
    values = {"first_name": "Ana", "email": "ana@example.com", "phone": "+34600111222"}
    assert owner.post("/api/contacts", json=values).status_code == 201
    other = client_for(other_world.owner)
    response = other.post("/api/contacts", json=values)
    assert response.status_code == 201, response.text
    assert contact_count(session, other_world.workspace.id) == 1


def test_national_phone_needs_the_workspace_default_country(
    owner: TestClient, session: Session, world: World
) -> None:
    # CRM-CONT-02, CRM-WS-02: national numbers are parsed with the workspace's default country.
    assert_error(
        owner.post("/api/contacts", json={"first_name": "Ana", "phone": "600 111 222"}),
        422,
        "validation_error",
    )
    assert contact_count(session, world.workspace.id) == 0
    settings = owner.patch("/api/workspace", json={"settings": {"default_country": "es"}})
    assert settings.status_code == 200, settings.text
    created = owner.post("/api/contacts", json={"first_name": "Ana", "phone": "600 111 222"})
    assert created.status_code == 201, created.text
    assert created.json()["phone"] == "+34600111222"
    assert created.json()["country_code"] == "ES"
    # The E.164 form of the same number is now taken.
    assert_error(
        owner.post("/api/contacts", json={"first_name": "B", "phone": "+34600111222"}), 409, "phone_taken"
    )


# --- CRM-FIELD-01: standard fields ----------------------------------------------------------------


INVALID_STANDARD_VALUES: list[tuple[str, object]] = [
    ("email", "not-an-email"),
    ("email", "ana@@example.com"),
    ("email", 42),
    ("phone", "+0123"),
    ("phone", "+1"),
    ("phone", "+1234567890123456"),
    ("phone", "12ab34"),
    ("country_code", "XX"),
    ("country_code", "ESP"),
    ("language", "xx"),
    ("language", "spa"),
    ("profile_pic", "ftp://example.com/a.png"),
    ("profile_pic", "not a url"),
    ("first_name", ""),
    ("first_name", "   "),
    ("first_name", "Ana\u0000"),
    ("last_name", "Pé\u0007rez"),
]


def test_invalid_standard_values_are_422_naming_the_field_and_store_nothing(
    owner: TestClient, session: Session, world: World
) -> None:
    # CRM-FIELD-01: E.164 phone, email, ISO country and language codes, http(s) profile picture
    ana = owner.post("/api/contacts", json={"first_name": "Ana"}).json()
    for field, value in INVALID_STANDARD_VALUES:
        created = assert_error(owner.post("/api/contacts", json={"first_name": "B", field: value}), 422)
        assert created["error"] == "validation_error"
        assert [d["field"] for d in created["details"]] == [field], (field, value, created)
        updated = assert_error(owner.patch(f"/api/contacts/{ana['id']}", json={field: value}), 422)
        assert [d["field"] for d in updated["details"]] == [field], (field, value, updated)
    assert contact_count(session, world.workspace.id) == 1
    assert event_count(session, world.workspace.id) == 1
    row = contact_row(session, ana["id"])
    assert (row.first_name, row.last_name, row.email, row.phone, row.profile_pic) == (
        "Ana",
        "",
        None,
        None,
        None,
    )


def test_every_invalid_standard_value_is_listed_at_once(
    owner: TestClient, session: Session, world: World
) -> None:
    body = assert_error(
        owner.post(
            "/api/contacts",
            json={
                "first_name": "Ana",
                "email": "nope",
                "phone": "+1",
                "country_code": "ZZ",
                "language": "zz",
            },
        ),
        422,
    )
    assert {d["field"] for d in body["details"]} == {"email", "phone", "country_code", "language"}


def test_standard_values_are_normalised(owner: TestClient) -> None:
    # CRM-FIELD-01: E.164 phone, lower-case email and language, upper-case country
    body = owner.post(
        "/api/contacts",
        json={
            "first_name": "Ana",
            "email": " Ana.Perez@Example.COM ",
            "phone": "+44 (20) 7946-0958",
            "language": " PT ",
            "country_code": "br",
            "profile_pic": " https://example.com/p.jpg ",
        },
    ).json()
    assert body["email"] == "ana.perez@example.com"
    assert body["phone"] == "+442079460958"
    assert body["language"] == "pt"
    assert body["country_code"] == "BR"  # given, so not derived from the (British) phone
    assert body["profile_pic"] == "https://example.com/p.jpg"


def test_country_is_derived_from_the_phone_only_when_empty(
    owner: TestClient, session: Session, world: World
) -> None:
    # CRM-FIELD-01: "derived from the phone when empty"
    ana = owner.post("/api/contacts", json={"first_name": "Ana"}).json()
    assert ana["country_code"] is None
    updated = owner.patch(f"/api/contacts/{ana['id']}", json={"phone": "+5491123456789"}).json()
    assert updated["country_code"] == "AR"
    changed = owner.patch(f"/api/contacts/{ana['id']}", json={"phone": "+34600111222"}).json()
    assert changed["country_code"] == "AR"  # not empty any more, so kept
    # Clearing the country while a phone is known derives it again, as creating does.
    cleared = owner.patch(f"/api/contacts/{ana['id']}", json={"country_code": None}).json()
    assert cleared["country_code"] == "ES"
    both = owner.patch(
        f"/api/contacts/{ana['id']}", json={"phone": "+5491123456789", "country_code": ""}
    ).json()
    assert both["country_code"] == "AR"
    created = owner.post(
        "/api/contacts", json={"first_name": "B", "phone": "+33612345678", "country_code": None}
    )
    assert created.json()["country_code"] == "FR"
    event = read_events(session, workspace_id=world.workspace.id, type="contact.updated")[0]
    assert event.payload["changes"] == [
        {"field": "phone", "custom": False, "old": None, "new": "+5491123456789"},
        {"field": "country_code", "custom": False, "old": None, "new": "AR"},
    ]


def test_clearing_standard_values_with_null_or_empty(
    owner: TestClient, session: Session, world: World
) -> None:
    ana = owner.post(
        "/api/contacts",
        json={"first_name": "Ana", "last_name": "Pérez", "email": "a@example.com", "language": "es"},
    ).json()
    response = owner.patch(
        f"/api/contacts/{ana['id']}", json={"last_name": None, "email": "", "language": None}
    )
    assert response.status_code == 200, response.text
    row = contact_row(session, ana["id"])
    assert (row.last_name, row.email, row.language) == ("", None, None)


# --- Bad input ------------------------------------------------------------------------------------


def test_malformed_json_is_400_and_stores_nothing(owner: TestClient, session: Session, world: World) -> None:
    response = owner.post(
        "/api/contacts", content=b'{"first_name": "Ana",', headers={"Content-Type": "application/json"}
    )
    assert_error(response, 400, "malformed_json")
    assert contact_count(session, world.workspace.id) == 0


def test_unicode_and_emoji_names_are_kept(owner: TestClient, session: Session) -> None:
    response = owner.post("/api/contacts", json={"first_name": "Zoë 🎉", "last_name": "Ñúñez 北京"})
    assert response.status_code == 201, response.text
    row = contact_row(session, response.json()["id"])
    assert (row.first_name, row.last_name) == ("Zoë 🎉", "Ñúñez 北京")
    assert owner.get(f"/api/contacts/{row.id}").json()["first_name"] == "Zoë 🎉"


def test_overlong_names_are_422_and_nothing_stored(owner: TestClient, session: Session, world: World) -> None:
    for length in (101, 10_000):
        for field in ("first_name", "last_name"):
            body = assert_error(
                owner.post("/api/contacts", json={"first_name": "Ana", field: "A" * length}),
                422,
                "validation_error",
            )
            assert body["details"][0]["field"] == field
    assert contact_count(session, world.workspace.id) == 0
    ana = owner.post("/api/contacts", json={"first_name": "Ana"}).json()
    assert_error(owner.patch(f"/api/contacts/{ana['id']}", json={"first_name": "A" * 10_000}), 422)
    assert_error(owner.patch(f"/api/contacts/{ana['id']}", json={"first_name": "A" * 101}), 422)
    assert contact_row(session, ana["id"]).first_name == "Ana"
    assert event_count(session, world.workspace.id) == 1
    # 100 characters is the limit, and it is accepted.
    assert owner.patch(f"/api/contacts/{ana['id']}", json={"first_name": "A" * 100}).status_code == 200


def test_first_name_is_required_on_create(owner: TestClient, session: Session, world: World) -> None:
    body = assert_error(owner.post("/api/contacts", json={"email": "a@example.com"}), 422)
    assert body["details"][0]["field"] == "first_name"
    assert contact_count(session, world.workspace.id) == 0


def test_first_name_null_on_update_is_422_and_nothing_changes(
    owner: TestClient, session: Session, world: World
) -> None:
    ana = owner.post("/api/contacts", json={"first_name": "Ana", "email": "ana@example.com"}).json()
    before = event_count(session, world.workspace.id)
    body = assert_error(
        owner.patch(f"/api/contacts/{ana['id']}", json={"first_name": None, "email": "new@example.com"}), 422
    )
    assert body["details"][0]["field"] == "first_name"
    row = contact_row(session, ana["id"])
    assert (row.first_name, row.email) == ("Ana", "ana@example.com")
    assert event_count(session, world.workspace.id) == before


def test_unknown_body_keys_are_refused(owner: TestClient, session: Session, world: World) -> None:
    body = assert_error(owner.post("/api/contacts", json={"first_name": "Ana", "nickname": "A"}), 422)
    assert body["details"][0]["field"] == "nickname"
    assert contact_count(session, world.workspace.id) == 0


def test_wrong_json_types_are_422(owner: TestClient, session: Session, world: World) -> None:
    assert_error(owner.post("/api/contacts", json=["Ana"]), 422)
    assert_error(owner.post("/api/contacts", json={"first_name": ["Ana"]}), 422)
    assert_error(owner.post("/api/contacts", json={"first_name": "Ana", "custom_fields": "x"}), 422)
    assert contact_count(session, world.workspace.id) == 0


# --- CRM-EVT-04: a change that changes nothing ----------------------------------------------------


def test_update_with_same_values_emits_nothing(owner: TestClient, session: Session, world: World) -> None:
    # CRM-EVT-04
    ana = owner.post(
        "/api/contacts", json={"first_name": "Ana", "email": "ana@example.com", "phone": "+34600111222"}
    ).json()
    before = event_count(session, world.workspace.id)
    response = owner.patch(
        f"/api/contacts/{ana['id']}",
        json={
            "first_name": " Ana ",
            "email": "ANA@example.com",
            "phone": "+34 600 111 222",
            "country_code": "es",
        },
    )
    assert response.status_code == 200
    assert event_count(session, world.workspace.id) == before
    assert owner.patch(f"/api/contacts/{ana['id']}", json={}).status_code == 200
    assert event_count(session, world.workspace.id) == before


def test_update_emits_one_event_with_old_and_new_values(
    owner: TestClient, session: Session, world: World, clock: FakeClock
) -> None:
    ana = owner.post("/api/contacts", json={"first_name": "Ana", "language": "es"}).json()
    clock.advance(minutes=5)
    response = owner.patch(f"/api/contacts/{ana['id']}", json={"first_name": "Anna", "language": "en"})
    assert response.status_code == 200
    events = read_events(session, workspace_id=world.workspace.id, type="contact.updated")
    assert len(events) == 1
    assert events[0].payload == {
        "contact_id": ana["id"],
        "changes": [
            {"field": "first_name", "custom": False, "old": "Ana", "new": "Anna"},
            {"field": "language", "custom": False, "old": "es", "new": "en"},
        ],
    }
    assert events[0].source == "user" and events[0].actor_id == world.owner.id
    assert contact_row(session, ana["id"]).updated_at == clock.now()


# --- CRM-CONT-06: delete --------------------------------------------------------------------------


def _contact_with_history(session: Session, world: World) -> int:
    channel = make_channel(session, workspace_id=world.workspace.id)
    contact = _inbound(session, channel, "visitor-1")
    comments.add_comment(
        session, contact=contact, text="call back", mentions=[], actor=Actor.user(world.owner.id)
    )
    session.commit()
    return contact.id


def _rows_of(session: Session, contact_id: int) -> tuple[int, int, int, int]:
    counts = []
    for model in (Message, Comment, Conversation, Event):
        query = select(func.count()).select_from(model).where(model.contact_id == contact_id)
        counts.append(session.scalar(query) or 0)
    session.commit()
    return counts[0], counts[1], counts[2], counts[3]


def test_delete_is_permanent_with_messages_comments_conversations(
    owner: TestClient, session: Session, world: World
) -> None:
    # CRM-CONT-06
    contact_id = _contact_with_history(session, world)
    messages_, comments_, conversations_, events_ = _rows_of(session, contact_id)
    assert (messages_, comments_, conversations_) == (1, 1, 1) and events_ >= 3
    response = owner.delete(f"/api/contacts/{contact_id}")
    assert response.status_code == 204
    assert reload(session, contact_id) is None
    assert _rows_of(session, contact_id)[:3] == (0, 0, 0)
    remaining = read_events(session, workspace_id=world.workspace.id)
    assert [e.type for e in remaining if e.contact_id == contact_id] == ["contact.deleted"]
    deleted = remaining[-1]
    assert deleted.payload == {"contact": {"id": contact_id, "first_name": "Unknown", "last_name": ""}}
    assert deleted.source == "user" and deleted.actor_id == world.owner.id
    assert_error(owner.get(f"/api/contacts/{contact_id}"), 404)


def test_agent_cannot_delete_a_contact(session: Session, world: World, client_for: ClientFor) -> None:
    # CRM-CONT-06, CRM-ROLE-01
    contact_id = _contact_with_history(session, world)
    before = _rows_of(session, contact_id)
    agent = client_for(world.agent)
    assert_error(agent.delete(f"/api/contacts/{contact_id}"), 403, "role_required")
    assert reload(session, contact_id) is not None
    assert _rows_of(session, contact_id) == before


def test_restricted_manager_cannot_delete_but_unrestricted_can(
    session: Session, world: World, client_for: ClientFor
) -> None:
    # CRM-CONT-06, CRM-ROLE-02
    first = _contact_with_history(session, world)
    second = make_contact(session, workspace_id=world.workspace.id).id
    session.commit()
    manager = client_for(world.manager)
    assert manager.delete(f"/api/contacts/{second}").status_code == 204
    set_restrictions(session, world.workspace, world.manager, restrict_contact_deletion=True)
    before = _rows_of(session, first)
    assert_error(manager.delete(f"/api/contacts/{first}"), 403, "restricted")
    assert reload(session, first) is not None
    assert _rows_of(session, first) == before
    assert [
        e.contact_id for e in read_events(session, workspace_id=world.workspace.id, type="contact.deleted")
    ] == [second]


# --- CRM-CONT-07: block ---------------------------------------------------------------------------


def test_block_emits_updated_and_closes_the_open_conversation(
    owner: TestClient, session: Session, world: World
) -> None:
    # CRM-CONT-07, decision: blocking closes the open conversation with source system
    channel = make_channel(session, workspace_id=world.workspace.id)
    contact_id = _inbound(session, channel, "v-1").id
    session.commit()
    response = owner.put(f"/api/contacts/{contact_id}/blocked", json={"blocked": True})
    assert response.status_code == 200, response.text
    assert response.json()["blocked"] is True and response.json()["status"] == "closed"
    events = read_events(session, workspace_id=world.workspace.id)
    updated, closed = events[-2], events[-1]
    assert updated.type == "contact.updated" and updated.source == "user"
    assert updated.payload == {
        "contact_id": contact_id,
        "changes": [{"field": "blocked", "custom": False, "old": False, "new": True}],
    }
    assert closed.type == "conversation.closed" and closed.source == "system"
    assert closed.payload["contact_id"] == contact_id
    conversation = session.scalars(select(Conversation).where(Conversation.contact_id == contact_id)).one()
    session.commit()
    assert conversation.status == "closed" and conversation.closed_source == "system"
    assert contact_row(session, contact_id).blocked is True


def test_block_twice_emits_once_and_unblock_opens_nothing(
    owner: TestClient, session: Session, world: World
) -> None:
    # CRM-CONT-07, CRM-EVT-04
    contact_id = make_contact(session, workspace_id=world.workspace.id).id
    session.commit()
    owner.put(f"/api/contacts/{contact_id}/blocked", json={"blocked": True})
    count = event_count(session, world.workspace.id)
    assert owner.put(f"/api/contacts/{contact_id}/blocked", json={"blocked": True}).status_code == 200
    assert event_count(session, world.workspace.id) == count
    unblocked = owner.put(f"/api/contacts/{contact_id}/blocked", json={"blocked": False})
    assert unblocked.json()["blocked"] is False and unblocked.json()["status"] == "closed"
    last = read_events(session, workspace_id=world.workspace.id)[-1]
    assert last.type == "contact.updated"
    assert last.payload["changes"] == [{"field": "blocked", "custom": False, "old": True, "new": False}]
    assert session.scalar(select(func.count()).select_from(Conversation)) == 0


def test_blocked_contact_stores_inbound_but_opens_no_conversation(
    owner: TestClient, session: Session, world: World
) -> None:
    # CRM-CONT-07
    channel = make_channel(session, workspace_id=world.workspace.id)
    contact_id = _inbound(session, channel, "v-1").id
    session.commit()
    owner.put(f"/api/contacts/{contact_id}/blocked", json={"blocked": True})
    reload(session, contact_id)  # the session's copy must see the block
    _inbound(session, channel, "v-1", text="again")
    session.commit()
    assert _rows_of(session, contact_id)[0] == 2
    assert conversations.find_open(session, contact_id=contact_id) is None
    session.commit()
    assert owner.get(f"/api/contacts/{contact_id}").json()["status"] == "closed"


def test_activity_lists_the_contacts_events_newest_first(
    owner: TestClient, session: Session, world: World
) -> None:
    # CRM-CONT-04 (activity log) as far as contacts go
    ana = owner.post("/api/contacts", json={"first_name": "Ana"}).json()
    owner.patch(f"/api/contacts/{ana['id']}", json={"last_name": "Pérez"})
    owner.patch(f"/api/contacts/{ana['id']}/tags", json={"add": ["vip"]})
    body = owner.get(f"/api/contacts/{ana['id']}/activity", params={"limit": 2}).json()
    assert [item["type"] for item in body["items"]] == ["contact.tag.updated", "contact.updated"]
    rest = owner.get(f"/api/contacts/{ana['id']}/activity", params={"cursor": body["next_cursor"]}).json()
    assert [item["type"] for item in rest["items"]] == ["contact.created"]
    assert rest["next_cursor"] is None


def test_service_create_refuses_taken_values_before_writing(session: Session, world: World) -> None:
    # CRM-CONT-02 at the service level (used by imports and workflows)
    make_contact(session, workspace_id=world.workspace.id, email="ana@example.com")
    session.commit()
    with pytest.raises(Conflict) as caught:
        contacts.create_contact(
            session,
            workspace_id=world.workspace.id,
            actor=Actor.system(),
            values={"first_name": "B", "email": "ANA@EXAMPLE.COM"},
        )
    assert caught.value.error == "email_taken"
    session.rollback()
    assert contact_count(session, world.workspace.id) == 1
