"""Send a Message (WF-STEP-SEND-01/02/04/05/07, WF-RUN-08/10, WF-VAR-03).

Email threading (WF-STEP-SEND-06) and the WhatsApp 24-hour window (WF-STEP-SEND-03) need real
channels and are tested with them (issue 6).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from convoflow.bootstrap import Container
from convoflow.channels.models import Channel
from convoflow.contacts import service as contacts
from convoflow.contacts import tags
from convoflow.contacts.identities import link_identity
from convoflow.contacts.models import Contact
from convoflow.conversations import messages
from convoflow.conversations import service as conversations
from convoflow.conversations.models import Message
from convoflow.events.actor import Actor
from convoflow.events.models import Outbox
from convoflow.testing.factories import make_channel
from tests.support import events_of
from tests.workflows.engine.support import OPENED, Harness, definition, step


def _channel_ref(channel: Channel) -> dict[str, Any]:
    return {"ref": "channel", "id": channel.id}


def _second_channel(h: Harness, contact: Contact, *, linked: bool = True) -> Channel:
    """Another connected test channel; `linked` gives the contact an identity on it."""
    other = make_channel(h.session, workspace_id=h.world.workspace.id, kind="test", name="Other")
    if linked:
        link_identity(h.session, contact=contact, channel=other, external_id="other-visitor")
    h.session.commit()
    return other


def _outgoing(session: Session, contact_id: int) -> list[Message]:
    session.expire_all()
    rows = list(
        session.scalars(
            select(Message)
            .where(Message.contact_id == contact_id, Message.traffic == "outgoing")
            .order_by(Message.id)
        )
    )
    session.commit()
    return rows


def _failure_flow(*, failure_branch: bool) -> dict[str, Any]:
    return definition(
        OPENED,
        step(
            "s1",
            "send_message",
            {"text": "Hola", "failure_branch": failure_branch},
            next="s2",
            **({"failure": "s3"} if failure_branch else {}),
        ),
        step("s2", "send_message", {"text": "Enviado"}),
        *([step("s3", "add_comment", {"text": "Falló: $var.last_error"})] if failure_branch else []),
    )


# --- channel choice ---------------------------------------------------------------------------


def test_default_channel_is_the_last_interacted_one_WF_STEP_SEND_01(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    workflow = h.publish(definition(OPENED, step("s1", "send_message", {"text": "Hola"})))
    inbound = h.inbound("visitor-1", "hola")
    _second_channel(h, inbound.contact)  # reachable too, but not the channel the contact wrote on
    h.drain()
    [sent] = container.test_channel.sent
    assert (sent.channel_id, sent.external_id) == (h.channel.id, "visitor-1")
    [run] = h.runs(workflow.id)
    assert run.end_reason == "completed"
    assert h.steps(run.id)[0].summary["channel_id"] == h.channel.id


def test_a_chosen_channel_is_used_instead_of_the_last_interacted_one_WF_STEP_SEND_01(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    inbound = h.inbound("visitor-1", "hola")  # before publishing: no run yet
    other = _second_channel(h, inbound.contact)
    workflow = h.publish(
        definition(
            _tag_trigger(h, "vip"),
            step("s1", "send_message", {"text": "Por el otro canal", "channel": _channel_ref(other)}),
        )
    )
    _tag(h, inbound.contact, "vip")
    h.drain()
    [sent] = container.test_channel.sent
    assert (sent.channel_id, sent.external_id, sent.content["text"]) == (
        other.id,
        "other-visitor",
        "Por el otro canal",
    )
    assert h.runs(workflow.id)[0].end_reason == "completed"


def test_a_disconnected_last_channel_falls_back_to_the_only_reachable_one_WF_STEP_SEND_01(
    session: Session, container: Container
) -> None:
    # CRM-MSG-06 fallback: the last channel is gone; the one other connected channel reaches the contact
    h = Harness(session, container)
    workflow = h.publish(definition(OPENED, step("s1", "send_message", {"text": "Hola"})))
    inbound = h.inbound("visitor-1", "hola")
    other = _second_channel(h, inbound.contact)
    h.channel.state = "disconnected"
    session.commit()
    h.drain()
    [sent] = container.test_channel.sent
    assert sent.channel_id == other.id
    assert h.runs(workflow.id)[0].end_reason == "completed"


def test_no_channel_to_send_on_is_a_send_failure_WF_STEP_SEND_01(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    workflow = h.publish(_failure_flow(failure_branch=True))
    inbound = h.inbound("visitor-1", "hola")
    h.channel.state = "disconnected"  # the only channel: nothing can reach the contact
    session.commit()
    h.drain()
    assert container.test_channel.sent == []
    assert _outgoing(session, inbound.contact.id) == []
    [run] = h.runs(workflow.id)
    assert run.end_reason == "completed"
    assert [(s.step_key, s.output) for s in h.steps(run.id)] == [("s1", "failure"), ("s3", "next")]
    [comment] = events_of(session, workspace_id=h.world.workspace.id, type="comment.created")
    assert comment.payload["comment"]["text"] == "Falló: The contact has no channel to send on"


def test_a_chosen_channel_that_cannot_reach_the_contact_is_a_send_failure_WF_STEP_SEND_01(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    other = make_channel(session, workspace_id=h.world.workspace.id, kind="test", name="Other")
    session.commit()
    workflow = h.publish(
        definition(OPENED, step("s1", "send_message", {"text": "Hola", "channel": _channel_ref(other)}))
    )
    inbound = h.inbound("visitor-1", "hola")  # no identity on `other`
    h.drain()
    assert container.test_channel.sent == []
    assert _outgoing(session, inbound.contact.id) == []
    [run] = h.runs(workflow.id)
    assert (run.status, run.end_reason) == ("ended", "send_failed")  # WF-RUN-10
    assert "cannot reach" in h.steps(run.id)[0].summary["error"]


# --- content ----------------------------------------------------------------------------------


def test_the_channel_response_for_the_channel_replaces_the_default_message_WF_STEP_SEND_02(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    inbound = h.inbound("visitor-1", "hola")
    other = _second_channel(h, inbound.contact)
    responses = [
        {"channel": _channel_ref(h.channel), "kind": "text", "text": "Solo en Test, $contact.firstname"},
        {
            "channel": _channel_ref(other),
            "kind": "media",
            "text": "Pie de foto",
            "media": {"type": "image", "url": "https://cdn.example.com/a.png"},
        },
    ]
    workflow = h.publish(
        definition(
            _tag_trigger(h, "vip"),
            step("s1", "send_message", {"text": "Por defecto", "channel_responses": responses}, next="s2"),
            step(
                "s2",
                "send_message",
                {"text": "Por defecto", "channel": _channel_ref(other), "channel_responses": responses[:1]},
                next="s3",
            ),
            step(
                "s3",
                "send_message",
                {"text": "Foto", "channel": _channel_ref(other), "channel_responses": responses[1:]},
            ),
        )
    )
    _tag(h, inbound.contact, "vip")
    h.drain()
    contents = [(s.channel_id, s.content) for s in container.test_channel.sent]
    assert contents == [
        (h.channel.id, {"type": "text", "text": "Solo en Test, Ana"}),
        (other.id, {"type": "text", "text": "Por defecto"}),  # no response for this channel
        (
            other.id,
            {
                "type": "attachment",
                "attachment": {"type": "image", "url": "https://cdn.example.com/a.png", "name": None},
                "caption": "Pie de foto",
            },
        ),
    ]
    assert h.runs(workflow.id)[0].end_reason == "completed"


def test_variables_are_rendered_at_send_time_with_fresh_contact_data_WF_STEP_SEND_02_WF_RUN_08(
    session: Session, container: Container
) -> None:
    # WF-VAR-03: the contact changes while the run waits; the message shows the new values
    h = Harness(session, container)
    workflow = h.publish(
        definition(
            OPENED,
            step("s1", "wait", {"amount": 1, "unit": "hours"}, next="s2"),
            step(
                "s2", "send_message", {"text": "Hola $contact.firstname ($contact.email) $assignee.firstname"}
            ),
        )
    )
    inbound = h.inbound("visitor-1", "hola")
    h.drain()
    contact = session.get(Contact, inbound.contact.id)
    assert contact is not None
    contacts.update_contact(
        session,
        contact=contact,
        actor=Actor.system(),
        values={"first_name": "Beatriz", "email": "bea@example.com"},
    )
    contact.assignee_user_id = h.world.agent.id
    session.commit()
    container.clock.advance(hours=1)  # type: ignore[attr-defined]
    h.drain()
    assert h.sent_texts() == ["Hola Beatriz (bea@example.com) Aida"]
    assert h.runs(workflow.id)[0].end_reason == "completed"


# --- success and failure ----------------------------------------------------------------------


def test_the_step_succeeds_when_the_provider_accepts_and_later_statuses_never_move_the_run_WF_STEP_SEND_04(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    workflow = h.publish(
        definition(
            OPENED,
            step("s1", "send_message", {"text": "Hola"}, next="s2"),
            step("s2", "wait", {"amount": 1, "unit": "hours"}),
        )
    )
    inbound = h.inbound("visitor-1", "hola")
    h.engine.contacts_once()
    [run] = h.runs(workflow.id)
    assert (run.status, run.wait_kind, run.cursor) == ("waiting", "effect", "s1")  # staged, not sent yet
    [message] = _outgoing(session, inbound.contact.id)
    assert message.status == "pending"
    h.engine.relay_once()  # the provider accepts
    h.drain()
    [run] = h.runs(workflow.id)
    assert (run.status, run.wait_kind, run.cursor) == ("waiting", "timer", "s2")
    assert h.steps(run.id)[0].summary["message_id"] == message.id
    # a later failure receipt is recorded on the message but never moves the run
    session.refresh(message)
    assert messages.update_status(session, message=message, status="failed", reason="undeliverable")
    session.commit()
    h.drain()
    [run] = h.runs(workflow.id)
    assert (run.status, run.wait_kind, run.cursor) == ("waiting", "timer", "s2")
    assert [s.step_key for s in h.steps(run.id)] == ["s1", "s2"]


def test_a_refused_send_follows_the_failure_branch_WF_STEP_SEND_05(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    workflow = h.publish(_failure_flow(failure_branch=True))
    container.test_channel.fail_next(reason="number blocked")
    inbound = h.inbound("visitor-1", "hola")
    h.drain()
    [run] = h.runs(workflow.id)
    assert run.end_reason == "completed"
    assert [(s.step_key, s.output) for s in h.steps(run.id)] == [("s1", "failure"), ("s3", "next")]
    [comment] = events_of(session, workspace_id=h.world.workspace.id, type="comment.created")
    assert comment.payload["comment"]["text"] == "Falló: number blocked"  # $var.last_error
    [message] = _outgoing(session, inbound.contact.id)
    assert message.status == "failed"
    assert h.sent_texts() == []


def test_a_refused_send_without_failure_branch_ends_the_run_send_failed_WF_STEP_SEND_05_WF_RUN_10(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    workflow = h.publish(_failure_flow(failure_branch=False))
    container.test_channel.fail_next()
    h.inbound("visitor-1", "hola")
    h.drain()
    [run] = h.runs(workflow.id)
    assert (run.status, run.end_reason, run.cursor) == ("ended", "send_failed", None)
    assert [(s.step_key, s.output) for s in h.steps(run.id)] == [("s1", None)]
    assert h.sent_texts() == []  # s2 never ran


def test_a_transient_failure_is_retried_and_then_sent_once_WF_STEP_SEND_05(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    workflow = h.publish(_failure_flow(failure_branch=True))
    container.test_channel.fail_next(1, transient=True)
    inbound = h.inbound("visitor-1", "hola")
    h.drain()
    assert h.sent_texts() == []
    assert h.runs(workflow.id)[0].status == "waiting"
    container.clock.advance(seconds=5)  # type: ignore[attr-defined]  # the first backoff
    h.drain()
    assert h.sent_texts() == ["Hola", "Enviado"]
    [run] = h.runs(workflow.id)
    assert run.end_reason == "completed"
    assert [(s.step_key, s.output) for s in h.steps(run.id)] == [("s1", "next"), ("s2", "next")]
    first = _outgoing(session, inbound.contact.id)[0]
    outbox = session.scalar(select(Outbox).where(Outbox.message_id == first.id))
    assert outbox is not None and (outbox.status, outbox.attempts) == ("done", 2)


def test_transient_failures_past_the_retries_fail_the_send_WF_STEP_SEND_05(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    workflow = h.publish(_failure_flow(failure_branch=True))
    container.test_channel.fail_next(4, transient=True, reason="provider busy")
    inbound = h.inbound("visitor-1", "hola")
    h.drain()
    for backoff in (5, 10, 20):  # CRM-MSG-04: three retries with exponential backoff
        assert h.runs(workflow.id)[0].status == "waiting"
        container.clock.advance(seconds=backoff)  # type: ignore[attr-defined]
        h.drain()
    [run] = h.runs(workflow.id)
    assert run.end_reason == "completed"
    assert [(s.step_key, s.output) for s in h.steps(run.id)] == [("s1", "failure"), ("s3", "next")]
    assert "provider busy" in h.steps(run.id)[0].summary["error"]
    [message] = _outgoing(session, inbound.contact.id)
    assert message.status == "failed"
    outbox = session.scalar(select(Outbox).where(Outbox.message_id == message.id))
    assert outbox is not None and (outbox.status, outbox.attempts) == ("failed", 4)
    assert h.sent_texts() == []


# --- workflow messages ------------------------------------------------------------------------


def test_workflow_messages_carry_source_workflow_and_the_run_id_WF_STEP_SEND_07_WF_RUN_17(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    workflow = h.publish(definition(OPENED, step("s1", "send_message", {"text": "Hola"})), name="Bienvenida")
    inbound = h.inbound("visitor-1", "hola")
    h.drain()
    [run] = h.runs(workflow.id)
    assert run.workflow_name == "Bienvenida"
    [message] = _outgoing(session, inbound.contact.id)
    assert (message.source, message.run_id, message.user_id, message.status) == (
        "workflow",
        run.id,
        None,
        "sent",
    )
    open_conversation = conversations.find_open(session, contact_id=inbound.contact.id)
    assert open_conversation is not None and message.conversation_id == open_conversation.id
    [sent_event] = events_of(session, workspace_id=h.world.workspace.id, type="message.sent")
    assert sent_event.payload["message"]["source"] == "workflow"
    assert sent_event.payload["message"]["run_id"] == run.id


def test_a_workflow_message_never_opens_a_closed_conversation_WF_STEP_SEND_07(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    workflow = h.publish(
        definition(
            OPENED,
            step("s1", "close_conversation", {}, next="s2"),
            step("s2", "send_message", {"text": "Adiós"}),
        )
    )
    inbound = h.inbound("visitor-1", "hola")
    h.drain()
    assert h.sent_texts() == ["Adiós"]
    assert h.runs(workflow.id)[0].end_reason == "completed"
    assert conversations.find_open(session, contact_id=inbound.contact.id) is None
    [message] = _outgoing(session, inbound.contact.id)
    assert (message.conversation_id, message.status) == (None, "sent")
    assert len(events_of(session, workspace_id=h.world.workspace.id, type="conversation.opened")) == 1


def _tag_trigger(h: Harness, name: str) -> dict[str, Any]:
    """Tag Updated (added `name`): enrols a contact that already exists, without a new conversation."""
    [tag] = tags.ensure_tags(h.session, workspace_id=h.world.workspace.id, names=[name])
    h.session.commit()
    return {
        "type": "contact_tag_updated",
        "config": {"action": "added", "tags": [{"ref": "tag", "id": tag.id}]},
    }


def _tag(h: Harness, contact: Contact, name: str) -> None:
    row = h.session.get(Contact, contact.id)
    assert row is not None
    tags.change_contact_tags(h.session, contact=row, add=[name], remove=[], actor=Actor.system())
    h.session.commit()
