"""WhatsApp Cloud API webhooks: the GET check, messages and status-only notifications (CRM-CHAN-02)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from convoflow.bootstrap import Container
from convoflow.contacts.identities import find_identity_contact
from tests.channels.fake_whatsapp import VERIFY_TOKEN, FakeWhatsapp, message, notification, signed, status
from tests.channels.telegram.support import messages_of, stored
from tests.channels.whatsapp_cloud.support import connect_whatsapp, post_notification
from tests.support import World, assert_error, login, seed_world
from tests.workflows.engine.support import Harness


@pytest.fixture
def world(session: Session, container: Container) -> World:
    return seed_world(session, container.hasher)


@pytest.fixture
def channel(client: TestClient, world: World, whatsapp: FakeWhatsapp) -> dict[str, Any]:
    login(client, world.owner)
    return connect_whatsapp(client)


def test_connect_reads_the_number_with_the_token(channel: dict[str, Any], whatsapp: FakeWhatsapp) -> None:
    assert channel["settings"] == {
        "display_phone_number": "+1 555-010-0999",
        "verified_name": "Convoflow Test",
    }
    assert "access_token" not in json.dumps(channel)


def test_a_refused_token_is_422_and_keeps_nothing(client: TestClient, world: World) -> None:
    login(client, world.owner)
    credentials = {
        "phone_number_id": "106540352242922",
        "access_token": "EAAJB-some-revoked-token-000000",
        "app_secret": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        "verify_token": VERIFY_TOKEN,
    }
    response = client.post(
        "/api/channels", json={"kind": "whatsapp_cloud", "name": "WA", "credentials": credentials}
    )
    assert_error(response, 422, "channel_connect_failed")
    assert "Invalid OAuth access token" in response.json()["message"]
    assert client.get("/api/channels").json() == []


def test_the_verification_challenge_is_echoed_only_with_the_verify_token(
    client: TestClient, channel: dict[str, Any]
) -> None:
    query = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}
    answered = client.get(channel["webhook_path"], params=query)
    assert (answered.status_code, answered.text) == (200, "1158201444")
    assert answered.headers["content-type"].startswith("text/plain")
    wrong = client.get(channel["webhook_path"], params={**query, "hub.verify_token": "guess-guess"})
    assert_error(wrong, 403, "invalid_verify_token")
    assert_error(client.get(channel["webhook_path"]), 403, "invalid_verify_token")


def test_other_kinds_take_no_challenge(client: TestClient, session: Session, container: Container) -> None:
    h = Harness(session, container)
    path = f"/hooks/channels/{h.channel.id}/{h.channel.token}"
    assert_error(client.get(path, params={"hub.mode": "subscribe"}), 404, "unknown_channel")


def test_a_unicode_text_creates_the_contact_by_its_whatsapp_number(
    client: TestClient, session: Session, channel: dict[str, Any]
) -> None:
    text = "Hola 👋🏽 ¿dónde está mi pedido? 📦 — 谢谢"
    response = post_notification(
        client, channel, notification(messages=[message("text", {"body": text}, wamid="wamid.A1")])
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok", "received": 1, "duplicates": 0, "receipts": 0}
    [stored_message] = messages_of(session, channel["id"])
    assert (stored_message.content, stored_message.provider_message_id) == (
        {"type": "text", "text": text},
        "wamid.A1",
    )
    contact = find_identity_contact(session, channel_id=channel["id"], external_id="+34612345678")
    assert contact is not None
    assert (contact.first_name, contact.last_name, contact.phone) == ("Zoë", "Müller", "+34612345678")


def test_media_and_interactive_replies_are_stored_as_their_content(
    client: TestClient, session: Session, channel: dict[str, Any]
) -> None:
    messages = [
        message(
            "image",
            {"id": "1479537139650973", "mime_type": "image/jpeg", "sha256": "x", "caption": "Daño 📷"},
            wamid="wamid.I",
        ),
        message(
            "document",
            {"id": "2", "filename": "factura.pdf", "mime_type": "application/pdf"},
            wamid="wamid.D",
        ),
        message("audio", {"id": "3", "mime_type": "audio/ogg; codecs=opus", "voice": True}, wamid="wamid.V"),
        message(
            "interactive",
            {"type": "button_reply", "button_reply": {"id": "reply-0", "title": "Sí ✅"}},
            wamid="wamid.B",
        ),
        message(
            "interactive",
            {"type": "list_reply", "list_reply": {"id": "reply-3", "title": "Efectivo"}},
            wamid="wamid.L",
        ),
        message("sticker", {"id": "4", "animated": False}, wamid="wamid.S"),
    ]
    assert post_notification(client, channel, notification(messages=messages)).json()["received"] == 6
    image, document, audio, button, row, sticker = messages_of(session, channel["id"])
    assert image.content == {
        "type": "attachment",
        "attachment": {"type": "image", "url": "whatsapp-media:1479537139650973", "name": None},
        "caption": "Daño 📷",
    }
    assert document.content["attachment"] == {
        "type": "file",
        "url": "whatsapp-media:2",
        "name": "factura.pdf",
    }
    assert audio.content["attachment"]["type"] == "audio"
    assert (button.content["text"], row.content["text"]) == ("Sí ✅", "Efectivo")
    assert sticker.type == "unsupported"


def test_a_status_only_webhook_moves_our_message_and_creates_nothing_else(
    client: TestClient, session: Session, world: World, channel: dict[str, Any]
) -> None:
    before = stored(session, world.workspace.id)
    body = notification(statuses=[status("wamid.unknown", "delivered")])
    response = post_notification(client, channel, body)
    assert response.json() == {"status": "ok", "received": 0, "duplicates": 0, "receipts": 0}
    assert stored(session, world.workspace.id) == before


def test_the_same_notification_delivered_twice_is_stored_once_CRM_CHAN_02(
    client: TestClient, session: Session, world: World, channel: dict[str, Any]
) -> None:
    body = notification(messages=[message("text", {"body": "hola"}, wamid="wamid.X")])
    post_notification(client, channel, body)
    before = stored(session, world.workspace.id)
    again = post_notification(client, channel, body)
    assert again.json()["duplicates"] == 1
    assert stored(session, world.workspace.id) == before


def test_events_of_another_number_of_the_same_app_are_ignored(
    client: TestClient, session: Session, channel: dict[str, Any]
) -> None:
    body = notification(
        messages=[message("text", {"body": "hola"}, wamid="wamid.O")], phone_number_id="999999"
    )
    assert post_notification(client, channel, body).json()["received"] == 0
    assert messages_of(session, channel["id"]) == []


@pytest.mark.parametrize("case", ["missing", "other-secret", "altered"])
def test_a_missing_or_wrong_signature_is_401_and_stores_nothing(
    client: TestClient, session: Session, world: World, channel: dict[str, Any], case: str
) -> None:
    raw, headers = signed(notification(messages=[message("text", {"body": "hola"}, wamid="wamid.Z")]))
    if case == "missing":
        headers.pop("X-Hub-Signature-256")
    elif case == "other-secret":
        raw, headers = signed(raw, secret="a" * 32)
    else:
        raw = raw.replace(b"hola", b"HOLA")
    before = stored(session, world.workspace.id)
    assert_error(client.post(channel["webhook_path"], content=raw, headers=headers), 401, "invalid_signature")
    assert stored(session, world.workspace.id) == before


@pytest.mark.parametrize(
    "body",
    [b"{not json", json.dumps({"object": "page", "entry": []}).encode(), json.dumps({"entry": "x"}).encode()],
    ids=["not-json", "other-object", "wrong-shape"],
)
def test_a_malformed_body_is_400(client: TestClient, channel: dict[str, Any], body: bytes) -> None:
    assert_error(post_notification(client, channel, body), 400, "malformed_payload")


def test_an_oversized_body_is_413(client: TestClient, channel: dict[str, Any]) -> None:
    big = notification(messages=[message("text", {"body": "x" * (300 * 1024)}, wamid="wamid.big")])
    assert_error(post_notification(client, channel, big), 413, "payload_too_large")
