"""POST /hooks/channels/{id}/{token} for Telegram (DESIGN §1 step 1, CRM-CHAN-02, CRM-MSG-02, CRM-CONV-02)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from convoflow import metrics
from convoflow.bootstrap import Container
from convoflow.contacts.identities import find_identity_contact
from tests.channels.fake_telegram import FakeTelegram
from tests.channels.telegram import updates
from tests.channels.telegram.support import connect_telegram, messages_of, post_update, stored
from tests.support import World, assert_error, events_of, login, seed_world


def _counted(status: str) -> float:
    return (
        metrics.REGISTRY.get_sample_value("convoflow_channel_webhook_requests_total", {"status": status})
        or 0.0
    )


@pytest.fixture
def world(session: Session, container: Container) -> World:
    return seed_world(session, container.hasher)


@pytest.fixture
def bot(client: TestClient, world: World) -> dict[str, Any]:
    login(client, world.owner)
    return connect_telegram(client)


def test_a_text_opens_a_conversation_with_a_new_contact_in_one_go(
    client: TestClient, session: Session, world: World, bot: dict[str, Any], telegram: FakeTelegram
) -> None:
    body = "¡Hola! 👋🏽 Necesito ayuda con mi pedido 📦 — 谢谢"
    response = post_update(
        client, bot["webhook_path"], updates.text(body, message_id=41), secret=telegram.webhook_secret
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok", "received": 1, "duplicates": 0, "receipts": 0}
    [message] = messages_of(session, bot["id"])
    assert (message.traffic, message.source, message.type) == ("incoming", "contact", "text")
    assert message.content == {"type": "text", "text": body}
    assert message.provider_message_id == f"{updates.CHAT_ID}:41"
    contact = find_identity_contact(session, channel_id=bot["id"], external_id=str(updates.CHAT_ID))
    assert contact is not None
    assert (contact.first_name, contact.last_name, contact.language) == ("Zoë", "Müller", "de")
    types = [e.type for e in events_of(session, workspace_id=world.workspace.id)]
    assert types == ["contact.created", "conversation.opened", "message.received"]


def test_a_4096_character_text_is_stored_whole(
    client: TestClient, session: Session, bot: dict[str, Any], telegram: FakeTelegram
) -> None:
    body = "x" * 4095 + "ñ"
    assert (
        post_update(
            client, bot["webhook_path"], updates.text(body), secret=telegram.webhook_secret
        ).status_code
        == 200
    )
    assert messages_of(session, bot["id"])[0].content == {"type": "text", "text": body}


def test_photo_document_and_button_press_are_stored_as_their_content(
    client: TestClient, session: Session, bot: dict[str, Any], telegram: FakeTelegram
) -> None:
    for update in (
        updates.photo(caption="Foto del daño 📷"),
        updates.document(),
        updates.callback_query("opt_yes", label="Sí, claro"),
    ):
        assert (
            post_update(client, bot["webhook_path"], update, secret=telegram.webhook_secret).status_code
            == 200
        )
    photo, document, pressed = messages_of(session, bot["id"])
    assert photo.type == "attachment" and photo.content == {
        "type": "attachment",
        "attachment": {"type": "image", "url": "telegram-file:AgACAgQAAx-large", "name": None},
        "caption": "Foto del daño 📷",
    }
    assert document.content["attachment"] == {
        "type": "file",
        "url": "telegram-file:BQACAgQAAx-doc",
        "name": "factura-2026.pdf",
    }
    assert pressed.content == {"type": "text", "text": "Sí, claro"}
    assert photo.contact_id == document.contact_id == pressed.contact_id  # one chat, one contact


def test_the_same_update_delivered_twice_is_stored_once_CRM_CHAN_02(
    client: TestClient, session: Session, world: World, bot: dict[str, Any], telegram: FakeTelegram
) -> None:
    update = updates.text("hola", message_id=7)
    first = post_update(client, bot["webhook_path"], update, secret=telegram.webhook_secret)
    before = stored(session, world.workspace.id)
    again = post_update(client, bot["webhook_path"], update, secret=telegram.webhook_secret)
    assert first.json()["received"] == 1
    assert again.status_code == 200 and again.json() == {
        "status": "ok",
        "received": 0,
        "duplicates": 1,
        "receipts": 0,
    }
    assert stored(session, world.workspace.id) == before  # no second message, contact or event


@pytest.mark.parametrize("secret", [None, "", "not-the-secret"], ids=["missing", "empty", "wrong"])
def test_a_missing_or_wrong_secret_token_is_401_and_stores_nothing_CRM_CHAN_02(
    client: TestClient, session: Session, world: World, bot: dict[str, Any], secret: str | None
) -> None:
    before = stored(session, world.workspace.id)
    refused = _counted("401")
    response = post_update(client, bot["webhook_path"], updates.text("hola"), secret=secret)
    assert_error(response, 401, "invalid_signature")
    assert stored(session, world.workspace.id) == before
    assert _counted("401") == refused + 1  # convoflow_channel_webhook_requests_total{status="401"}


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b'{"update_id": "x"}', b"[1, 2]", b"\xff\xfe\x00"],
    ids=["syntax", "shape", "array", "bytes"],
)
def test_a_malformed_body_is_400_and_stores_nothing(
    client: TestClient,
    session: Session,
    world: World,
    bot: dict[str, Any],
    telegram: FakeTelegram,
    raw: bytes,
) -> None:
    before = stored(session, world.workspace.id)
    assert_error(
        post_update(client, bot["webhook_path"], raw, secret=telegram.webhook_secret),
        400,
        "malformed_payload",
    )
    assert stored(session, world.workspace.id) == before


def test_the_signature_is_checked_before_the_body_is_parsed(client: TestClient, bot: dict[str, Any]) -> None:
    assert_error(
        post_update(client, bot["webhook_path"], b"{not json", secret="wrong"), 401, "invalid_signature"
    )


@pytest.mark.parametrize("size", [256 * 1024 + 1, 2 * 1024 * 1024], ids=["over-256-KB", "over-the-app-limit"])
def test_an_oversized_body_is_413_and_stores_nothing(
    client: TestClient, session: Session, world: World, bot: dict[str, Any], telegram: FakeTelegram, size: int
) -> None:
    update = updates.text("a")
    update["padding"] = "x" * size
    before = stored(session, world.workspace.id)
    assert_error(
        post_update(client, bot["webhook_path"], update, secret=telegram.webhook_secret),
        413,
        "payload_too_large",
    )
    assert stored(session, world.workspace.id) == before


def test_an_unknown_channel_or_a_wrong_token_is_404_and_stores_nothing(
    client: TestClient, session: Session, world: World, bot: dict[str, Any], telegram: FakeTelegram
) -> None:
    token = bot["webhook_path"].rsplit("/", 1)[1]
    before = stored(session, world.workspace.id)
    for path in (
        f"/hooks/channels/{bot['id']}/{token[:-1]}x",
        f"/hooks/channels/{bot['id'] + 1}/{token}",
        f"/hooks/channels/abc/{token}",
        f"/hooks/channels/{2**64}/{token}",
        f"/hooks/channels/0/{token}",
    ):
        response = post_update(client, path, updates.text("hola"), secret=telegram.webhook_secret)
        assert_error(response, 404, "unknown_channel")
    assert stored(session, world.workspace.id) == before


def test_a_disconnected_channel_answers_410_and_stores_nothing_CRM_CHAN_01(
    client: TestClient, session: Session, world: World, bot: dict[str, Any], telegram: FakeTelegram
) -> None:
    secret = telegram.webhook_secret
    assert client.delete(f"/api/channels/{bot['id']}").status_code == 200
    before = stored(session, world.workspace.id)
    assert_error(
        post_update(client, bot["webhook_path"], updates.text("hola"), secret=secret),
        410,
        "channel_disconnected",
    )
    assert stored(session, world.workspace.id) == before


@pytest.mark.parametrize(
    "update",
    [updates.edited("hola, corrijo"), updates.from_bot("beep"), updates.in_group("hola grupo")],
    ids=["edited", "bot", "group"],
)
def test_ignored_updates_are_acknowledged_and_store_nothing(
    client: TestClient,
    session: Session,
    world: World,
    bot: dict[str, Any],
    telegram: FakeTelegram,
    update: dict[str, Any],
) -> None:
    before = stored(session, world.workspace.id)
    response = post_update(client, bot["webhook_path"], update, secret=telegram.webhook_secret)
    assert response.status_code == 200 and response.json()["received"] == 0  # Telegram must not retry it
    assert stored(session, world.workspace.id) == before
