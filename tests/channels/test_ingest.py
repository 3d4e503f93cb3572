"""The channel webhook framework through the built-in test channel: messages, receipts, content rules.

DESIGN §1 steps 1 and 6, CRM-CHAN-02, CRM-MSG-02, CRM-MSG-03.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from convoflow.bootstrap import Container
from convoflow.channels.models import Channel
from convoflow.channels.registry import AdapterRegistry
from convoflow.channels.test_channel import TestChannelAdapter
from convoflow.conversations import messages
from convoflow.conversations.content import TextContent
from convoflow.events.actor import Actor
from convoflow.testing.factories import make_channel, make_contact
from tests.channels.telegram.support import messages_of
from tests.support import World, assert_error, events_of, seed_world


@pytest.fixture
def world(session: Session, container: Container) -> World:
    return seed_world(session, container.hasher)


@pytest.fixture
def channel(session: Session, world: World) -> Channel:
    made = make_channel(session, workspace_id=world.workspace.id, kind="test", name="Test")
    session.commit()
    return made


def _post(client: TestClient, channel: Channel, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"/hooks/channels/{channel.id}/{channel.token}", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _sent_message(session: Session, world: World, channel: Channel, provider_id: str) -> int:
    contact = make_contact(session, workspace_id=world.workspace.id)
    message = messages.create_outgoing(
        session, contact=contact, channel=channel, content=TextContent(text="hola"), actor=Actor.system()
    )
    messages.update_status(session, message=message, status="sent", provider_message_id=provider_id)
    session.commit()
    return message.id


def test_messages_of_one_request_are_stored_together(
    client: TestClient, session: Session, channel: Channel
) -> None:
    body = {
        "messages": [
            {"id": "m1", "from": "v-1", "content": {"type": "text", "text": "hola"}, "first_name": "Ana"},
            {
                "id": "m2",
                "from": "v-2",
                "content": {"type": "location", "latitude": -34.6, "longitude": -58.4},
            },
        ]
    }
    assert _post(client, channel, body) == {"status": "ok", "received": 2, "duplicates": 0, "receipts": 0}
    assert _post(client, channel, body)["duplicates"] == 2  # CRM-CHAN-02
    assert [(m.provider_message_id, m.type) for m in messages_of(session, channel.id)] == [
        ("m1", "text"),
        ("m2", "location"),
    ]


def test_content_breaking_our_rules_is_stored_as_unsupported_CRM_MSG_02(
    client: TestClient, session: Session, channel: Channel
) -> None:
    body = {"messages": [{"id": "m1", "from": "v-1", "content": {"type": "text", "text": "x" * 5000}}]}
    assert _post(client, channel, body)["received"] == 1
    [message] = messages_of(session, channel.id)
    assert (message.type, message.content["description"]) == (
        "unsupported",
        "A text message convoflow cannot show",
    )


def test_receipts_only_move_a_status_forward_CRM_MSG_03(
    client: TestClient, session: Session, world: World, channel: Channel
) -> None:
    message_id = _sent_message(session, world, channel, "out-1")

    def receipt(status: str, provider_id: str = "out-1") -> int:
        result = _post(client, channel, {"receipts": [{"id": provider_id, "status": status}]})
        return int(result["receipts"])

    assert receipt("delivered") == 1
    assert receipt("delivered") == 0  # repeated
    assert receipt("sent") == 0  # stale
    assert receipt("read") == 1
    assert receipt("failed") == 0  # not after read
    assert receipt("delivered", "unknown-id") == 0
    [message] = [m for m in messages_of(session, channel.id) if m.id == message_id]
    assert [entry["status"] for entry in message.status_history] == ["pending", "sent", "delivered", "read"]
    updated = events_of(session, workspace_id=world.workspace.id, type="message.status.updated")
    assert [(e.payload["message_id"], e.payload["status"]) for e in updated] == [
        (message_id, "delivered"),
        (message_id, "read"),
    ]


def test_a_receipt_never_touches_an_incoming_message(
    client: TestClient, session: Session, channel: Channel
) -> None:
    _post(
        client,
        channel,
        {"messages": [{"id": "in-1", "from": "v-1", "content": {"type": "text", "text": "x"}}]},
    )
    assert _post(client, channel, {"receipts": [{"id": "in-1", "status": "read"}]})["receipts"] == 0
    assert messages_of(session, channel.id)[0].status is None


def test_a_body_that_is_not_the_channels_shape_is_400(client: TestClient, channel: Channel) -> None:
    response = client.post(f"/hooks/channels/{channel.id}/{channel.token}", json={"messages": [{"id": "m"}]})
    assert_error(response, 400, "malformed_payload")


def test_a_channel_kind_without_an_adapter_takes_no_webhooks(
    client: TestClient,
    session: Session,
    world: World,
    container: Container,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # every kind ships an adapter; a deployment built without WhatsApp's takes no WhatsApp webhooks
    only_test = AdapterRegistry(
        [TestChannelAdapter(container.test_channel)], secrets=container.adapters.secrets
    )
    monkeypatch.setattr(container, "adapters", only_test)
    whatsapp = make_channel(session, workspace_id=world.workspace.id, kind="whatsapp_cloud", name="WA")
    session.commit()
    response = client.post(f"/hooks/channels/{whatsapp.id}/{whatsapp.token}", json={})
    assert_error(response, 404, "unknown_channel")
