"""Connecting a custom channel through the API and posting signed events to its webhook."""

from __future__ import annotations

import itertools
import json
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient
from httpx2 import Response

from convoflow.channels.custom_channel import signing
from tests.channels.fake_custom import SECRET, FakeCustomSystem

CONTACT = "visitor_42@shop"
_ids = itertools.count(1)


def connect_custom(client: TestClient, system: FakeCustomSystem, *, name: str = "Shop app") -> dict[str, Any]:
    credentials = {"outbound_url": system.outbound_url, "signing_secret": SECRET}
    response = client.post(
        "/api/channels", json={"kind": "custom_channel", "name": name, "credentials": credentials}
    )
    assert response.status_code == 201, response.text
    detail: dict[str, Any] = response.json()
    return detail


def message(
    text: str | None = None, *, m_id: str | None = None, contact_id: str = CONTACT, **extra: Any
) -> dict[str, Any]:
    """A webhook with one `message` event (a text unless `message=` is given)."""
    body = extra.pop("message", None) or {"type": "text", "text": text}
    event = {
        "type": "message",
        "mId": m_id or f"m-{next(_ids)}",
        "timestamp": 1_790_000_000_000,
        "message": body,
    }
    return {"contactId": contact_id, "events": [event], **extra}


def status(m_id: str, value: str, *, reason: str | None = None, contact_id: str = CONTACT) -> dict[str, Any]:
    state: dict[str, Any] = {"value": value, **({"message": reason} if reason else {})}
    event = {"type": "message_status", "mId": m_id, "timestamp": 1_790_000_000_000, "status": state}
    return {"contactId": contact_id, "events": [event]}


def post_events(
    client: TestClient,
    path: str,
    body: dict[str, Any] | bytes,
    *,
    now: datetime,
    secret: str | None = SECRET,
    signature: str | None = None,
) -> Response:
    """POSTs `body` signed with `secret` at `now` (no signature headers when secret is None)."""
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers.update(signing.headers(secret, now, raw))
    if signature is not None:
        headers[signing.SIGNATURE_HEADER] = signature
    return client.post(path, content=raw, headers=headers)
