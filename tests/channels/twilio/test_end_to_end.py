"""An SMS -> a published workflow -> the reply at the (fake) Twilio API -> its status callbacks."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from convoflow.bootstrap import Container
from convoflow.conversations.models import Message
from convoflow.testing.clock import FakeClock
from tests.channels.fake_twilio import CUSTOMER, MESSAGES, FakeTwilio, incoming, status_callback
from tests.channels.telegram.support import messages_of
from tests.channels.twilio.support import connect_twilio, post_form
from tests.support import login
from tests.workflows.engine.support import OPENED, Harness, definition, step


@pytest.fixture
def h(session: Session, container: Container) -> Harness:
    return Harness(session, container)


@pytest.fixture
def channel(client: TestClient, h: Harness, twilio: FakeTwilio) -> dict[str, Any]:
    login(client, h.world.owner)
    return connect_twilio(client)


def _outgoing(session: Session, channel_id: int) -> list[Message]:
    return [m for m in messages_of(session, channel_id) if m.traffic == "outgoing"]


def test_an_sms_runs_the_workflow_the_reply_is_sent_and_delivered(
    client: TestClient, session: Session, h: Harness, channel: dict[str, Any], twilio: FakeTwilio
) -> None:
    workflow = h.publish(definition(OPENED, step("s1", "send_message", {"text": "Hola 👋, te ayudamos"})))
    assert post_form(client, channel, incoming("Necesito ayuda 🙏", sid="SM" + "d4" * 16)).status_code == 200
    h.drain()
    [sent] = twilio.sent
    assert (sent["To"], sent["Body"], sent["StatusCallback"]) == (
        [CUSTOMER],
        ["Hola 👋, te ayudamos"],
        [channel["webhook_url"]],
    )
    [reply] = _outgoing(session, channel["id"])
    sid = reply.provider_message_id
    assert reply.status == "sent" and sid is not None
    assert h.runs(workflow.id)[0].end_reason == "completed"  # also ends the test's read (one SQLite writer)
    for status in ("queued", "sent", "delivered"):
        assert post_form(client, channel, status_callback(sid, status)).status_code == 200
    [reply] = _outgoing(session, channel["id"])
    assert [entry["status"] for entry in reply.status_history] == ["pending", "sent", "delivered"]


def test_an_undelivered_callback_fails_the_message_with_twilios_error(
    client: TestClient, session: Session, h: Harness, channel: dict[str, Any]
) -> None:
    h.publish(definition(OPENED, step("s1", "send_message", {"text": "Hola"})))
    post_form(client, channel, incoming("hola", sid="SM" + "e5" * 16))
    h.drain()
    [reply] = _outgoing(session, channel["id"])
    sid = reply.provider_message_id
    assert sid is not None
    post_form(client, channel, status_callback(sid, "undelivered", error_code="30003"))
    [reply] = _outgoing(session, channel["id"])
    assert reply.status == "failed"
    assert reply.status_history[-1]["reason"] == "Twilio error 30003: Unreachable destination handset"


def test_a_429_waits_for_retry_after_and_a_timeout_like_500_is_retried(
    client: TestClient,
    session: Session,
    h: Harness,
    channel: dict[str, Any],
    twilio: FakeTwilio,
    clock: FakeClock,
) -> None:
    h.publish(definition(OPENED, step("s1", "send_message", {"text": "Hola"})))
    twilio.fail_next(
        429, {"code": 20429, "message": "Too Many Requests"}, route=MESSAGES, headers={"Retry-After": "60"}
    )
    twilio.fail_next(500, {"code": 20500, "message": "Internal Server Error"}, route=MESSAGES)
    post_form(client, channel, incoming("hola", sid="SM" + "f6" * 16))
    h.drain()
    clock.advance(seconds=59)
    h.drain()
    assert len(twilio.to(MESSAGES)) == 1  # not before Twilio said
    clock.advance(seconds=1)
    h.drain()
    assert len(twilio.to(MESSAGES)) == 2  # the 500
    clock.advance(seconds=10)  # the relay's backoff after a second attempt
    h.drain()
    assert len(twilio.to(MESSAGES)) == 3
    assert _outgoing(session, channel["id"])[0].status == "sent"


def test_a_permanent_error_takes_the_failure_branch(
    client: TestClient, session: Session, h: Harness, channel: dict[str, Any], twilio: FakeTwilio
) -> None:
    workflow = h.publish(
        definition(
            OPENED,
            step("s1", "send_message", {"text": "Hola", "failure_branch": True}, failure="s2"),
            step("s2", "add_comment", {"text": "SMS failed: $var.last_error"}),
        )
    )
    twilio.fail_next(
        400, {"code": 21610, "message": "Attempt to send to unsubscribed recipient"}, route=MESSAGES
    )
    post_form(client, channel, incoming("hola", sid="SM" + "a7" * 16))
    h.drain()
    [reply] = _outgoing(session, channel["id"])
    assert (
        reply.status_history[-1]["reason"] == "Twilio error 21610: Attempt to send to unsubscribed recipient"
    )
    [run] = h.runs(workflow.id)
    assert [s.step_key for s in h.steps(run.id)] == ["s1", "s2"]
