"""A Telegram update -> a published workflow -> the engine -> the reply at the (fake) Bot API.

DESIGN §1 end to end: ingest, dispatch, run, outbox, deliver; retries and failures of the provider
(CRM-MSG-03/04), and a disconnected channel that can no longer send (CRM-CHAN-01).
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from convoflow.bootstrap import Container
from convoflow.conversations.models import Message
from convoflow.testing.clock import FakeClock
from tests.channels.fake_telegram import FakeTelegram
from tests.channels.telegram import updates
from tests.channels.telegram.support import connect_telegram, messages_of, post_update
from tests.support import login
from tests.workflows.engine.support import OPENED, Harness, definition, step


@pytest.fixture
def h(session: Session, container: Container) -> Harness:
    return Harness(session, container)


@pytest.fixture
def bot(client: TestClient, h: Harness) -> dict[str, Any]:
    login(client, h.world.owner)
    return connect_telegram(client)


def _outgoing(session: Session, channel_id: int) -> list[Message]:
    return [m for m in messages_of(session, channel_id) if m.traffic == "outgoing"]


def _say(client: TestClient, bot: dict[str, Any], telegram: FakeTelegram, text: str, message_id: int) -> None:
    update = updates.text(text, message_id=message_id)
    response = post_update(client, bot["webhook_path"], update, secret=telegram.webhook_secret)
    assert response.status_code == 200 and response.json()["received"] == 1, response.text


def test_an_inbound_update_runs_the_workflow_and_the_reply_reaches_telegram(
    client: TestClient, session: Session, h: Harness, bot: dict[str, Any], telegram: FakeTelegram
) -> None:
    workflow = h.publish(
        definition(OPENED, step("s1", "send_message", {"text": "Hola $contact.firstname 👋"}))
    )
    _say(client, bot, telegram, "Buenas 🙂", message_id=501)
    assert telegram.calls_to("sendMessage") == []  # no workflow code runs inside the request
    h.drain()
    assert telegram.calls_to("sendMessage") == [{"chat_id": updates.CHAT_ID, "text": "Hola Zoë 👋"}]
    [reply] = _outgoing(session, bot["id"])
    assert (reply.status, reply.provider_message_id) == ("sent", f"{updates.CHAT_ID}:1001")
    assert [entry["status"] for entry in reply.status_history] == ["pending", "sent"]
    [run] = h.runs(workflow.id)
    assert (run.status, run.end_reason) == ("ended", "completed")


def test_a_question_becomes_a_keyboard_and_the_pressed_answer_continues_the_run(
    client: TestClient, session: Session, h: Harness, bot: dict[str, Any], telegram: FakeTelegram
) -> None:
    question = {
        "question": "¿Cómo quieres pagar?",
        "question_type": "multiple_choice",
        "options": ["Tarjeta", "Efectivo"],
        "save_variable": "pago",
    }
    workflow = h.publish(
        definition(
            OPENED,
            step("s1", "ask_question", question, next="s2"),
            step("s2", "send_message", {"text": "Anotado: $var.pago"}),
        )
    )
    _say(client, bot, telegram, "Quiero comprar", message_id=601)
    h.drain()
    [asked] = telegram.calls_to("sendMessage")
    assert asked["text"] == "¿Cómo quieres pagar?"
    assert asked["reply_markup"]["keyboard"] == [[{"text": "Tarjeta"}], [{"text": "Efectivo"}]]
    _say(client, bot, telegram, "Efectivo", message_id=602)  # a reply keyboard press is a plain text
    h.drain()
    assert telegram.calls_to("sendMessage")[-1] == {"chat_id": updates.CHAT_ID, "text": "Anotado: Efectivo"}
    assert h.runs(workflow.id)[0].end_reason == "completed"


def test_a_429_is_retried_after_telegrams_retry_after_without_sleeping_CRM_MSG_04(
    client: TestClient,
    session: Session,
    h: Harness,
    bot: dict[str, Any],
    telegram: FakeTelegram,
    clock: FakeClock,
) -> None:
    h.publish(definition(OPENED, step("s1", "send_message", {"text": "Hola"})))
    telegram.fail_next(
        "sendMessage",
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 30",
            "parameters": {"retry_after": 30},
        },
    )
    _say(client, bot, telegram, "hola", message_id=701)
    h.drain()
    [reply] = _outgoing(session, bot["id"])
    assert reply.status == "pending" and len(telegram.calls_to("sendMessage")) == 1
    clock.advance(seconds=29)
    h.drain()
    assert len(telegram.calls_to("sendMessage")) == 1  # not before Telegram said
    clock.advance(seconds=1)
    h.drain()
    assert len(telegram.calls_to("sendMessage")) == 2
    assert _outgoing(session, bot["id"])[0].status == "sent"


def test_a_400_fails_the_message_with_telegrams_description_CRM_MSG_03(
    client: TestClient, session: Session, h: Harness, bot: dict[str, Any], telegram: FakeTelegram
) -> None:
    workflow = h.publish(definition(OPENED, step("s1", "send_message", {"text": "Hola"})))
    telegram.fail_next(
        "sendMessage",
        403,
        {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"},
    )
    _say(client, bot, telegram, "hola", message_id=801)
    h.drain()
    [reply] = _outgoing(session, bot["id"])
    assert reply.status == "failed"
    assert reply.status_history[-1]["reason"] == "Telegram: Forbidden: bot was blocked by the user"
    assert len(telegram.calls_to("sendMessage")) == 1  # permanent: no retry
    [run] = h.runs(workflow.id)
    assert (run.status, run.end_reason) == ("ended", "send_failed")


def test_sends_from_a_disconnected_channel_fail_CRM_CHAN_01(
    client: TestClient, session: Session, h: Harness, bot: dict[str, Any], telegram: FakeTelegram
) -> None:
    workflow = h.publish(definition(OPENED, step("s1", "send_message", {"text": "Hola"})))
    _say(client, bot, telegram, "hola", message_id=901)
    while h.engine.contacts_once():  # the run queues its message; the relay has not sent it yet
        pass
    assert client.delete(f"/api/channels/{bot['id']}").status_code == 200
    h.drain()
    assert telegram.calls_to("sendMessage") == []
    [queued] = _outgoing(session, bot["id"])
    assert queued.status == "failed"
    assert queued.status_history[-1]["reason"] == "The channel 'Soporte bot' is not connected"
    assert h.runs(workflow.id)[0].end_reason == "send_failed"
