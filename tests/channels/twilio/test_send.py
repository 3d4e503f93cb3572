"""Sending through Twilio's Messages API (CRM-MSG-03/04, CRM-CHAN-05) and connecting a number."""

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
from convoflow.channels.twilio.adapter import TwilioAdapter
from tests.channels.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, CUSTOMER, MESSAGES, NUMBER, FakeTwilio

HOOK = "https://convoflow.example/hooks/channels/7/tok"
CONFIG = ChannelConfig(
    channel_id=7,
    settings={"webhook_url": HOOK},
    secrets={"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, "phone_number": NUMBER},
)


def send(
    url: str, content: dict[str, Any], *, external_id: str | None = CUSTOMER, phone: str | None = None
) -> SendResult:
    adapter = TwilioAdapter(api_url=url)
    message = OutboundMessage(
        channel_id=7, external_id=external_id, contact={"phone": phone}, content=content
    )
    return asyncio.run(adapter.send(message, config=CONFIG, idempotency_key="1:1:1"))


def test_a_text_is_sent_with_the_status_callback_and_returns_the_message_sid(twilio: FakeTwilio) -> None:
    result = send(twilio.url, {"type": "text", "text": "¡Hola! 👋"})
    assert result.provider_message_id == "SM" + "0" * 31 + "1"
    assert twilio.sent == [
        {"To": [CUSTOMER], "From": [NUMBER], "Body": ["¡Hola! 👋"], "StatusCallback": [HOOK]}
    ]


def test_a_contact_without_identity_is_texted_at_its_phone_and_one_without_either_refused(
    twilio: FakeTwilio,
) -> None:
    send(twilio.url, {"type": "text", "text": "x"}, external_id=None, phone="+34 612 34 56 78")
    assert twilio.sent[0]["To"] == [CUSTOMER]
    with pytest.raises(SendFailed, match="no phone number"):
        send(twilio.url, {"type": "text", "text": "x"}, external_id=None)


def test_media_is_sent_as_mms_and_quick_replies_as_a_list_of_options(twilio: FakeTwilio) -> None:
    attachment = {"type": "image", "url": "https://cdn.example/a.png"}
    send(twilio.url, {"type": "attachment", "attachment": attachment, "caption": "Catálogo"})
    send(twilio.url, {"type": "quick_reply", "title": "¿Cómo pagas?", "replies": ["Tarjeta", "Efectivo"]})
    mms, question = twilio.sent
    assert (mms["Body"], mms["MediaUrl"]) == (["Catálogo"], ["https://cdn.example/a.png"])
    assert question["Body"] == ["¿Cómo pagas?\n• Tarjeta\n• Efectivo"]


@pytest.mark.parametrize(
    "content",
    [
        {"type": "text", "text": "x" * 1601},
        {"type": "location", "latitude": 1, "longitude": 2},
        {"type": "whatsapp_template", "template": {"name": "t", "languageCode": "es"}},
    ],
    ids=["too-long", "location", "template"],
)
def test_content_sms_cannot_carry_is_refused_before_any_call(
    twilio: FakeTwilio, content: dict[str, Any]
) -> None:
    with pytest.raises(SendFailed):
        send(twilio.url, content)
    assert twilio.requests == []


@pytest.mark.parametrize(
    ("status", "body", "transient", "reason"),
    [
        (
            400,
            {"code": 21211, "message": "Invalid 'To' Phone Number", "status": 400},
            False,
            "Twilio error 21211: Invalid 'To' Phone Number",
        ),
        (
            400,
            {"code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": 400},
            False,
            "Twilio error 21610: Attempt to send to unsubscribed recipient",
        ),
        (
            401,
            {"code": 20003, "message": "Authenticate", "status": 401},
            False,
            "Twilio error 20003: Authenticate",
        ),
        (
            429,
            {"code": 20429, "message": "Too Many Requests", "status": 429},
            True,
            "Twilio error 20429: Too Many Requests",
        ),
        (
            503,
            {"code": 20503, "message": "Service Unavailable", "status": 503},
            True,
            "Twilio error 20503: Service Unavailable",
        ),
        (502, b"Bad Gateway", True, "Twilio: HTTP 502"),
    ],
    ids=["invalid-to", "unsubscribed", "auth", "429", "503", "502-html"],
)
def test_twilio_errors_map_to_permanent_or_transient(
    twilio: FakeTwilio, status: int, body: Any, transient: bool, reason: str
) -> None:
    twilio.fail_next(status, body, route=MESSAGES, headers={"Retry-After": "17"} if status == 429 else None)
    with pytest.raises(TransientSendFailure if transient else SendFailed) as failure:
        send(twilio.url, {"type": "text", "text": "x"})
    assert str(failure.value) == reason
    if status == 429:
        assert isinstance(failure.value, TransientSendFailure) and failure.value.retry_after == 17


def test_a_timeout_is_transient() -> None:
    def time_out(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("timed out", request=request)

    adapter = TwilioAdapter(api_url="http://127.0.0.1:9", transport=httpx.MockTransport(time_out))
    message = OutboundMessage(
        channel_id=7, external_id=CUSTOMER, contact={}, content={"type": "text", "text": "x"}
    )
    with pytest.raises(TransientSendFailure, match="in time") as failure:
        asyncio.run(adapter.send(message, config=CONFIG, idempotency_key="k"))
    assert AUTH_TOKEN not in str(failure.value)


def test_connect_checks_the_number_belongs_to_the_account_and_disconnect_clears_its_url(
    twilio: FakeTwilio,
) -> None:
    adapter = TwilioAdapter(api_url=twilio.url)
    settings = asyncio.run(adapter.connect(CONFIG, webhook_url=HOOK))
    assert settings == {"webhook_url": HOOK, "phone_number": NUMBER, "phone_number_sid": "PN" + "b2" * 16}
    assert twilio.sms_url == HOOK
    asyncio.run(adapter.disconnect(ChannelConfig(7, settings, CONFIG.secrets)))
    assert twilio.sms_url == ""
    other = ChannelConfig(7, {}, {**CONFIG.secrets, "phone_number": "+14155550199"})
    with pytest.raises(ConnectFailed, match="not a phone number of this Twilio account"):
        asyncio.run(adapter.connect(other, webhook_url=HOOK))
    wrong = ChannelConfig(7, {}, {**CONFIG.secrets, "auth_token": "f" * 32})
    with pytest.raises(ConnectFailed, match="Authenticate"):
        asyncio.run(adapter.connect(wrong, webhook_url=HOOK))
