"""Duplicates and races (issue 5 reliability): the same event twice, publish and stop racing with
incoming events. No duplicate enrolment, no run left without an owner (WF-RUN-02, WF-LIFE-04/05)."""

from __future__ import annotations

import threading

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from convoflow.bootstrap import Container
from convoflow.contacts.identities import ChannelProfile
from convoflow.conversations.content import TextContent
from convoflow.conversations.messages import record_inbound
from convoflow.events.models import ContactQueue, Event
from convoflow.events.queue import touch
from convoflow.workflows import service
from convoflow.workflows.models import Run
from tests.workflows.engine.support import OPENED, Harness, definition, step

WAITING = definition(
    OPENED,
    step("s1", "send_message", {"text": "Hola"}, next="s2"),
    step("s2", "wait", {"amount": 1, "unit": "hours"}),
)


def test_the_same_message_delivered_twice_enrols_and_sends_once_WF_RUN_02(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    workflow = h.publish(WAITING)
    for _ in range(2):  # a provider retrying its webhook: same message id, before and after the engine ran
        record_inbound(
            session,
            channel=h.channel,
            external_id="visitor-1",
            content=TextContent(text="hola"),
            provider_message_id="wamid.1",
            profile=ChannelProfile(first_name="Ana"),
        )
        session.commit()
        h.drain()
    assert len(h.runs(workflow.id)) == 1
    assert h.sent_texts() == ["Hola"]


def test_an_event_dispatched_again_does_not_enrol_again_WF_RUN_02(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    workflow = h.publish(WAITING)
    inbound = h.inbound("visitor-1", "hola")
    h.drain()
    [run] = h.runs(workflow.id)
    # the opening event handed to the dispatcher a second time (as after a lost acknowledgement)
    opened = session.scalar(
        select(Event).where(Event.contact_id == inbound.contact.id, Event.type == "conversation.opened")
    )
    assert opened is not None
    session.execute(update(Event).where(Event.id == opened.id).values(dispatched_at=None))
    touch(session, workspace_id=h.world.workspace.id, contact_id=inbound.contact.id)
    session.commit()
    h.drain()
    assert [r.id for r in h.runs(workflow.id)] == [run.id]
    session.expire_all()
    again = session.get(Event, opened.id)
    assert again is not None and again.decisions == [
        {"workflow_id": workflow.id, "outcome": "already_enrolled", "run_id": run.id}
    ]
    session.commit()
    assert h.sent_texts() == ["Hola"]


def test_publish_and_stop_racing_with_incoming_messages_leave_no_orphan_WF_LIFE_04_05(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    workflow = h.publish(WAITING)
    errors: list[BaseException] = []
    done = threading.Event()

    def guarded(work: object) -> None:
        try:
            work()  # type: ignore[operator]
        except BaseException as exc:
            errors.append(exc)

    def toggle() -> None:
        for _ in range(8):
            with container.db.session() as own:
                service.stop(own, h.owner, workflow_id=workflow.id)
                own.commit()
            with container.db.session() as own:
                service.publish(own, h.owner, workflow_id=workflow.id)
                own.commit()

    def messages() -> None:
        for i in range(40):
            with container.db.session() as own:
                record_inbound(
                    own,
                    channel=h.channel,
                    external_id=f"visitor-{i}",
                    content=TextContent(text="hola"),
                    profile=ChannelProfile(first_name="Ana"),
                )
                own.commit()
        done.set()

    def engine() -> None:
        racing = container.engine()
        while not done.is_set():
            racing.drain()
        racing.drain()

    threads = [threading.Thread(target=guarded, args=(work,)) for work in (toggle, messages, engine)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    h.drain()
    service.stop(session, h.owner, workflow_id=workflow.id)
    session.commit()
    h.drain()

    runs = h.runs(workflow.id)
    assert runs, "some messages must have found the workflow published"
    assert {run.status for run in runs} == {"ended"}
    assert {run.end_reason for run in runs} <= {"workflow_stopped"}
    per_contact = select(Run.contact_id, func.count()).where(Run.workflow_id == workflow.id)
    counts = {contact: n for contact, n in session.execute(per_contact.group_by(Run.contact_id))}
    session.commit()
    # a contact enrolled again only after a stop ended its run (WF-RUN-02), never twice at once
    assert all(n >= 1 for n in counts.values())
    assert session.scalar(select(func.count()).select_from(ContactQueue)) == 0  # no work left unowned
    assert session.scalar(select(func.count()).select_from(Event).where(Event.dispatched_at.is_(None))) == 0
    session.commit()
    # at most one message per run (a run stopped before the relay sent its message sends none)
    senders = [sent.idempotency_key.split(":")[0] for sent in container.test_channel.sent]
    assert len(senders) == len(set(senders)) <= len(runs)
