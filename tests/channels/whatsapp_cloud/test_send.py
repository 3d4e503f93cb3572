"""Sending through the Cloud API (CRM-CHAN-03/05, CRM-MSG-03/04): message objects, the window, errors."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest

from convoflow.channels.base import (
    ChannelConfig,
    OutboundMessage,
    SendFailed,
    SendResult,
    TransientSendFailure,
)
from convoflow.channels.whatsapp_cloud.adapter import WhatsappCloudAdapter
from convoflow.channels.whatsapp_cloud.outbound import WINDOW_CLOSED
from tests.channels.fake_whatsapp import ACCESS_TOKEN, MESSAGES, WA_ID, FakeWhatsapp
from tests.channels.whatsapp_cloud.support import CREDENTIALS

CONFIG = ChannelConfig(channel_id=7, secrets=CREDENTIALS)
INSIDE = timedelta(hours=23, minutes=59)
TEMPLATE = {
    "type": "whatsapp_template",
    "template": {
        "name": "order_update",
        "languageCode": "es",
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "Zoë"}]}],
    },
}


def send(
    url: str,
    content: dict[str, Any],
    *,
    since: timedelta | None = INSIDE,
    external_id: str | None = "+" + WA_ID,
) -> SendResult:
    adapter = WhatsappCloudAdapter(api_url=url)
    message = OutboundMessage(
        channel_id=7, external_id=external_id, contact={}, content=content, since_last_inbound=since
    )
    return asyncio.run(adapter.send(message, config=CONFIG, idempotency_key="1:1:1"))


def test_a_text_is_sent_and_returns_the_wamid(whatsapp: FakeWhatsapp) -> None:
    result = send(whatsapp.url, {"type": "text", "text": "¡Hola! 👋"})
    assert result.provider_message_id == "wamid.HBgLMzQ2MTIzNDU2NzgVAgARGBI0001"
    assert whatsapp.sent == [
        {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": WA_ID,
            "type": "text",
            "text": {"preview_url": False, "body": "¡Hola! 👋"},
        }
    ]
    assert whatsapp.to(MESSAGES)[0].headers["authorization"] == f"Bearer {ACCESS_TOKEN}"


@pytest.mark.parametrize(
    ("content", "wire"),
    [
        (
            {
                "type": "attachment",
                "attachment": {"type": "image", "url": "https://c.example/a.png"},
                "caption": "Mira",
            },
            {"type": "image", "image": {"link": "https://c.example/a.png", "caption": "Mira"}},
        ),
        (
            {
                "type": "attachment",
                "attachment": {"type": "file", "url": "whatsapp-media:55", "name": "f.pdf"},
            },
            {"type": "document", "document": {"id": "55", "filename": "f.pdf"}},
        ),
        (
            {
                "type": "attachment",
                "attachment": {"type": "audio", "url": "https://c.example/a.ogg"},
                "caption": "x",
            },
            {"type": "audio", "audio": {"link": "https://c.example/a.ogg"}},
        ),
        (
            {"type": "location", "latitude": 40.4, "longitude": -3.7, "address": "Sol"},
            {"type": "location", "location": {"latitude": 40.4, "longitude": -3.7, "address": "Sol"}},
        ),
    ],
    ids=["image", "document-by-id", "audio", "location"],
)
def test_media_and_location_have_their_wire_form(
    whatsapp: FakeWhatsapp, content: dict[str, Any], wire: dict[str, Any]
) -> None:
    send(whatsapp.url, content)
    sent = whatsapp.sent[0]
    assert {key: sent[key] for key in wire} == wire


def test_up_to_three_quick_replies_are_buttons_and_more_a_list(whatsapp: FakeWhatsapp) -> None:
    send(whatsapp.url, {"type": "quick_reply", "title": "¿Pagas?", "replies": ["Tarjeta", "Efectivo"]})
    send(whatsapp.url, {"type": "quick_reply", "title": "Elige", "replies": ["a", "b", "c", "d"]})
    buttons, listed = (sent["interactive"] for sent in whatsapp.sent)
    assert buttons == {
        "type": "button",
        "body": {"text": "¿Pagas?"},
        "action": {
            "buttons": [
                {"type": "reply", "reply": {"id": "reply-0", "title": "Tarjeta"}},
                {"type": "reply", "reply": {"id": "reply-1", "title": "Efectivo"}},
            ]
        },
    }
    assert listed["type"] == "list"
    assert [row["title"] for row in listed["action"]["sections"][0]["rows"]] == ["a", "b", "c", "d"]


@pytest.mark.parametrize("since", [None, timedelta(hours=24), timedelta(days=3)], ids=["never", "24h", "3d"])
def test_free_form_outside_the_24_hour_window_is_refused_before_any_call_CRM_CHAN_03(
    whatsapp: FakeWhatsapp, since: timedelta | None
) -> None:
    with pytest.raises(SendFailed) as failure:
        send(whatsapp.url, {"type": "text", "text": "hola"}, since=since)
    assert str(failure.value) == WINDOW_CLOSED
    assert whatsapp.requests == []


def test_a_template_is_sent_outside_the_window_with_its_language_and_parameters(
    whatsapp: FakeWhatsapp,
) -> None:
    send(whatsapp.url, TEMPLATE, since=None)
    assert whatsapp.sent[0]["template"] == {
        "name": "order_update",
        "language": {"code": "es"},
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "Zoë"}]}],
    }


@pytest.mark.parametrize(
    ("status", "error", "transient", "reason"),
    [
        (
            400,
            {
                "message": "(#131047) Re-engagement message",
                "code": 131047,
                "error_data": {"details": "More than 24 hours have passed"},
            },
            False,
            "WhatsApp error 131047: (#131047) Re-engagement message (More than 24 hours have passed)",
        ),
        (
            400,
            {"message": "(#131026) Message Undeliverable", "code": 131026},
            False,
            "WhatsApp error 131026: (#131026) Message Undeliverable",
        ),
        (
            401,
            {"message": "Invalid OAuth access token", "code": 190},
            False,
            "WhatsApp error 190: Invalid OAuth access token",
        ),
        (
            400,
            {"message": "(#130429) Rate limit hit", "code": 130429},
            True,
            "WhatsApp error 130429: (#130429) Rate limit hit",
        ),
        (
            500,
            {"message": "(#131000) Something went wrong", "code": 131000},
            True,
            "WhatsApp error 131000: (#131000) Something went wrong",
        ),
    ],
    ids=["re-engagement", "undeliverable", "token", "throughput", "500"],
)
def test_graph_errors_map_to_permanent_or_transient(
    whatsapp: FakeWhatsapp, status: int, error: dict[str, Any], transient: bool, reason: str
) -> None:
    whatsapp.fail_next(status, {"error": {"type": "OAuthException", **error}}, route=MESSAGES)
    with pytest.raises(TransientSendFailure if transient else SendFailed) as failure:
        send(whatsapp.url, {"type": "text", "text": "x"})
    assert str(failure.value) == reason


def test_429_is_transient_with_retry_after(whatsapp: FakeWhatsapp) -> None:
    whatsapp.fail_next(
        429, {"error": {"message": "Too many", "code": 80007}}, route=MESSAGES, headers={"Retry-After": "30"}
    )
    with pytest.raises(TransientSendFailure) as failure:
        send(whatsapp.url, {"type": "text", "text": "x"})
    assert failure.value.retry_after == 30


def test_a_timeout_is_transient_and_names_no_token() -> None:
    def time_out(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    adapter = WhatsappCloudAdapter(api_url="http://127.0.0.1:9", transport=httpx.MockTransport(time_out))
    message = OutboundMessage(
        channel_id=7,
        external_id="+" + WA_ID,
        contact={},
        content={"type": "text", "text": "x"},
        since_last_inbound=INSIDE,
    )
    with pytest.raises(TransientSendFailure, match="in time") as failure:
        asyncio.run(adapter.send(message, config=CONFIG, idempotency_key="k"))
    assert ACCESS_TOKEN not in str(failure.value)


@pytest.mark.parametrize(
    "content",
    [{"type": "email", "text": "x"}, {"type": "custom_payload", "payload": {}}],
    ids=["email", "custom"],
)
def test_content_whatsapp_cannot_carry_is_refused_CRM_CHAN_05(
    whatsapp: FakeWhatsapp, content: dict[str, Any]
) -> None:
    with pytest.raises(SendFailed, match="cannot send"):
        send(whatsapp.url, content)
    assert whatsapp.requests == []
