"""POST /hooks/channels/{id}/{token} for custom channels (CRM-CHAN-02, CRM-CHAN-06, CRM-MSG-02)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from convoflow.bootstrap import Container
from convoflow.contacts.identities import find_identity_contact
from convoflow.testing.clock import FakeClock
from tests.channels.custom_channel import support
from tests.channels.custom_channel.support import connect_custom, post_events
from tests.channels.fake_custom import SECRET, FakeCustomSystem
from tests.channels.telegram.support import messages_of, stored
from tests.support import World, assert_error, events_of, login, seed_world


@pytest.fixture
def world(session: Session, container: Container) -> World:
    return seed_world(session, container.hasher)


@pytest.fixture
def channel(client: TestClient, world: World, custom: FakeCustomSystem) -> dict[str, Any]:
    login(client, world.owner)
    return connect_custom(client, custom)


def test_a_unicode_text_creates_the_contact_and_opens_a_conversation_CRM_CHAN_06(
    client: TestClient, session: Session, world: World, channel: dict[str, Any], clock: FakeClock
) -> None:
    text = "¡Hola! 👋🏽 ¿Tienen envío a Łódź? 谢谢 🚚"
    body = support.message(
        text,
        m_id="m-1",
        contact={"firstName": "Zoë", "lastName": "Ñúñez", "email": "zoe@example.com", "language": "es-MX"},
    )
    response = post_events(client, channel["webhook_path"], body, now=clock.now())
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok", "received": 1, "duplicates": 0, "receipts": 0}
    [stored_message] = messages_of(session, channel["id"])
    assert stored_message.content == {"type": "text", "text": text}
    assert stored_message.provider_message_id == "m-1"
    contact = find_identity_contact(session, channel_id=channel["id"], external_id=support.CONTACT)
    assert contact is not None
    assert (contact.first_name, contact.last_name, contact.email, contact.language) == (
        "Zoë",
        "Ñúñez",
        "zoe@example.com",
        "es",
    )
    types = [e.type for e in events_of(session, workspace_id=world.workspace.id)]
    assert types == ["contact.created", "conversation.opened", "message.received"]


def test_a_phone_contact_id_is_kept_in_e164_and_fills_the_contacts_phone(
    client: TestClient, session: Session, channel: dict[str, Any], clock: FakeClock
) -> None:
    for m_id, contact_id in (("m-1", "+34 612-345-678"), ("m-2", "+34612345678")):
        body = support.message("hola", m_id=m_id, contact_id=contact_id)
        assert post_events(client, channel["webhook_path"], body, now=clock.now()).status_code == 200
    first, second = messages_of(session, channel["id"])
    assert first.contact_id == second.contact_id  # one person, however the number was written
    contact = find_identity_contact(session, channel_id=channel["id"], external_id="+34612345678")
    assert contact is not None and contact.phone == "+34612345678"


def test_attachment_and_location_are_stored_and_unknown_types_as_unsupported(
    client: TestClient, session: Session, channel: dict[str, Any], clock: FakeClock
) -> None:
    bodies = [
        support.message(
            message={
                "type": "attachment",
                "attachment": {"type": "file", "url": "https://cdn.example/f.pdf", "fileName": "f.pdf"},
            }
        ),
        support.message(message={"type": "location", "latitude": 40.4, "longitude": -3.7}),
        support.message(message={"type": "sticker", "id": "x"}),
    ]
    for body in bodies:
        assert post_events(client, channel["webhook_path"], body, now=clock.now()).status_code == 200
    file, location, sticker = messages_of(session, channel["id"])
    assert file.content["attachment"] == {"type": "file", "url": "https://cdn.example/f.pdf", "name": "f.pdf"}
    assert (location.content["latitude"], location.content["longitude"]) == (40.4, -3.7)
    assert sticker.type == "unsupported"


def test_the_same_message_delivered_twice_is_stored_once_CRM_CHAN_02(
    client: TestClient, session: Session, world: World, channel: dict[str, Any], clock: FakeClock
) -> None:
    body = support.message("hola", m_id="same")
    assert post_events(client, channel["webhook_path"], body, now=clock.now()).json()["received"] == 1
    before = stored(session, world.workspace.id)
    clock.advance(seconds=30)
    again = post_events(client, channel["webhook_path"], body, now=clock.now())
    assert again.json() == {"status": "ok", "received": 0, "duplicates": 1, "receipts": 0}
    assert stored(session, world.workspace.id) == before


@pytest.mark.parametrize(
    ("secret", "signature"),
    [(None, None), ("another-secret-another-secret-another-secret", None), (SECRET, "sha256=00")],
    ids=["missing", "other-secret", "wrong-signature"],
)
def test_an_unsigned_or_badly_signed_request_is_401_and_stores_nothing(
    client: TestClient,
    session: Session,
    world: World,
    channel: dict[str, Any],
    clock: FakeClock,
    secret: str | None,
    signature: str | None,
) -> None:
    before = stored(session, world.workspace.id)
    response = post_events(
        client,
        channel["webhook_path"],
        support.message("hola"),
        now=clock.now(),
        secret=secret,
        signature=signature,
    )
    assert_error(response, 401, "invalid_signature")
    assert stored(session, world.workspace.id) == before


@pytest.mark.parametrize(
    "age", [timedelta(minutes=5, seconds=1), -timedelta(minutes=6)], ids=["old", "future"]
)
def test_a_request_signed_outside_the_5_minute_window_is_refused_as_a_replay(
    client: TestClient,
    session: Session,
    world: World,
    channel: dict[str, Any],
    clock: FakeClock,
    age: timedelta,
) -> None:
    before = stored(session, world.workspace.id)
    response = post_events(client, channel["webhook_path"], support.message("hola"), now=clock.now() - age)
    assert_error(response, 401, "invalid_signature")
    assert "5 minutes" in response.json()["message"]
    assert stored(session, world.workspace.id) == before
    inside = post_events(
        client, channel["webhook_path"], support.message("hola"), now=clock.now() - timedelta(minutes=4)
    )
    assert inside.status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"\xff\xfe",
        json.dumps({"events": []}).encode(),
        json.dumps(support.message("x", contact_id="has spaces in it")).encode(),
        json.dumps(support.message("x", contact_id="a" * 51)).encode(),
        json.dumps({"contactId": "c", "events": [{"type": "message", "mId": "m"}]}).encode(),
    ],
    ids=["not-json", "not-utf8", "no-events", "bad-contact-id", "contact-id-too-long", "event-fields"],
)
def test_a_malformed_body_is_400_and_stores_nothing(
    client: TestClient, session: Session, world: World, channel: dict[str, Any], clock: FakeClock, body: bytes
) -> None:
    before = stored(session, world.workspace.id)
    response = post_events(client, channel["webhook_path"], body, now=clock.now())
    assert_error(response, 400, "malformed_payload")
    assert stored(session, world.workspace.id) == before


def test_an_oversized_body_is_413(client: TestClient, channel: dict[str, Any], clock: FakeClock) -> None:
    body = support.message("x" * (300 * 1024))
    response = post_events(client, channel["webhook_path"], body, now=clock.now())
    assert_error(response, 413, "payload_too_large")


def test_echoes_are_ignored_and_answered_200(
    client: TestClient, session: Session, channel: dict[str, Any], clock: FakeClock
) -> None:
    body = {"contactId": support.CONTACT, "events": [{"type": "message_echo", "mId": "e-1"}]}
    response = post_events(client, channel["webhook_path"], body, now=clock.now())
    assert response.json() == {"status": "ok", "received": 0, "duplicates": 0, "receipts": 0}
    assert messages_of(session, channel["id"]) == []


def test_credentials_are_checked_on_connect_and_never_returned(
    client: TestClient, world: World, custom: FakeCustomSystem
) -> None:
    login(client, world.owner)
    short = client.post(
        "/api/channels",
        json={
            "kind": "custom_channel",
            "name": "Bad",
            "credentials": {"outbound_url": "ftp://x.example/in", "signing_secret": "short"},
        },
    )
    assert_error(short, 422, "invalid_credentials")
    fields = {detail["field"] for detail in short.json()["details"]}
    assert fields == {"credentials.outbound_url", "credentials.signing_secret"}
    detail = connect_custom(client, custom)
    assert detail["settings"] == {"outbound_origin": custom.url}
    assert SECRET not in json.dumps(detail) and "credentials" not in detail
