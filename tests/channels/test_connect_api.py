"""Connecting, updating and disconnecting channels through /api/channels (CRM-CHAN-01, CRM-ROLE-01).

Telegram stands in for every provider: its fake Bot API server answers getMe, setWebhook and
deleteWebhook. Credentials are stored encrypted and never come back in a response.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from convoflow.accounts.principal import Restrictions
from convoflow.bootstrap import Container
from convoflow.channels.models import Channel
from convoflow.channels.registry import AdapterRegistry
from convoflow.channels.test_channel import TestChannelAdapter
from convoflow.testing.factories import make_member
from tests.channels.fake_telegram import OTHER_TOKEN, TOKEN, FakeTelegram
from tests.channels.telegram import updates
from tests.channels.telegram.support import connect_telegram, messages_of, post_update
from tests.support import World, assert_error, login, seed_world

UNKNOWN_TOKEN = "5555555:AAUnknownTokenUnknownTokenUnknown_xyz"


@pytest.fixture
def world(session: Session, container: Container) -> World:
    return seed_world(session, container.hasher)


def _channels(session: Session, workspace_id: int) -> list[Channel]:
    query = select(Channel).where(Channel.workspace_id == workspace_id).order_by(Channel.id)
    # Fresh rows without expiring the others: reloading `world` later would open a write transaction.
    rows = list(session.scalars(query.execution_options(populate_existing=True)))
    session.commit()
    return rows


def test_an_owner_connects_a_telegram_bot_and_gets_its_webhook_CRM_CHAN_01(
    client: TestClient, session: Session, container: Container, world: World, telegram: FakeTelegram
) -> None:
    login(client, world.owner)
    response = client.post(
        "/api/channels", json={"kind": "telegram", "name": " Soporte ", "credentials": {"bot_token": TOKEN}}
    )
    assert response.status_code == 201, response.text
    detail = response.json()
    [channel] = _channels(session, world.workspace.id)
    path = f"/hooks/channels/{channel.id}/{channel.token}"
    assert detail == {
        "id": channel.id,
        "kind": "telegram",
        "name": "Soporte",
        "state": "connected",
        "created_at": detail["created_at"],
        "settings": {"bot_id": 123456789, "bot_username": "convoflow_test_bot"},
        "webhook_path": path,
        "webhook_url": "https://convoflow.example" + path,
        "has_credentials": True,
    }
    # The provider was pointed at that URL with a secret of ours...
    [webhook] = telegram.calls_to("setWebhook")
    assert webhook["url"] == "https://convoflow.example" + path and len(webhook["secret_token"]) >= 32
    # ...which, like the bot token, is stored encrypted and never shown.
    assert channel.secrets is not None
    assert TOKEN not in channel.secrets and webhook["secret_token"] not in channel.secrets
    assert container.adapters.secrets.open(channel.secrets) == {
        "bot_token": TOKEN,
        "webhook_secret": webhook["secret_token"],
    }
    assert TOKEN not in response.text and webhook["secret_token"] not in response.text


def test_a_manager_may_connect_and_an_agent_may_not_CRM_ROLE_01(
    client: TestClient, session: Session, world: World, telegram: FakeTelegram
) -> None:
    login(client, world.agent)
    body = {"kind": "telegram", "name": "Bot", "credentials": {"bot_token": TOKEN}}
    assert_error(client.post("/api/channels", json=body), 403, "role_required")
    assert _channels(session, world.workspace.id) == [] and telegram.calls == []
    login(client, world.manager)
    assert client.post("/api/channels", json=body).status_code == 201


def test_a_manager_restricted_from_settings_may_not_connect_CRM_ROLE_02(
    client: TestClient, session: Session, container: Container, world: World, telegram: FakeTelegram
) -> None:
    restricted = make_member(
        session,
        container.hasher,
        workspace=world.workspace,
        role="manager",
        restrictions=Restrictions(restrict_space_setting=True),
    )
    session.commit()
    login(client, restricted)
    body = {"kind": "telegram", "name": "Bot", "credentials": {"bot_token": TOKEN}}
    assert_error(client.post("/api/channels", json=body), 403, "restricted")
    assert telegram.calls == []


@pytest.mark.parametrize(
    ("credentials", "field"),
    [
        ({}, "credentials.bot_token"),
        ({"bot_token": "not-a-token"}, "credentials.bot_token"),
        ({"bot_token": "123:short"}, "credentials.bot_token"),
        ({"bot_token": TOKEN, "extra": "x"}, "credentials.extra"),
    ],
    ids=["missing", "garbage", "short", "unknown-field"],
)
def test_invalid_credentials_are_422_naming_the_field_and_nothing_is_stored(
    client: TestClient,
    session: Session,
    world: World,
    telegram: FakeTelegram,
    credentials: dict[str, Any],
    field: str,
) -> None:
    login(client, world.owner)
    response = client.post(
        "/api/channels", json={"kind": "telegram", "name": "Bot", "credentials": credentials}
    )
    body = assert_error(response, 422, "invalid_credentials")
    assert field in [detail["field"] for detail in body["details"]]
    assert "not-a-token" not in response.text  # a credential is not echoed, even a wrong one
    assert _channels(session, world.workspace.id) == [] and telegram.calls == []


def test_a_token_telegram_refuses_is_422_and_nothing_is_stored(
    client: TestClient, session: Session, world: World, telegram: FakeTelegram
) -> None:
    login(client, world.owner)
    response = client.post(
        "/api/channels", json={"kind": "telegram", "name": "Bot", "credentials": {"bot_token": UNKNOWN_TOKEN}}
    )
    body = assert_error(response, 422, "channel_connect_failed")
    assert "Unauthorized" in body["message"] and UNKNOWN_TOKEN not in response.text
    assert _channels(session, world.workspace.id) == []
    # The name is free again.
    assert connect_telegram(client, name="Bot")["name"] == "Bot"


def test_a_refused_webhook_url_is_422_and_nothing_is_stored(
    client: TestClient, session: Session, world: World, telegram: FakeTelegram
) -> None:
    login(client, world.owner)
    telegram.fail_next(
        "setWebhook",
        400,
        {
            "ok": False,
            "error_code": 400,
            "description": "Bad Request: bad webhook: HTTPS url must be provided",
        },
    )
    response = client.post(
        "/api/channels", json={"kind": "telegram", "name": "Bot", "credentials": {"bot_token": TOKEN}}
    )
    assert "HTTPS url must be provided" in assert_error(response, 422, "channel_connect_failed")["message"]
    assert _channels(session, world.workspace.id) == []


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("whatsapp_cloud", "channel_kind_unavailable"),
        ("facebook", "validation_error"),
        ("", "validation_error"),
    ],
)
def test_a_kind_without_an_adapter_is_422(
    client: TestClient,
    session: Session,
    world: World,
    container: Container,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    error: str,
) -> None:
    # every kind ships an adapter; a deployment built without WhatsApp's must refuse to connect one
    only_test = AdapterRegistry(
        [TestChannelAdapter(container.test_channel)], secrets=container.adapters.secrets
    )
    monkeypatch.setattr(container, "adapters", only_test)
    login(client, world.owner)
    body = assert_error(client.post("/api/channels", json={"kind": kind, "name": "X"}), 422, error)
    assert body["details"][0]["field"] == "kind"
    assert _channels(session, world.workspace.id) == []


def test_a_taken_name_is_409_before_the_provider_is_called(
    client: TestClient, session: Session, world: World, telegram: FakeTelegram
) -> None:
    login(client, world.owner)
    connect_telegram(client, name="Bot")
    telegram.reset()
    response = client.post(
        "/api/channels", json={"kind": "telegram", "name": "BOT", "credentials": {"bot_token": OTHER_TOKEN}}
    )
    assert_error(response, 409, "channel_name_taken")
    assert telegram.calls == [] and len(_channels(session, world.workspace.id)) == 1


def test_the_detail_is_for_owners_and_managers_of_the_workspace(
    client: TestClient, session: Session, container: Container, world: World, telegram: FakeTelegram
) -> None:
    login(client, world.owner)
    bot = connect_telegram(client)
    got = client.get(f"/api/channels/{bot['id']}")
    assert got.status_code == 200 and got.json() == bot
    listed = client.get("/api/channels").json()
    assert listed[0].keys() == {"id", "kind", "name", "state", "created_at"}  # no URL in the list
    login(client, world.agent)
    assert_error(client.get(f"/api/channels/{bot['id']}"), 403, "role_required")
    other = seed_world(session, container.hasher, name="Other")
    login(client, other.owner)
    assert_error(client.get(f"/api/channels/{bot['id']}"), 404, "not_found")
    assert_error(client.patch(f"/api/channels/{bot['id']}", json={"name": "Mine"}), 404, "not_found")
    assert_error(client.delete(f"/api/channels/{bot['id']}"), 404, "not_found")


def test_rename_keeps_the_connection(
    client: TestClient, session: Session, world: World, telegram: FakeTelegram
) -> None:
    login(client, world.owner)
    bot = connect_telegram(client)
    connect_telegram(client, name="Ventas", token=OTHER_TOKEN)
    telegram.reset()
    response = client.patch(f"/api/channels/{bot['id']}", json={"name": "Soporte 24h"})
    assert response.status_code == 200 and response.json()["name"] == "Soporte 24h"
    assert telegram.calls == []  # no credentials, no provider call
    assert_error(
        client.patch(f"/api/channels/{bot['id']}", json={"name": "ventas"}), 409, "channel_name_taken"
    )
    assert_error(client.patch(f"/api/channels/{bot['id']}", json={"name": " "}), 422, "validation_error")
    assert [c.name for c in _channels(session, world.workspace.id)] == ["Soporte 24h", "Ventas"]


def test_new_credentials_register_the_webhook_again_with_a_new_secret(
    client: TestClient, session: Session, world: World, telegram: FakeTelegram
) -> None:
    login(client, world.owner)
    bot = connect_telegram(client)
    old_secret = telegram.webhook_secret
    response = client.patch(f"/api/channels/{bot['id']}", json={"credentials": {"bot_token": OTHER_TOKEN}})
    assert response.status_code == 200, response.text
    assert OTHER_TOKEN not in response.text and telegram.calls[-1].token == OTHER_TOKEN
    new_secret = telegram.webhook_secret
    assert new_secret != old_secret
    # The old bot, if still pointed at us, is refused; the new one is heard.
    assert_error(post_update(client, bot["webhook_path"], updates.text("hola"), secret=old_secret), 401)
    assert (
        post_update(client, bot["webhook_path"], updates.text("hola"), secret=new_secret).status_code == 200
    )


def test_refused_new_credentials_change_nothing(
    client: TestClient, session: Session, container: Container, world: World, telegram: FakeTelegram
) -> None:
    login(client, world.owner)
    bot = connect_telegram(client)
    [before] = _channels(session, world.workspace.id)
    response = client.patch(
        f"/api/channels/{bot['id']}", json={"name": "Nuevo", "credentials": {"bot_token": UNKNOWN_TOKEN}}
    )
    assert_error(response, 422, "channel_connect_failed")
    [after] = _channels(session, world.workspace.id)
    assert (after.name, after.secrets, after.state) == (before.name, before.secrets, "connected")
    login(client, world.agent)
    assert_error(client.patch(f"/api/channels/{bot['id']}", json={"name": "Agente"}), 403, "role_required")


def test_disconnect_keeps_the_history_erases_the_credentials_and_tells_telegram_CRM_CHAN_01(
    client: TestClient, session: Session, world: World, telegram: FakeTelegram
) -> None:
    login(client, world.owner)
    bot = connect_telegram(client)
    assert (
        post_update(client, bot["webhook_path"], updates.text("hola"), secret=telegram.webhook_secret).json()[
            "received"
        ]
        == 1
    )
    login(client, world.agent)
    assert_error(client.delete(f"/api/channels/{bot['id']}"), 403, "role_required")
    login(client, world.manager)
    response = client.delete(f"/api/channels/{bot['id']}")
    assert response.status_code == 200
    assert response.json()["state"] == "disconnected" and response.json()["has_credentials"] is False
    assert telegram.calls_to("deleteWebhook") == [{}] and telegram.calls[-1].token == TOKEN
    [channel] = _channels(session, world.workspace.id)
    assert (channel.state, channel.secrets) == ("disconnected", None)
    assert client.get("/api/channels").json()[0]["state"] == "disconnected"
    [kept] = messages_of(session, channel.id)  # the history stays
    assert kept.content == {"type": "text", "text": "hola"}
    # Disconnecting again changes nothing and calls nobody.
    assert client.delete(f"/api/channels/{bot['id']}").status_code == 200
    assert len(telegram.calls_to("deleteWebhook")) == 1


def test_a_disconnected_channel_connects_again_with_credentials(
    client: TestClient, world: World, telegram: FakeTelegram
) -> None:
    login(client, world.owner)
    bot = connect_telegram(client)
    client.delete(f"/api/channels/{bot['id']}")
    response = client.patch(f"/api/channels/{bot['id']}", json={"credentials": {"bot_token": TOKEN}})
    assert response.status_code == 200 and response.json()["state"] == "connected"
    assert (
        post_update(
            client, bot["webhook_path"], updates.text("de vuelta"), secret=telegram.webhook_secret
        ).status_code
        == 200
    )
