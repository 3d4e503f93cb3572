"""Sending through the Bot API (CRM-MSG-03/04, CRM-CHAN-05): what Telegram receives, how errors map."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from convoflow.channels.base import (
    ChannelConfig,
    ConnectFailed,
    OutboundMessage,
    SendFailed,
    SendResult,
    TransientSendFailure,
)
from convoflow.channels.telegram.adapter import TelegramAdapter
from tests.channels.fake_telegram import TOKEN, FakeTelegram

CONFIG = ChannelConfig(channel_id=7, secrets={"bot_token": TOKEN, "webhook_secret": "w-secret"})
CHAT = "5550001234"


def send(fake: FakeTelegram, content: dict[str, Any], *, external_id: str | None = CHAT) -> SendResult:
    adapter = TelegramAdapter(api_url=fake.url)
    message = OutboundMessage(channel_id=7, external_id=external_id, contact={}, content=content)
    return asyncio.run(adapter.send(message, config=CONFIG, idempotency_key="9:1:1"))


def test_a_text_is_sent_with_sendMessage_and_returns_the_provider_message_id(telegram: FakeTelegram) -> None:
    result = send(telegram, {"type": "text", "text": "¡Hola! 👋 ¿Qué tal?"})
    assert telegram.calls_to("sendMessage") == [{"chat_id": 5550001234, "text": "¡Hola! 👋 ¿Qué tal?"}]
    assert result.provider_message_id == "5550001234:1001"  # chat id : message id, as inbound ones
    assert [call.token for call in telegram.calls] == [TOKEN]


def test_a_4096_character_text_is_sent_and_a_longer_one_refused(telegram: FakeTelegram) -> None:
    send(telegram, {"type": "text", "text": "a" * 4096})
    assert len(telegram.calls_to("sendMessage")[0]["text"]) == 4096
    # Telegram counts UTF-16 units: 2,049 emoji are 4,098 of them.
    with pytest.raises(SendFailed, match="at most 4,096 characters; this one has 4,098"):
        send(telegram, {"type": "text", "text": "😀" * 2049})
    assert len(telegram.calls_to("sendMessage")) == 1  # refused before any call


def test_quick_replies_become_a_one_time_reply_keyboard(telegram: FakeTelegram) -> None:
    send(telegram, {"type": "quick_reply", "title": "¿Cómo pagas?", "replies": ["Tarjeta", "Efectivo 💵"]})
    [params] = telegram.calls_to("sendMessage")
    assert params["text"] == "¿Cómo pagas?"
    assert params["reply_markup"] == {
        "keyboard": [[{"text": "Tarjeta"}], [{"text": "Efectivo 💵"}]],
        "one_time_keyboard": True,
        "resize_keyboard": True,
    }


def test_an_image_is_sent_with_sendPhoto_and_its_caption(telegram: FakeTelegram) -> None:
    content = {
        "type": "attachment",
        "attachment": {"type": "image", "url": "https://cdn.example/catalogo.png"},
        "caption": "Nuestro catálogo",
    }
    assert send(telegram, content).provider_message_id == "5550001234:1001"
    assert telegram.calls_to("sendPhoto") == [
        {"chat_id": 5550001234, "photo": "https://cdn.example/catalogo.png", "caption": "Nuestro catálogo"}
    ]


def test_a_file_received_from_telegram_is_sent_again_by_its_file_id(telegram: FakeTelegram) -> None:
    content = {
        "type": "attachment",
        "attachment": {"type": "file", "url": "telegram-file:BQAD-x", "name": "a.pdf"},
    }
    send(telegram, content)
    assert telegram.calls_to("sendDocument") == [{"chat_id": 5550001234, "document": "BQAD-x"}]


@pytest.mark.parametrize(
    "content",
    [
        {"type": "email", "text": "hola", "subject": "x"},
        {"type": "whatsapp_template", "template": {"name": "t", "languageCode": "es"}},
        {"type": "custom_payload", "payload": {}},
    ],
    ids=["email", "template", "custom"],
)
def test_content_telegram_cannot_carry_is_refused_CRM_CHAN_05(
    telegram: FakeTelegram, content: dict[str, Any]
) -> None:
    with pytest.raises(SendFailed, match="cannot send"):
        send(telegram, content)
    assert telegram.calls == []


def test_a_contact_without_a_chat_is_refused(telegram: FakeTelegram) -> None:
    with pytest.raises(SendFailed, match="no Telegram chat"):
        send(telegram, {"type": "text", "text": "hola"}, external_id=None)


def test_429_is_transient_with_telegrams_retry_after_CRM_MSG_04(telegram: FakeTelegram) -> None:
    telegram.fail_next(
        "sendMessage",
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 7",
            "parameters": {"retry_after": 7},
        },
    )
    with pytest.raises(TransientSendFailure) as failure:
        send(telegram, {"type": "text", "text": "hola"})
    assert failure.value.retry_after == 7
    assert "Too Many Requests" in str(failure.value)


def test_500_and_a_timeout_are_transient_CRM_MSG_04(telegram: FakeTelegram) -> None:
    telegram.fail_next(
        "sendMessage", 500, {"ok": False, "error_code": 500, "description": "Internal Server Error"}
    )
    with pytest.raises(TransientSendFailure) as failure:
        send(telegram, {"type": "text", "text": "hola"})
    assert failure.value.retry_after is None

    def time_out(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    adapter = TelegramAdapter(api_url="http://127.0.0.1:9", transport=httpx.MockTransport(time_out))
    message = OutboundMessage(
        channel_id=7, external_id=CHAT, contact={}, content={"type": "text", "text": "x"}
    )
    with pytest.raises(TransientSendFailure, match="in time") as timed_out:
        asyncio.run(adapter.send(message, config=CONFIG, idempotency_key="k"))
    assert TOKEN not in str(timed_out.value)  # the token is in the URL: never in a message


def test_an_unreachable_server_is_transient_and_names_no_token() -> None:
    adapter = TelegramAdapter(api_url="http://127.0.0.1:9")  # discard port: nothing listens
    message = OutboundMessage(
        channel_id=7, external_id=CHAT, contact={}, content={"type": "text", "text": "x"}
    )
    with pytest.raises(TransientSendFailure, match="could not be reached") as failure:
        asyncio.run(adapter.send(message, config=CONFIG, idempotency_key="k"))
    assert TOKEN not in str(failure.value)


@pytest.mark.parametrize(
    ("status", "description"),
    [
        (400, "Bad Request: chat not found"),
        (403, "Forbidden: bot was blocked by the user"),
        (400, "Bad Request: message is too long"),
    ],
)
def test_400_and_403_are_permanent_with_telegrams_description(
    telegram: FakeTelegram, status: int, description: str
) -> None:
    telegram.fail_next("sendMessage", status, {"ok": False, "error_code": status, "description": description})
    with pytest.raises(SendFailed) as failure:
        send(telegram, {"type": "text", "text": "hola"})
    assert str(failure.value) == f"Telegram: {description}"


def test_connect_checks_the_token_and_sets_the_webhook_with_the_secret(telegram: FakeTelegram) -> None:
    adapter = TelegramAdapter(api_url=telegram.url)
    settings = asyncio.run(
        adapter.connect(CONFIG, webhook_url="https://convoflow.example/hooks/channels/7/t")
    )
    assert settings == {"bot_id": 123456789, "bot_username": "convoflow_test_bot"}
    assert telegram.calls_to("setWebhook") == [
        {
            "url": "https://convoflow.example/hooks/channels/7/t",
            "secret_token": "w-secret",
            "allowed_updates": ["message", "callback_query"],
        }
    ]
    wrong = ChannelConfig(channel_id=7, secrets={"bot_token": "1111111:wrongwrongwrongwrongwrongwrongwrong"})
    with pytest.raises(ConnectFailed, match="Unauthorized"):
        asyncio.run(adapter.connect(wrong, webhook_url="https://convoflow.example/x"))
    telegram.fail_next(
        "setWebhook",
        400,
        {
            "ok": False,
            "error_code": 400,
            "description": "Bad Request: bad webhook: HTTPS url must be provided",
        },
    )
    with pytest.raises(ConnectFailed, match="HTTPS url must be provided"):
        asyncio.run(adapter.connect(CONFIG, webhook_url="http://convoflow.example/x"))


def test_disconnect_deletes_the_webhook_and_never_raises(telegram: FakeTelegram) -> None:
    adapter = TelegramAdapter(api_url=telegram.url)
    asyncio.run(adapter.disconnect(CONFIG))
    assert telegram.calls_to("deleteWebhook") == [{}]
    telegram.fail_next("deleteWebhook", 500, {"ok": False, "error_code": 500, "description": "oops"})
    asyncio.run(adapter.disconnect(CONFIG))  # logged, not raised
