"""A WhatsApp message -> a published workflow -> the reply at the (fake) Graph API -> status webhooks,
and the 24-hour window (CRM-CHAN-03, WF-STEP-SEND-03/05) decided at send time by the relay's clock."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from convoflow.bootstrap import Container
from convoflow.channels.whatsapp_cloud.outbound import WINDOW_CLOSED
from convoflow.conversations.models import Message
from convoflow.testing.clock import FakeClock
from tests.channels.fake_whatsapp import WA_ID, FakeWhatsapp, message, notification, status
from tests.channels.telegram.support import messages_of
from tests.channels.whatsapp_cloud.support import connect_whatsapp, post_notification
from tests.support import login
from tests.workflows.engine.support import OPENED, Harness, definition, step


@pytest.fixture
def h(session: Session, container: Container) -> Harness:
    return Harness(session, container)


@pytest.fixture
def channel(client: TestClient, h: Harness, whatsapp: FakeWhatsapp) -> dict[str, Any]:
    login(client, h.world.owner)
    return connect_whatsapp(client)


def _outgoing(session: Session, channel_id: int) -> list[Message]:
    return [m for m in messages_of(session, channel_id) if m.traffic == "outgoing"]


def _say(client: TestClient, channel: dict[str, Any], text: str, wamid: str) -> None:
    body = notification(messages=[message("text", {"body": text}, wamid=wamid)])
    response = post_notification(client, channel, body)
    assert response.status_code == 200 and response.json()["received"] == 1, response.text


def _after_a_wait(hours: int, send: dict[str, Any]) -> dict[str, Any]:
    return definition(
        OPENED,
        step("w", "wait", {"amount": hours, "unit": "hours"}, next="s1"),
        step("s1", "send_message", {**send, "failure_branch": True}, failure="s2"),
        step("s2", "add_comment", {"text": "Not sent: $var.last_error"}),
    )


def test_inbound_runs_the_workflow_the_reply_is_delivered_then_read(
    client: TestClient, session: Session, h: Harness, channel: dict[str, Any], whatsapp: FakeWhatsapp
) -> None:
    workflow = h.publish(
        definition(OPENED, step("s1", "send_message", {"text": "Hola $contact.firstname 👋"}))
    )
    _say(client, channel, "Buenas 🙂", "wamid.in1")
    h.drain()
    [sent] = whatsapp.sent
    assert (sent["to"], sent["text"]["body"]) == (WA_ID, "Hola Zoë 👋")
    [reply] = _outgoing(session, channel["id"])
    wamid = reply.provider_message_id
    assert reply.status == "sent" and wamid is not None
    assert h.runs(workflow.id)[0].end_reason == "completed"
    for state in ("sent", "delivered"):
        assert (
            post_notification(client, channel, notification(statuses=[status(wamid, state)])).status_code
            == 200
        )
    assert _outgoing(session, channel["id"])[0].status == "delivered"
    post_notification(client, channel, notification(statuses=[status(wamid, "read")]))
    [reply] = _outgoing(session, channel["id"])
    assert [entry["status"] for entry in reply.status_history] == ["pending", "sent", "delivered", "read"]


def test_a_failed_status_webhook_fails_the_message_with_metas_error(
    client: TestClient, session: Session, h: Harness, channel: dict[str, Any]
) -> None:
    h.publish(definition(OPENED, step("s1", "send_message", {"text": "Hola"})))
    _say(client, channel, "hola", "wamid.in2")
    h.drain()
    wamid = _outgoing(session, channel["id"])[0].provider_message_id
    assert wamid is not None
    errors = [
        {"code": 131026, "title": "Message undeliverable", "error_data": {"details": "Receiver incapable"}}
    ]
    post_notification(client, channel, notification(statuses=[status(wamid, "failed", errors=errors)]))
    [reply] = _outgoing(session, channel["id"])
    assert reply.status == "failed"
    assert (
        reply.status_history[-1]["reason"]
        == "WhatsApp error 131026: Message undeliverable (Receiver incapable)"
    )


def test_a_send_inside_the_24_hour_window_succeeds(
    client: TestClient,
    session: Session,
    h: Harness,
    channel: dict[str, Any],
    whatsapp: FakeWhatsapp,
    clock: FakeClock,
) -> None:
    workflow = h.publish(_after_a_wait(23, {"text": "¿Pudiste resolverlo?"}))
    _say(client, channel, "hola", "wamid.in3")
    h.drain()
    clock.advance(hours=23)
    h.drain()
    assert [sent["text"]["body"] for sent in whatsapp.sent] == ["¿Pudiste resolverlo?"]
    [run] = h.runs(workflow.id)
    assert [s.step_key for s in h.steps(run.id)] == ["w", "s1"]


def test_a_free_form_send_outside_the_window_takes_the_failure_branch_CRM_CHAN_03(
    client: TestClient,
    session: Session,
    h: Harness,
    channel: dict[str, Any],
    whatsapp: FakeWhatsapp,
    clock: FakeClock,
) -> None:
    workflow = h.publish(_after_a_wait(25, {"text": "¿Sigues ahí?"}))
    _say(client, channel, "hola", "wamid.in4")
    h.drain()
    clock.advance(hours=25)
    h.drain()
    assert whatsapp.sent == []  # refused before Meta is called
    [reply] = _outgoing(session, channel["id"])
    assert (reply.status, reply.status_history[-1]["reason"]) == ("failed", WINDOW_CLOSED)
    h.drain()
    [run] = h.runs(workflow.id)
    assert [s.step_key for s in h.steps(run.id)] == ["w", "s1", "s2"]


def test_without_a_failure_branch_the_run_ends_send_failed(
    client: TestClient, session: Session, h: Harness, channel: dict[str, Any], clock: FakeClock
) -> None:
    workflow = h.publish(
        definition(
            OPENED,
            step("w", "wait", {"amount": 2, "unit": "days"}, next="s1"),
            step("s1", "send_message", {"text": "¿Sigues ahí?"}),
        )
    )
    _say(client, channel, "hola", "wamid.in5")
    h.drain()
    clock.advance(days=2)
    h.drain()
    [run] = h.runs(workflow.id)
    assert (run.status, run.end_reason) == ("ended", "send_failed")


def test_a_template_is_sent_outside_the_window(
    client: TestClient,
    session: Session,
    h: Harness,
    channel: dict[str, Any],
    whatsapp: FakeWhatsapp,
    clock: FakeClock,
) -> None:
    template = {
        "channel": {"ref": "channel", "id": channel["id"]},
        "kind": "whatsapp_template",
        "template": {"name": "follow_up", "language_code": "es", "parameters": ["$contact.firstname"]},
    }
    workflow = h.publish(_after_a_wait(48, {"text": "fallback", "channel_responses": [template]}))
    _say(client, channel, "hola", "wamid.in6")
    h.drain()
    clock.advance(hours=48)
    h.drain()
    [sent] = whatsapp.sent
    assert sent["type"] == "template"
    assert sent["template"] == {
        "name": "follow_up",
        "language": {"code": "es"},
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "Zoë"}]}],
    }
    [run] = h.runs(workflow.id)
    assert [s.step_key for s in h.steps(run.id)] == ["w", "s1"]
