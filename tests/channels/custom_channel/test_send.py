"""Sending to a custom channel's URL (CRM-CHAN-06, CRM-MSG-03/04): body, signature, key, error mapping."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
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
from convoflow.channels.custom_channel import signing
from convoflow.channels.custom_channel.adapter import CustomChannelAdapter
from tests.channels.fake_custom import PATH, SECRET, FakeCustomSystem

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
CONTACT = "visitor_42@shop"


def _config(url: str) -> ChannelConfig:
    return ChannelConfig(channel_id=7, secrets={"outbound_url": url, "signing_secret": SECRET})


def _adapter(**kwargs: Any) -> CustomChannelAdapter:
    return CustomChannelAdapter(now=lambda: NOW, allow_internal=True, **kwargs)


def send(
    url: str, content: dict[str, Any], *, key: str = "9:1:1", adapter: CustomChannelAdapter | None = None
) -> SendResult:
    message = OutboundMessage(
        channel_id=7, external_id=CONTACT, contact={"name": "Zoë M", "phone": None}, content=content
    )
    return asyncio.run((adapter or _adapter()).send(message, config=_config(url), idempotency_key=key))


def test_a_text_is_posted_signed_with_the_idempotency_key_and_returns_the_mid(
    custom: FakeCustomSystem,
) -> None:
    result = send(custom.outbound_url, {"type": "text", "text": "¡Hola! 👋"})
    assert result.provider_message_id == "ext-1"
    [request] = custom.to(PATH)
    assert request.json() == {
        "channelId": "7",
        "contactId": CONTACT,
        "message": {"type": "text", "text": "¡Hola! 👋"},
        "contact": {"name": "Zoë M"},
    }
    assert request.headers["idempotency-key"] == "9:1:1"
    assert request.headers["x-convoflow-timestamp"] == str(int(NOW.timestamp()))
    expected = signing.signature(SECRET, int(NOW.timestamp()), request.body)
    assert request.headers["x-convoflow-signature"] == expected


def test_a_redelivery_carries_the_same_key_so_the_receiver_answers_the_same_id(
    custom: FakeCustomSystem,
) -> None:
    first = send(custom.outbound_url, {"type": "text", "text": "x"}, key="5:2:1")
    again = send(custom.outbound_url, {"type": "text", "text": "x"}, key="5:2:1")
    assert first.provider_message_id == again.provider_message_id == "ext-1"


@pytest.mark.parametrize(
    ("content", "wire"),
    [
        (
            {
                "type": "attachment",
                "attachment": {"type": "image", "url": "https://c.example/a.png", "name": "a.png"},
                "caption": "Mira",
            },
            {
                "type": "attachment",
                "attachment": {"type": "image", "url": "https://c.example/a.png", "fileName": "a.png"},
                "caption": "Mira",
            },
        ),
        (
            {"type": "quick_reply", "title": "¿Sí?", "replies": ["Sí", "No"]},
            {"type": "quick_reply", "title": "¿Sí?", "replies": ["Sí", "No"]},
        ),
        (
            {"type": "location", "latitude": 1.5, "longitude": 2.5},
            {"type": "location", "latitude": 1.5, "longitude": 2.5},
        ),
        (
            {"type": "custom_payload", "payload": {"card": {"id": 3}}},
            {"type": "custom_payload", "payload": {"card": {"id": 3}}},
        ),
    ],
    ids=["attachment", "quick-reply", "location", "custom-payload"],
)
def test_each_content_type_has_its_wire_form(
    custom: FakeCustomSystem, content: dict[str, Any], wire: dict[str, Any]
) -> None:
    send(custom.outbound_url, content)
    assert custom.messages[0]["message"] == wire


def test_email_and_template_content_are_refused_before_any_call_CRM_CHAN_05(custom: FakeCustomSystem) -> None:
    with pytest.raises(SendFailed, match="cannot send email"):
        send(custom.outbound_url, {"type": "email", "text": "x"})
    assert custom.requests == []


def test_a_2xx_without_an_mid_is_still_sent(custom: FakeCustomSystem) -> None:
    custom.fail_next(202, b"accepted")
    assert send(custom.outbound_url, {"type": "text", "text": "x"}).provider_message_id is None


def test_429_is_transient_with_retry_after(custom: FakeCustomSystem) -> None:
    custom.fail_next(429, {"error": "slow down"}, headers={"Retry-After": "42"})
    with pytest.raises(TransientSendFailure, match="slow down") as failure:
        send(custom.outbound_url, {"type": "text", "text": "x"})
    assert failure.value.retry_after == 42


@pytest.mark.parametrize("status", [500, 502, 503, 408])
def test_5xx_and_408_are_transient(custom: FakeCustomSystem, status: int) -> None:
    custom.fail_next(status, b"upstream down")
    with pytest.raises(TransientSendFailure, match="upstream down") as failure:
        send(custom.outbound_url, {"type": "text", "text": "x"})
    assert failure.value.retry_after is None


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"error": "contact unknown"}, "Custom channel: HTTP 404: contact unknown"),
        ({"message": "blocked by user"}, "Custom channel: HTTP 404: blocked by user"),
        ({"error": {"message": "nested"}}, "Custom channel: HTTP 404: nested"),
        (b"", "Custom channel: HTTP 404"),
    ],
)
def test_other_4xx_are_permanent_with_the_bodys_reason(
    custom: FakeCustomSystem, body: Any, reason: str
) -> None:
    custom.fail_next(404, body)
    with pytest.raises(SendFailed) as failure:
        send(custom.outbound_url, {"type": "text", "text": "x"})
    assert str(failure.value) == reason


def test_a_timeout_and_an_unreachable_host_are_transient() -> None:
    def time_out(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(TransientSendFailure, match="did not answer in time"):
        send(
            "http://127.0.0.1:9/x",
            {"type": "text", "text": "x"},
            adapter=_adapter(transport=httpx.MockTransport(time_out)),
        )
    with pytest.raises(TransientSendFailure, match="could not be reached"):
        send("http://127.0.0.1:9/x", {"type": "text", "text": "x"})  # discard port: nothing listens


def test_internal_addresses_are_refused_unless_allowed() -> None:
    guarded = CustomChannelAdapter(now=lambda: NOW)
    with pytest.raises(SendFailed, match="non-public address"):
        send("http://127.0.0.1:9/x", {"type": "text", "text": "x"}, adapter=guarded)
    with pytest.raises(ConnectFailed, match="non-public address"):
        asyncio.run(
            guarded.connect(_config("http://169.254.169.254/latest"), webhook_url="https://c.example/h")
        )


def test_a_contact_without_an_id_on_the_channel_is_refused() -> None:
    message = OutboundMessage(
        channel_id=7, external_id=None, contact={}, content={"type": "text", "text": "x"}
    )
    with pytest.raises(SendFailed, match="no id on this custom channel"):
        asyncio.run(_adapter().send(message, config=_config("http://127.0.0.1:9/x"), idempotency_key="k"))
