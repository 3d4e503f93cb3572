"""Sending through SMTP to a local server: headers, both parts, Message-ID, threading, error mapping."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from convoflow.channels.base import (
    ChannelConfig,
    ConnectFailed,
    OutboundMessage,
    ReplyTarget,
    SendFailed,
    SendResult,
    TransientSendFailure,
)
from convoflow.channels.email.adapter import EmailAdapter
from convoflow.channels.email.outbound import html_of
from tests.channels.email.support import MAILBOX, SENDER, credentials
from tests.channels.fake_smtp import FakeSmtp

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def _config(smtp: FakeSmtp, **extra: Any) -> ChannelConfig:
    values = {key: str(value) for key, value in credentials(smtp, **extra).items()}
    return ChannelConfig(channel_id=7, secrets=values)


def _adapter() -> EmailAdapter:
    return EmailAdapter(now=lambda: NOW, allow_internal=True, timeout=5)


def send(
    smtp: FakeSmtp,
    content: dict[str, Any],
    *,
    key: str = "9:1:1",
    reply_to: ReplyTarget | None = None,
    **extra: Any,
) -> SendResult:
    message = OutboundMessage(
        channel_id=7,
        external_id=SENDER,
        contact={"name": "Zoë Muñoz", "phone": None, "email": SENDER},
        content=content,
        reply_to=reply_to,
    )
    return asyncio.run(_adapter().send(message, config=_config(smtp, **extra), idempotency_key=key))


def test_a_text_arrives_with_from_to_subject_message_id_and_both_parts(smtp: FakeSmtp) -> None:
    result = send(smtp, {"type": "text", "text": "Hola Zoë 👋\n\n<b>not bold</b> & more"})
    [received] = smtp.received
    assert received.sender == MAILBOX and received.recipients == [SENDER]
    email = received.email
    assert email["From"] == f"Shop Support <{MAILBOX}>"
    assert email["To"].addresses[0].addr_spec == SENDER
    assert email["To"].addresses[0].display_name == "Zoë Muñoz"
    assert email["Subject"] == "Message from Shop Support"
    assert email["Message-ID"] == result.provider_message_id
    assert str(result.provider_message_id).endswith("@shop.example>")
    assert email["In-Reply-To"] is None
    plain = email.get_body(("plain",))
    html = email.get_body(("html",))
    assert plain is not None and html is not None
    assert plain.get_content().rstrip("\n") == "Hola Zoë 👋\n\n<b>not bold</b> & more"
    assert "<p>&lt;b&gt;not bold&lt;/b&gt; &amp; more</p>" in html.get_content()
    assert "<p>Hola Zoë 👋</p>" in html.get_content()


def test_a_retry_keeps_the_message_id_and_another_message_gets_another(smtp: FakeSmtp) -> None:
    first = send(smtp, {"type": "text", "text": "Hola"}, key="9:1:1")
    again = send(smtp, {"type": "text", "text": "Hola"}, key="9:1:1")
    other = send(smtp, {"type": "text", "text": "Hola"}, key="9:1:2")
    assert first.provider_message_id == again.provider_message_id != other.provider_message_id
    assert [r.email["Message-ID"] for r in smtp.received] == [
        first.provider_message_id,
        first.provider_message_id,
        other.provider_message_id,
    ]


def test_a_reply_names_the_message_it_answers_and_takes_its_subject_WF_STEP_SEND_06(smtp: FakeSmtp) -> None:
    target = ReplyTarget("<m-1@example.com>", {"type": "email", "text": "Hi", "subject": "Order 1234"})
    send(smtp, {"type": "text", "text": "On its way"}, reply_to=target)
    email = smtp.received[0].email
    assert (email["In-Reply-To"], email["References"]) == ("<m-1@example.com>", "<m-1@example.com>")
    assert email["Subject"] == "Re: Order 1234"


def test_an_email_message_keeps_its_subject_and_a_default_subject_applies_otherwise(smtp: FakeSmtp) -> None:
    send(smtp, {"type": "email", "text": "Body", "subject": "Your invoice 🧾"}, default_subject="Hi")
    send(smtp, {"type": "text", "text": "Body"}, key="9:1:2", default_subject="News from the shop")
    assert [r.email["Subject"] for r in smtp.received] == ["Your invoice 🧾", "News from the shop"]


def test_quick_replies_are_listed_in_the_text(smtp: FakeSmtp) -> None:
    send(smtp, {"type": "quick_reply", "title": "Pick one", "replies": ["Yes", "No"]})
    plain = smtp.received[0].email.get_body(("plain",))
    assert plain is not None and plain.get_content().rstrip("\n") == "Pick one\n\n• Yes\n• No"


def test_a_4xx_reply_is_transient(smtp: FakeSmtp) -> None:
    smtp.fail_next("451 4.3.0 Mailbox busy, try later")
    with pytest.raises(TransientSendFailure, match=r"451 4\.3\.0 Mailbox busy"):
        send(smtp, {"type": "text", "text": "Hola"})


def test_a_5xx_reply_fails_for_good_with_the_servers_text(smtp: FakeSmtp) -> None:
    smtp.fail_next("550 5.1.1 No such user here")
    with pytest.raises(SendFailed, match=r"^SMTP: 550 5.1.1 No such user here$"):
        send(smtp, {"type": "text", "text": "Hola"})
    assert smtp.received == []


def test_a_refused_connection_is_transient(smtp: FakeSmtp) -> None:
    with pytest.raises(TransientSendFailure, match="could not be reached"):
        send(smtp, {"type": "text", "text": "Hola"}, smtp_port=1)


def test_content_email_cannot_carry_is_refused(smtp: FakeSmtp) -> None:
    with pytest.raises(SendFailed, match="cannot send location"):
        send(smtp, {"type": "location", "latitude": 1.0, "longitude": 2.0})
    assert smtp.received == []


def test_html_of_escapes_everything() -> None:
    assert "<script>" not in html_of("<script>alert(1)</script>")
    assert "&lt;script&gt;" in html_of("<script>alert(1)</script>")


def test_connect_logs_in_once_and_an_unreachable_server_is_refused(smtp: FakeSmtp) -> None:
    settings = asyncio.run(_adapter().connect(_config(smtp), webhook_url="https://x/hooks"))
    assert settings == {"from_address": MAILBOX, "smtp_host": "127.0.0.1"}
    with pytest.raises(ConnectFailed, match=r"Error connecting to 127\.0\.0\.1 on port 1"):
        asyncio.run(_adapter().connect(_config(smtp, smtp_port=1), webhook_url="https://x/hooks"))


def test_internal_smtp_hosts_are_refused_unless_allowed(smtp: FakeSmtp) -> None:
    adapter = EmailAdapter(now=lambda: NOW, allow_internal=False)
    with pytest.raises(ConnectFailed, match="non-public"):
        asyncio.run(adapter.connect(_config(smtp), webhook_url="https://x/hooks"))
