"""A custom-channel event -> a published workflow -> the reply at the external system -> its receipt.

DESIGN §1 end to end over the custom channel (CRM-CHAN-06), with the provider's 429/500 answers retried
through the relay (CRM-MSG-04) and a permanent refusal failing the message (CRM-MSG-03).
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from convoflow.bootstrap import Container
from convoflow.conversations.models import Message
from convoflow.testing.clock import FakeClock
from tests.channels.custom_channel import support
from tests.channels.custom_channel.support import connect_custom, post_events
from tests.channels.fake_custom import PATH, FakeCustomSystem
from tests.channels.telegram.support import messages_of
from tests.support import login
from tests.workflows.engine.support import OPENED, Harness, definition, step


@pytest.fixture
def h(session: Session, container: Container) -> Harness:
    return Harness(session, container)


@pytest.fixture
def channel(client: TestClient, h: Harness, custom: FakeCustomSystem) -> dict[str, Any]:
    login(client, h.world.owner)
    return connect_custom(client, custom)


def _outgoing(session: Session, channel_id: int) -> list[Message]:
    return [m for m in messages_of(session, channel_id) if m.traffic == "outgoing"]


def _say(client: TestClient, channel: dict[str, Any], clock: FakeClock, text: str) -> None:
    body = support.message(text, contact={"firstName": "Zoë"})
    response = post_events(client, channel["webhook_path"], body, now=clock.now())
    assert response.status_code == 200 and response.json()["received"] == 1, response.text


def test_inbound_runs_the_workflow_the_reply_is_delivered_and_its_receipt_recorded(
    client: TestClient,
    session: Session,
    h: Harness,
    channel: dict[str, Any],
    custom: FakeCustomSystem,
    clock: FakeClock,
) -> None:
    workflow = h.publish(
        definition(OPENED, step("s1", "send_message", {"text": "Hola $contact.firstname 👋"}))
    )
    _say(client, channel, clock, "Buenas 🙂")
    assert custom.requests == []  # no workflow code runs inside the request
    h.drain()
    [sent] = custom.messages
    assert (sent["contactId"], sent["message"]) == (support.CONTACT, {"type": "text", "text": "Hola Zoë 👋"})
    [reply] = _outgoing(session, channel["id"])
    assert (reply.status, reply.provider_message_id) == ("sent", "ext-1")
    assert h.runs(workflow.id)[0].end_reason == "completed"

    response = post_events(
        client, channel["webhook_path"], support.status("ext-1", "delivered"), now=clock.now()
    )
    assert response.json()["receipts"] == 1
    [reply] = _outgoing(session, channel["id"])
    assert reply.status == "delivered"
    assert [entry["status"] for entry in reply.status_history] == ["pending", "sent", "delivered"]


def test_a_429_waits_for_retry_after_then_sends_CRM_MSG_04(
    client: TestClient,
    session: Session,
    h: Harness,
    channel: dict[str, Any],
    custom: FakeCustomSystem,
    clock: FakeClock,
) -> None:
    h.publish(definition(OPENED, step("s1", "send_message", {"text": "Hola"})))
    custom.fail_next(429, {"error": "rate limited"}, route=PATH, headers={"Retry-After": "120"})
    _say(client, channel, clock, "hola")
    h.drain()
    assert _outgoing(session, channel["id"])[0].status == "pending" and len(custom.to(PATH)) == 1
    clock.advance(seconds=119)
    h.drain()
    assert len(custom.to(PATH)) == 1  # not before the receiver said
    clock.advance(seconds=1)
    h.drain()
    attempts = custom.to(PATH)
    assert len(attempts) == 2
    assert attempts[0].headers["idempotency-key"] == attempts[1].headers["idempotency-key"]
    assert _outgoing(session, channel["id"])[0].status == "sent"


def test_500s_are_retried_with_backoff_then_the_message_fails_and_the_failure_branch_runs(
    client: TestClient,
    session: Session,
    h: Harness,
    channel: dict[str, Any],
    custom: FakeCustomSystem,
    clock: FakeClock,
) -> None:
    workflow = h.publish(
        definition(
            OPENED,
            step("s1", "send_message", {"text": "Hola", "failure_branch": True}, failure="s2"),
            step("s2", "add_comment", {"text": "Could not send: $var.last_error"}),
        )
    )
    for _ in range(4):
        custom.fail_next(503, {"error": "maintenance"}, route=PATH)
    _say(client, channel, clock, "hola")
    for _ in range(4):
        h.drain()
        clock.advance(minutes=5)
    assert len(custom.to(PATH)) == 4
    [reply] = _outgoing(session, channel["id"])
    assert reply.status == "failed"
    assert reply.status_history[-1]["reason"] == "Custom channel: HTTP 503: maintenance (after 4 attempts)"
    h.drain()
    [run] = h.runs(workflow.id)
    assert run.end_reason == "completed"
    assert [s.step_key for s in h.steps(run.id)] == ["s1", "s2"]


def test_a_permanent_refusal_fails_the_message_with_the_receivers_reason(
    client: TestClient,
    session: Session,
    h: Harness,
    channel: dict[str, Any],
    custom: FakeCustomSystem,
    clock: FakeClock,
) -> None:
    workflow = h.publish(definition(OPENED, step("s1", "send_message", {"text": "Hola"})))
    custom.fail_next(422, {"error": "contact has opted out"}, route=PATH)
    _say(client, channel, clock, "hola")
    h.drain()
    [reply] = _outgoing(session, channel["id"])
    assert reply.status == "failed"
    assert reply.status_history[-1]["reason"] == "Custom channel: HTTP 422: contact has opted out"
    assert len(custom.to(PATH)) == 1
    assert h.runs(workflow.id)[0].end_reason == "send_failed"
