"""Connecting an email channel to the local SMTP server, and posting signed raw emails to its webhook."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from typing import Any

from fastapi.testclient import TestClient
from httpx2 import Response

from convoflow.channels.email import signing
from tests.channels.fake_smtp import FakeSmtp

SECRET = "inbound-secret-0123456789abcdef0123456789"
MAILBOX = "support@shop.example"
SENDER = "zoe.munoz@example.com"


def credentials(smtp: FakeSmtp, **extra: Any) -> dict[str, Any]:
    return {
        "smtp_host": smtp.host,
        "smtp_port": smtp.port,
        "smtp_security": "none",
        "from_address": MAILBOX,
        "from_name": "Shop Support",
        "inbound_secret": SECRET,
        **extra,
    }


def connect_email(client: TestClient, smtp: FakeSmtp, *, name: str = "Support mailbox") -> dict[str, Any]:
    response = client.post(
        "/api/channels", json={"kind": "other_email", "name": name, "credentials": credentials(smtp)}
    )
    assert response.status_code == 201, response.text
    detail: dict[str, Any] = response.json()
    return detail


def mail(
    text: str = "Hello",
    *,
    message_id: str = "<m-1@example.com>",
    sender: str = f"Zoë Muñoz <{SENDER}>",
    subject: str = "Order 1234",
    headers: dict[str, str] | None = None,
) -> bytes:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = MAILBOX
    email["Subject"] = subject
    email["Message-ID"] = message_id
    for name, value in (headers or {}).items():
        email[name] = value
    email.set_content(text)
    return email.as_bytes()


def post_mail(
    client: TestClient,
    path: str,
    raw: bytes,
    *,
    now: datetime,
    secret: str | None = SECRET,
    content_type: str = "message/rfc822",
) -> Response:
    headers = {"Content-Type": content_type}
    if secret is not None:
        headers.update(signing.headers(secret, now, raw))
    return client.post(path, content=raw, headers=headers)
