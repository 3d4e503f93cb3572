"""Connecting a Telegram channel through the API and posting updates to its webhook."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from convoflow.channels.telegram.adapter import SECRET_HEADER
from convoflow.contacts.models import Contact
from convoflow.conversations.models import Conversation, Message
from convoflow.events.models import Event
from tests.channels.fake_telegram import TOKEN


def connect_telegram(client: TestClient, *, name: str = "Soporte bot", token: str = TOKEN) -> dict[str, Any]:
    """Connects a bot as the signed-in user of `client`; the fake server answers getMe and setWebhook."""
    response = client.post(
        "/api/channels", json={"kind": "telegram", "name": name, "credentials": {"bot_token": token}}
    )
    assert response.status_code == 201, response.text
    detail: dict[str, Any] = response.json()
    return detail


def post_update(
    client: TestClient, path: str, body: dict[str, Any] | bytes, *, secret: str | None
) -> Response:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[SECRET_HEADER] = secret
    content = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    return client.post(path, content=content, headers=headers)


def stored(session: Session, workspace_id: int) -> dict[str, int]:
    """How many contacts, conversations, messages and events the workspace has."""
    counts = {
        name: session.scalar(
            select(func.count()).select_from(model).where(model.workspace_id == workspace_id)
        )
        or 0
        for name, model in (
            ("contacts", Contact),
            ("conversations", Conversation),
            ("messages", Message),
            ("events", Event),
        )
    }
    session.commit()  # end the read: on SQLite the API writes next
    return counts


def messages_of(session: Session, channel_id: int) -> list[Message]:
    query = select(Message).where(Message.channel_id == channel_id).order_by(Message.id)
    rows = list(session.scalars(query.execution_options(populate_existing=True)))
    session.commit()
    return rows
