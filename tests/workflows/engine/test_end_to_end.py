"""An inbound message opens a conversation, the workflow runs, the reply goes out (WF-RUN-01/04/09)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from convoflow.bootstrap import Container
from convoflow.contacts.tags import contact_tag_names
from tests.support import events_of
from tests.workflows.engine.support import OPENED, Harness, definition, step


def test_conversation_opened_runs_send_and_tag(session: Session, container: Container) -> None:
    h = Harness(session, container)
    workflow = h.publish(
        definition(
            OPENED,
            step("s1", "send_message", {"text": "Hola $contact.firstname"}, next="s2"),
            step("s2", "update_tag", {"action": "add", "tags": [{"ref": "tag", "key": "vip"}]}),
        )
    )
    inbound = h.inbound("visitor-1", "Buenas")
    h.drain()
    assert h.sent_texts() == ["Hola Ana"]
    assert contact_tag_names(session, inbound.contact.id) == ["vip"]
    [run] = h.runs(workflow.id)
    assert (run.status, run.end_reason) == ("ended", "completed")
    assert [(s.step_key, s.status, s.output) for s in h.steps(run.id)] == [
        ("s1", "done", "next"),
        ("s2", "done", "next"),
    ]
    types = [e.type for e in events_of(session, workspace_id=h.world.workspace.id)]
    assert "message.sent" in types and "contact.tag.updated" in types
    tag_event = events_of(session, workspace_id=h.world.workspace.id, type="contact.tag.updated")[0]
    assert (tag_event.source, tag_event.run_id) == ("workflow", run.id)  # WF-RUN-17


def test_a_contact_is_not_enrolled_twice_while_running(
    session: Session, container: Container
) -> None:  # WF-RUN-02
    h = Harness(session, container)
    workflow = h.publish(definition(OPENED, step("s1", "wait", {"amount": 1, "unit": "hours"})))
    h.inbound("visitor-1", "hola")
    h.drain()
    [run] = h.runs(workflow.id)
    assert (run.status, run.wait_kind) == ("waiting", "timer")
    # the conversation closes and reopens: a second trigger event while the run waits is ignored
    from convoflow.conversations import service as conversations
    from convoflow.events.actor import Actor

    contact = h.runs(workflow.id)[0].contact_id
    from convoflow.contacts.models import Contact

    row = session.get(Contact, contact)
    assert row is not None
    conversations.close_conversation(
        session, contact=row, actor=Actor.system(), category_id=None, summary=None, enforce_notes=False
    )
    session.commit()
    h.inbound("visitor-1", "otra vez")
    h.drain()
    assert len(h.runs(workflow.id)) == 1


def test_wait_resumes_when_the_clock_passes_the_due_time(session: Session, container: Container) -> None:
    # WF-STEP-WAIT-01, DESIGN §3.4: the wait is a row; the fake clock moves a day without sleeping
    h = Harness(session, container)
    workflow = h.publish(
        definition(
            OPENED,
            step("s1", "wait", {"amount": 2, "unit": "hours"}, next="s2"),
            step("s2", "send_message", {"text": "Ya"}),
        )
    )
    h.inbound("visitor-1", "hola")
    h.drain()
    assert h.sent_texts() == []
    container.clock.advance(hours=1)  # type: ignore[attr-defined]
    h.drain()
    assert h.sent_texts() == []
    container.clock.advance(hours=1, seconds=1)  # type: ignore[attr-defined]
    h.drain()
    assert h.sent_texts() == ["Ya"]
    assert h.runs(workflow.id)[0].end_reason == "completed"


def test_ask_question_saves_a_valid_answer_and_the_answer_opens_nothing(
    session: Session, container: Container
) -> None:
    # WF-STEP-ASK-02/03/09
    h = Harness(session, container)
    workflow = h.publish(
        definition(
            OPENED,
            step(
                "s1",
                "ask_question",
                {
                    "question": "¿Tu email?",
                    "question_type": "email",
                    "save_field": "email",
                    "save_variable": "mail",
                },
                next="s2",
            ),
            step("s2", "send_message", {"text": "Gracias, $var.mail"}),
        )
    )
    h.inbound("visitor-1", "hola")
    h.drain()
    assert h.sent_texts() == ["¿Tu email?"]
    opened_before = len(events_of(session, workspace_id=h.world.workspace.id, type="conversation.opened"))
    answer = h.inbound("visitor-1", "no es un email")
    h.drain()
    assert len(h.sent_texts()) == 2 and h.sent_texts()[1].endswith(
        "¿Tu email?"
    )  # re-asked after an invalid answer
    h.inbound("visitor-1", "Ana@Example.com")
    h.drain()
    assert h.sent_texts()[-1] == "Gracias, ana@example.com"
    session.refresh(answer.contact)
    assert answer.contact.email == "ana@example.com"
    assert (
        len(events_of(session, workspace_id=h.world.workspace.id, type="conversation.opened"))
        == opened_before
    )
    assert h.runs(workflow.id)[0].end_reason == "completed"


def test_ask_question_times_out_after_seven_days(
    session: Session, container: Container
) -> None:  # WF-STEP-ASK-07
    h = Harness(session, container)
    workflow = h.publish(
        definition(
            OPENED,
            step(
                "s1",
                "ask_question",
                {
                    "question": "¿Sí o no?",
                    "question_type": "multiple_choice",
                    "options": ["Sí", "No"],
                    "timeout_branch": True,
                },
                timeout="s2",
            ),
            step("s2", "send_message", {"text": "Seguimos otro día"}),
        )
    )
    h.inbound("visitor-1", "hola")
    h.drain()
    container.clock.advance(days=7, seconds=1)  # type: ignore[attr-defined]
    h.drain()
    assert h.sent_texts()[-1] == "Seguimos otro día"
    assert h.runs(workflow.id)[0].end_reason == "completed"


def test_a_send_failure_without_failure_branch_ends_the_run(session: Session, container: Container) -> None:
    # WF-STEP-SEND-05, WF-RUN-10
    h = Harness(session, container)
    workflow = h.publish(
        definition(OPENED, step("s1", "send_message", {"text": "Hola"}, next="s2"), step("s2", "wait"))
    )
    container.test_channel.fail_next()
    h.inbound("visitor-1", "hola")
    h.drain()
    [run] = h.runs(workflow.id)
    assert (run.status, run.end_reason) == ("ended", "send_failed")


def test_stop_ejects_waiting_runs(session: Session, container: Container) -> None:  # WF-LIFE-05, WF-RUN-15
    from convoflow.workflows import service

    h = Harness(session, container)
    workflow = h.publish(
        definition(
            OPENED,
            step("s1", "wait", {"amount": 1, "unit": "days"}, next="s2"),
            step("s2", "send_message", {"text": "Tarde"}),
        )
    )
    h.inbound("visitor-1", "hola")
    h.drain()
    service.stop(session, h.owner, workflow_id=workflow.id)
    session.commit()
    container.clock.advance(days=2)  # type: ignore[attr-defined]
    h.drain()
    [run] = h.runs(workflow.id)
    assert run.end_reason == "workflow_stopped"
    assert h.sent_texts() == []


def test_contact_activity_shows_entering_and_leaving_workflows(
    session: Session, container: Container
) -> None:
    # WF-RUN-18, CRM-CONT-04: "Entered workflow <name>" and "Left workflow <name> (<reason>)"
    h = Harness(session, container)
    done = h.publish(definition(OPENED, step("s1", "send_message", {"text": "Hola"})), name="Greeting")
    waiting = h.publish(definition(OPENED, step("w1", "wait", {"amount": 1, "unit": "days"})), name="Later")
    h.inbound("visitor-1", "hola")
    h.drain()
    [finished] = h.runs(done.id)
    [parked] = h.runs(waiting.id)
    from convoflow.workflows import service as workflows

    workflows.stop(h.session, h.owner, workflow_id=waiting.id)
    session.commit()
    activity = [
        (e.type, e.payload.get("workflow_name"), e.payload.get("reason"), e.run_id, e.source)
        for e in events_of(session, workspace_id=h.world.workspace.id)
        if e.type.startswith("workflow.")
    ]
    assert sorted(activity, key=str) == sorted(
        [
            ("workflow.entered", "Greeting", None, finished.id, "workflow"),
            ("workflow.entered", "Later", None, parked.id, "workflow"),
            ("workflow.left", "Greeting", "completed", finished.id, "workflow"),
            ("workflow.left", "Later", "workflow_stopped", parked.id, "workflow"),
        ],
        key=str,
    )
    # activity records never trigger workflows: they are stored as already dispatched
    assert all(
        e.dispatched_at is not None
        for e in events_of(session, workspace_id=h.world.workspace.id)
        if e.type.startswith("workflow.")
    )


def test_side_effects_are_keyed_by_run_and_step_execution_and_never_repeated_WF_RUN_06(
    session: Session, container: Container
) -> None:
    from sqlalchemy import update

    from convoflow.events.models import Outbox

    h = Harness(session, container)
    workflow = h.publish(
        definition(
            OPENED,
            step("s1", "send_message", {"text": "uno"}, next="s2"),
            step("s2", "send_message", {"text": "dos"}),
        )
    )
    h.inbound("visitor-1", "hola")
    h.drain()
    [run] = h.runs(workflow.id)
    keys = [sent.idempotency_key for sent in container.test_channel.sent]
    assert keys == [f"{run.id}:1:1", f"{run.id}:2:1"]  # <run id>:<step execution>:<attempt>
    steps_before = [(s.seq, s.status, s.output) for s in h.steps(run.id)]
    # a relay that lost its lease delivers the first message again: same key, so the provider drops it,
    # and the run, already past that step, is not moved again
    session.execute(update(Outbox).where(Outbox.idempotency_key == keys[0]).values(status="pending"))
    session.commit()
    h.drain()
    assert [sent.idempotency_key for sent in container.test_channel.sent] == keys
    assert [(s.seq, s.status, s.output) for s in h.steps(run.id)] == steps_before
    assert h.runs(workflow.id)[0].end_reason == "completed"
