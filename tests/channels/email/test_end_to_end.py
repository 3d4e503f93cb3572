"""An inbound email -> a published workflow -> the reply at the SMTP server, in the same thread.

DESIGN §1 end to end over the email channel: the reply names the inbound Message-ID (WF-STEP-SEND-06),
4xx answers are retried through the relay (CRM-MSG-04) and 5xx answers fail the message (CRM-MSG-03).
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from convoflow.bootstrap import Container
from convoflow.contacts.models import Contact
from convoflow.conversations.models import Message
from convoflow.testing.clock import FakeClock
from tests.channels.email.support import SENDER, connect_email, mail, post_mail
from tests.channels.fake_smtp import FakeSmtp
from tests.channels.telegram.support import messages_of
from tests.support import login
from tests.workflows.engine.support import OPENED, Harness, definition, step


@pytest.fixture
def h(session: Session, container: Container) -> Harness:
    return Harness(session, container)


@pytest.fixture
def channel(client: TestClient, h: Harness, smtp: FakeSmtp) -> dict[str, Any]:
    login(client, h.world.owner)
    return connect_email(client, smtp)


def _outgoing(session: Session, channel_id: int) -> list[Message]:
    return [m for m in messages_of(session, channel_id) if m.traffic == "outgoing"]


def _write(client: TestClient, channel: dict[str, Any], clock: FakeClock, raw: bytes) -> None:
    response = post_mail(client, channel["webhook_path"], raw, now=clock.now())
    assert response.status_code == 200 and response.json()["received"] == 1, response.text


def test_inbound_email_runs_the_workflow_and_the_reply_arrives_in_the_same_thread(
    client: TestClient,
    session: Session,
    h: Harness,
    channel: dict[str, Any],
    smtp: FakeSmtp,
    clock: FakeClock,
) -> None:
    workflow = h.publish(
        definition(
            OPENED,
            step("s1", "send_message", {"text": "Hola $contact.firstname 👋"}, next="s2"),
            step("s2", "send_message", {"text": "Anything else?"}),
        )
    )
    _write(client, channel, clock, mail("Buenas 🙂", message_id="<q-1@example.com>", subject="Pedido"))
    assert smtp.received == []  # no workflow code runs inside the request
    h.drain()
    assert [r.recipients for r in smtp.received] == [[SENDER], [SENDER]]
    first, second = (r.email for r in smtp.received)
    assert first["In-Reply-To"] == second["In-Reply-To"] == "<q-1@example.com>"
    assert first["Subject"] == second["Subject"] == "Re: Pedido"
    plain = first.get_body(("plain",))
    assert plain is not None and plain.get_content().rstrip("\n") == "Hola Zoë 👋"
    replies = _outgoing(session, channel["id"])
    assert [(m.status, m.provider_message_id) for m in replies] == [
        ("sent", first["Message-ID"]),
        ("sent", second["Message-ID"]),
    ]
    assert h.runs(workflow.id)[0].end_reason == "completed"


def test_a_4xx_is_retried_with_the_same_message_id_then_sent_CRM_MSG_04(
    client: TestClient,
    session: Session,
    h: Harness,
    channel: dict[str, Any],
    smtp: FakeSmtp,
    clock: FakeClock,
) -> None:
    h.publish(definition(OPENED, step("s1", "send_message", {"text": "Hola"})))
    smtp.fail_next("421 4.7.0 Too many connections, slow down")
    _write(client, channel, clock, mail("hola"))
    h.drain()
    assert smtp.received == [] and _outgoing(session, channel["id"])[0].status == "pending"
    clock.advance(minutes=1)
    h.drain()
    [received] = smtp.received
    [reply] = _outgoing(session, channel["id"])
    assert (reply.status, reply.provider_message_id) == ("sent", received.email["Message-ID"])


def test_a_5xx_fails_the_message_with_the_servers_words_and_the_run_ends_send_failed(
    client: TestClient,
    session: Session,
    h: Harness,
    channel: dict[str, Any],
    smtp: FakeSmtp,
    clock: FakeClock,
) -> None:
    workflow = h.publish(definition(OPENED, step("s1", "send_message", {"text": "Hola"})))
    smtp.fail_next("550 5.1.1 Mailbox does not exist")
    _write(client, channel, clock, mail("hola"))
    h.drain()
    [reply] = _outgoing(session, channel["id"])
    assert reply.status == "failed"
    assert reply.status_history[-1]["reason"] == "SMTP: 550 5.1.1 Mailbox does not exist"
    assert h.runs(workflow.id)[0].end_reason == "send_failed"


def test_an_auto_reply_never_triggers_a_workflow(
    client: TestClient,
    session: Session,
    h: Harness,
    channel: dict[str, Any],
    smtp: FakeSmtp,
    clock: FakeClock,
) -> None:
    workflow = h.publish(definition(OPENED, step("s1", "send_message", {"text": "Hola"})))
    raw = mail("I am out of office", headers={"Auto-Submitted": "auto-replied"})
    response = post_mail(client, channel["webhook_path"], raw, now=clock.now())
    assert response.json()["received"] == 0
    h.drain()
    assert h.runs(workflow.id) == [] and smtp.received == []
    assert messages_of(session, channel["id"]) == []


def test_emails_to_a_contact_who_never_wrote_by_email_thread_on_the_first_one_WF_STEP_SEND_06(
    session: Session, h: Harness, channel: dict[str, Any], smtp: FakeSmtp
) -> None:
    to_email = {"channel": {"ref": "channel", "id": channel["id"]}}
    h.publish(
        definition(
            OPENED,
            step("s1", "send_message", {"text": "First", **to_email}, next="s2"),
            step("s2", "send_message", {"text": "Second", **to_email}),
        )
    )
    received = h.inbound("visitor-1", "hi")  # on the test channel
    contact = session.get(Contact, received.contact.id)
    assert contact is not None
    contact.email = "ana@example.com"
    session.commit()
    h.drain()
    first, second = (r.email for r in smtp.received)
    assert [r.recipients for r in smtp.received] == [["ana@example.com"], ["ana@example.com"]]
    assert first["In-Reply-To"] is None and first["Subject"] == "Message from Shop Support"
    assert second["In-Reply-To"] == second["References"] == first["Message-ID"]
    assert second["Subject"] == "Message from Shop Support"  # our texts carry no subject to answer
