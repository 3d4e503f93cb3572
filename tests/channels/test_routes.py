"""GET /api/channels: the caller's workspace's channels, without secrets (CRM-CHAN-01, CRM-WS-01)."""

from __future__ import annotations

from datetime import datetime

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from convoflow.bootstrap import Container
from convoflow.testing.clock import FakeClock
from convoflow.testing.factories import make_channel
from tests.support import assert_error, login, seed_world


def test_list_shows_only_the_workspace_channels_in_creation_order(
    client: TestClient, session: Session, container: Container, clock: FakeClock
) -> None:
    world = seed_world(session, container.hasher)
    other = seed_world(session, container.hasher, name="Other")
    bot = make_channel(session, workspace_id=world.workspace.id, kind="telegram", name="Bot")
    make_channel(session, workspace_id=other.workspace.id, kind="webchat", name="Their web chat")
    web = make_channel(session, workspace_id=world.workspace.id, kind="webchat", name="Web Chat")
    session.commit()
    login(client, world.agent)  # every role sees the channels (the inbox needs them)
    response = client.get("/api/channels")
    assert response.status_code == 200, response.text
    listed = response.json()
    assert [c["id"] for c in listed] == [bot.id, web.id]
    assert listed[0] == {
        "id": bot.id,
        "kind": "telegram",
        "name": "Bot",
        "state": "connected",
        "created_at": listed[0]["created_at"],
    }
    assert datetime.fromisoformat(listed[0]["created_at"]) == clock.now()
    # Webhook tokens and credentials never leave the server.
    assert bot.token not in response.text and "config" not in listed[0] and "token" not in listed[0]


def test_list_is_empty_for_a_workspace_without_channels(
    client: TestClient, session: Session, container: Container
) -> None:
    world = seed_world(session, container.hasher)
    other = seed_world(session, container.hasher, name="Other")
    make_channel(session, workspace_id=other.workspace.id)
    session.commit()
    login(client, world.owner)
    assert client.get("/api/channels").json() == []


def test_list_needs_a_signed_in_caller(client: TestClient, session: Session, container: Container) -> None:
    world = seed_world(session, container.hasher)
    make_channel(session, workspace_id=world.workspace.id)
    session.commit()
    assert_error(client.get("/api/channels"), 401, "unauthenticated")
    assert_error(client.post("/api/channels", json={"kind": "test", "name": "x"}), 401, "unauthenticated")
