"""A web chat channel in the harness workspace, and helpers to talk to it as a widget would."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from convoflow.channels.models import Channel
from convoflow.contacts.models import Contact
from convoflow.conversations.models import Message
from convoflow.events.models import Event
from convoflow.testing.factories import make_channel
from tests.workflows.engine.support import Harness


@dataclass
class Chat:
    channel: Channel
    key: str

    @classmethod
    def create(cls, h: Harness) -> Chat:
        channel = make_channel(h.session, workspace_id=h.world.workspace.id, kind="webchat", name="Web Chat")
        h.session.commit()
        return cls(channel, channel.token)

    @property
    def base(self) -> str:
        return f"/webchat/{self.key}"


def new_visitor(client: TestClient, chat: Chat) -> str:
    response = client.post(f"{chat.base}/visitors")
    assert response.status_code == 201, response.text
    token: str = response.json()["token"]
    return token


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def post_frame(client: TestClient, chat: Chat, token: str | None, frame: dict[str, Any] | bytes) -> Response:
    body = frame if isinstance(frame, bytes) else json.dumps(frame, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json", **(auth(token) if token else {})}
    return client.post(f"{chat.base}/messages", content=body, headers=headers)


def say(client: TestClient, chat: Chat, token: str, text: str, client_id: str) -> None:
    response = post_frame(client, chat, token, {"type": "text", "client_id": client_id, "text": text})
    assert response.status_code == 200 and response.json()["received"] == 1, response.text


def poll(client: TestClient, chat: Chat, token: str, after: int = 0) -> dict[str, Any]:
    response = client.get(f"{chat.base}/messages", params={"after": after}, headers=auth(token))
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def counts(session: Session, workspace_id: int) -> dict[str, int]:
    """How many contacts, messages and events the workspace has."""
    result = {
        name: session.scalar(
            select(func.count()).select_from(model).where(model.workspace_id == workspace_id)
        )
        or 0
        for name, model in (("contacts", Contact), ("messages", Message), ("events", Event))
    }
    session.commit()  # end the read: on SQLite the API writes next
    return result


def messages_of(session: Session, channel_id: int) -> list[Message]:
    query = select(Message).where(Message.channel_id == channel_id).order_by(Message.id)
    rows = list(session.scalars(query.execution_options(populate_existing=True)))
    session.commit()
    return rows
