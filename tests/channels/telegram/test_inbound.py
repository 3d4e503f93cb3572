"""Telegram webhook verification and parsing, without a database (CRM-CHAN-02, CRM-MSG-02)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from convoflow.channels.base import (
    ChannelConfig,
    InboundMessage,
    InvalidSignature,
    MalformedPayload,
    RawRequest,
    SenderProfile,
)
from convoflow.channels.telegram.adapter import SECRET_HEADER, TelegramAdapter
from tests.channels.telegram import updates

SECRET = "s3cret-token_from-setWebhook"
CONFIG = ChannelConfig(channel_id=7, secrets={"bot_token": "1:x", "webhook_secret": SECRET})
adapter = TelegramAdapter(api_url="http://127.0.0.1:9")


def request(body: dict[str, Any] | bytes, *, secret: str | None = SECRET) -> RawRequest:
    headers = {"content-type": "application/json"}
    if secret is not None:
        headers[SECRET_HEADER.lower()] = secret
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return RawRequest(method="POST", headers=headers, body=raw)


def parse_one(body: dict[str, Any]) -> InboundMessage:
    [item] = adapter.parse(request(body), CONFIG)
    assert isinstance(item, InboundMessage)
    return item


def test_the_secret_token_header_is_verified_CRM_CHAN_02() -> None:
    adapter.verify(request(updates.text("hola")), CONFIG)
    for wrong in (None, "", "s3cret-token_from-setwebhook", SECRET + "x", SECRET[:-1]):
        with pytest.raises(InvalidSignature):
            adapter.verify(request(updates.text("hola"), secret=wrong), CONFIG)
    # A channel without a stored secret accepts nothing, not even an empty header.
    with pytest.raises(InvalidSignature):
        adapter.verify(request(updates.text("hola"), secret=""), ChannelConfig(channel_id=7))


def test_unicode_and_emoji_text_keeps_every_character_and_the_sender_profile() -> None:
    body = "¡Hola! 👋🏽 Grüße — 你好 — مرحبا 🇦🇷"
    item = parse_one(updates.text(body, message_id=41))
    assert item.content == {"type": "text", "text": body}
    assert item.external_id == str(updates.CHAT_ID)  # the contact's identity is the chat id
    assert item.provider_message_id == f"{updates.CHAT_ID}:41"  # message ids are unique per chat only
    assert item.profile == SenderProfile(
        first_name="Zoë", last_name="Müller", username="zoe_m", language="de"
    )


def test_a_4096_character_text_is_read_whole() -> None:
    body = "ñ" * 4096
    assert parse_one(updates.text(body)).content == {"type": "text", "text": body}


def test_a_photo_keeps_its_largest_size_and_its_caption() -> None:
    item = parse_one(updates.photo(caption="Mi recibo 🧾"))
    assert item.content == {
        "type": "attachment",
        "attachment": {"type": "image", "url": "telegram-file:AgACAgQAAx-large"},
        "caption": "Mi recibo 🧾",
    }


def test_a_document_keeps_its_file_name() -> None:
    item = parse_one(updates.document())
    assert item.content == {
        "type": "attachment",
        "attachment": {"type": "file", "url": "telegram-file:BQACAgQAAx-doc", "name": "factura-2026.pdf"},
    }


def test_a_button_press_reads_as_the_button_label() -> None:
    item = parse_one(updates.callback_query("opt_yes", label="Sí, claro", query_id="q-1"))
    assert item.content == {"type": "text", "text": "Sí, claro"}
    assert (item.external_id, item.provider_message_id) == (str(updates.CHAT_ID), "callback:q-1")


def test_a_button_press_without_a_known_label_reads_as_its_data() -> None:
    body = updates.callback_query("opt_yes", label="Sí")
    body["callback_query"]["message"].pop("reply_markup")
    assert parse_one(body).content == {"type": "text", "text": "opt_yes"}


@pytest.mark.parametrize(
    "body",
    [
        updates.edited("hola, corrijo"),  # edits are not new messages (docs/subsystems/channels.md)
        updates.from_bot("I am a bot"),
        updates.in_group("hola grupo"),
        updates.update(my_chat_member={"chat": {"id": 1, "type": "private"}}),
        updates.update(),
    ],
    ids=["edited", "bot", "group", "membership", "empty"],
)
def test_updates_we_do_not_read_give_nothing(body: dict[str, Any]) -> None:
    assert adapter.parse(request(body), CONFIG) == []


def test_a_sticker_is_stored_as_unsupported_CRM_MSG_02() -> None:
    body = updates.update(message={**updates.text("x")["message"], "sticker": {"file_id": "CAA"}})
    del body["message"]["text"]
    assert parse_one(body).content["type"] == "unsupported"


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"\xff\xfe", b"[]", b'{"message": {"text": "no update_id"}}', b'"text"'],
    ids=["syntax", "not-utf8", "array", "no-update-id", "string"],
)
def test_a_body_that_is_not_an_update_is_malformed(raw: bytes) -> None:
    with pytest.raises(MalformedPayload):
        adapter.parse(request(raw), CONFIG)
