"""Contact and conversation steps at run time (workflows.md §8.6, WF-RUN-12), on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from convoflow.accounts import users
from convoflow.bootstrap import Container
from convoflow.contacts import fields, lifecycle, tags
from convoflow.contacts.models import Contact, LifecycleStage, Tag
from convoflow.conversations import closing
from convoflow.conversations import service as conversations
from convoflow.conversations.models import Comment, Conversation, Message
from convoflow.events.actor import Actor
from convoflow.testing.factories import make_contact
from tests.support import events_of
from tests.workflows.engine.support import OPENED, Harness, definition, step


def _tag(name: str, tag_id: int | None = None) -> dict[str, Any]:
    return {"ref": "tag", "id": tag_id, "key": name} if tag_id else {"ref": "tag", "key": name}


def _contact(h: Harness, contact_id: int) -> Contact:
    h.session.expire_all()
    contact = h.session.get(Contact, contact_id)
    assert contact is not None
    return contact


def _workflow_events(h: Harness, type: str) -> list[Any]:
    return [
        e
        for e in events_of(h.session, workspace_id=h.world.workspace.id, type=type)
        if e.source == "workflow"
    ]


def _stage(h: Harness, name: str) -> LifecycleStage:
    stage = lifecycle.find_stage(h.session, workspace_id=h.world.workspace.id, name=name)
    assert stage is not None
    return stage


# --- Update Contact Tag -------------------------------------------------------------------------


def test_update_tag_adds_existing_and_new_tags_then_removes_WF_STEP_TAG_01(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    [vip] = tags.ensure_tags(session, workspace_id=h.world.workspace.id, names=["VIP"])
    session.commit()
    workflow = h.publish(
        definition(
            OPENED,
            step(
                "add",
                "update_tag",
                {"action": "add", "tags": [_tag("VIP", vip.id), _tag("Nuevo")]},
                next="rm",
            ),
            step("rm", "update_tag", {"action": "remove", "tags": [_tag("VIP", vip.id)]}),
        )
    )
    # the tag named only by key is created when the draft is saved (our decision)
    assert session.scalar(select(Tag.id).where(Tag.name == "Nuevo")) is not None
    inbound = h.inbound("visitor-1", "hola")
    h.drain()
    assert tags.contact_tag_names(session, inbound.contact.id) == ["Nuevo"]
    [run] = h.runs(workflow.id)
    assert run.end_reason == "completed"
    summaries = [s.summary for s in h.steps(run.id)]
    assert summaries == [{"added": ["VIP", "Nuevo"]}, {"removed": ["VIP"]}]
    changes = [
        (e.payload["added"], e.payload["removed"], e.run_id)
        for e in _workflow_events(h, "contact.tag.updated")
    ]
    assert changes == [(["VIP", "Nuevo"], [], run.id), ([], ["VIP"], run.id)]


def test_update_tag_no_op_emits_no_event_WF_STEP_TAG_01(session: Session, container: Container) -> None:
    h = Harness(session, container)
    vip, gone = tags.ensure_tags(session, workspace_id=h.world.workspace.id, names=["VIP", "Gone"])
    session.commit()
    workflow = h.publish(
        definition(
            OPENED,
            step("add", "update_tag", {"action": "add", "tags": [_tag("VIP", vip.id)]}, next="rm"),
            step("rm", "update_tag", {"action": "remove", "tags": [_tag("Gone", gone.id)]}, next="done"),
            step("done", "send_message", {"text": "ok"}),
        )
    )
    contact = make_contact(session, workspace_id=h.world.workspace.id)
    tags.change_contact_tags(session, contact=contact, add=["VIP"], remove=[], actor=Actor.system())
    session.commit()
    inbound = h.inbound("visitor-1", "hola")  # a different contact: give it VIP first, by hand
    tags.change_contact_tags(session, contact=inbound.contact, add=["VIP"], remove=[], actor=Actor.system())
    session.commit()
    h.drain()
    [run] = h.runs(workflow.id)
    assert run.end_reason == "completed"  # adding a present / removing an absent tag still goes to next
    assert [s.summary for s in h.steps(run.id)][:2] == [{"added": []}, {"removed": []}]
    assert _workflow_events(h, "contact.tag.updated") == []
    assert tags.contact_tag_names(session, inbound.contact.id) == ["VIP"]


# --- Update Contact Field -----------------------------------------------------------------------


def test_update_field_sets_rows_with_variables_and_clears_WF_STEP_FIELD_01(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    fields.create_field(session, h.owner, name="City", type="text", slug="city")
    fields.create_field(session, h.owner, name="Age", type="number", slug="age")
    session.commit()
    workflow = h.publish(
        definition(
            OPENED,
            step(
                "f",
                "update_field",
                {
                    "rows": [
                        {"field": "last_name", "value": "de $contact.firstname"},
                        {"field": "city", "value": "$trigger.channel.name City"},
                        {"field": "age", "value": "42"},
                        {"field": "language", "clear": True},
                    ]
                },
            ),
        )
    )
    inbound = h.inbound("visitor-1", "hola")
    contacts_language = _contact(h, inbound.contact.id)
    contacts_language.language = "es"
    session.commit()
    h.drain()
    contact = _contact(h, inbound.contact.id)
    assert (contact.last_name, contact.attributes, contact.language) == (
        "de Ana",
        {"city": "Test City", "age": 42},
        None,
    )
    [run] = h.runs(workflow.id)
    assert run.end_reason == "completed"
    changes = [c for e in _workflow_events(h, "contact.updated") for c in e.payload["changes"]]
    assert {c["field"]: (c["old"], c["new"]) for c in changes} == {
        "last_name": ("", "de Ana"),
        "city": (None, "Test City"),
        "age": (None, 42),
        "language": ("es", None),
    }


def test_update_field_skips_invalid_and_taken_values_and_logs_them_WF_STEP_FIELD_01(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    fields.create_field(session, h.owner, name="Age", type="number", slug="age")
    make_contact(session, workspace_id=h.world.workspace.id, email="taken@example.com", phone="+34600111222")
    session.commit()
    workflow = h.publish(
        definition(
            OPENED,
            step(
                "f",
                "update_field",
                {
                    "rows": [
                        {"field": "age", "value": "not a number"},
                        {"field": "email", "value": "taken@example.com"},
                        {"field": "phone", "value": "+34 600 111 222"},
                        {"field": "first_name", "value": "Anita"},
                    ]
                },
                next="after",
            ),
            step("after", "send_message", {"text": "Hola $contact.firstname"}),
        )
    )
    inbound = h.inbound("visitor-1", "hola")
    h.drain()
    contact = _contact(h, inbound.contact.id)
    assert (contact.first_name, contact.email, contact.phone, contact.attributes) == ("Anita", None, None, {})
    [run] = h.runs(workflow.id)
    assert run.end_reason == "completed"  # the step still goes to next
    first, _after = h.steps(run.id)
    assert (first.status, first.output) == ("done", "next")
    assert set(first.summary["skipped"]) == {"age", "email", "phone"}
    assert all(isinstance(reason, str) and reason for reason in first.summary["skipped"].values())
    assert h.sent_texts() == ["Hola Anita"]


# --- Update Lifecycle ---------------------------------------------------------------------------


def test_update_lifecycle_sets_and_clears_the_stage_with_source_workflow_WF_STEP_LIFE_01(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    lead = _stage(h, "New Lead")
    workflow = h.publish(
        definition(
            OPENED,
            step("set", "update_lifecycle", {"stage": {"ref": "stage", "id": lead.id}}, next="check"),
            step("check", "send_message", {"text": "Etapa: $contact.lifecycle"}, next="clear"),
            step("clear", "update_lifecycle", {"clear": True}),
        )
    )
    inbound = h.inbound("visitor-1", "hola")
    h.drain()
    assert h.sent_texts() == ["Etapa: New Lead"]
    assert _contact(h, inbound.contact.id).lifecycle_stage_id is None
    [run] = h.runs(workflow.id)
    moves = [
        (e.payload["from"], e.payload["to"], e.run_id)
        for e in _workflow_events(h, "contact.lifecycle.updated")
    ]
    assert moves == [
        (None, {"id": lead.id, "name": "New Lead"}, run.id),
        ({"id": lead.id, "name": "New Lead"}, None, run.id),
    ]


# --- Open / Close Conversation ------------------------------------------------------------------


def test_open_conversation_opens_only_when_none_is_open_WF_STEP_OPEN_01(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    workflow = h.publish(
        definition(
            OPENED,
            step("noop", "open_conversation", next="close"),
            step("close", "close_conversation", next="open"),
            step("open", "open_conversation"),
        )
    )
    inbound = h.inbound("visitor-1", "hola")
    h.drain()
    [run] = h.runs(workflow.id)
    assert run.end_reason == "completed"
    opened = events_of(session, workspace_id=h.world.workspace.id, type="conversation.opened")
    assert [(e.source, e.payload["source"], e.run_id) for e in opened] == [
        ("contact", "contact", None),
        ("workflow", "workflow", run.id),  # the first Open was a no-op: one workflow opening only
    ]
    rows = session.scalars(
        select(Conversation).where(Conversation.contact_id == inbound.contact.id).order_by(Conversation.id)
    ).all()
    assert [(c.status, c.opened_source) for c in rows] == [("closed", "contact"), ("open", "workflow")]


def test_close_conversation_with_category_and_summary_and_no_op_when_closed_WF_STEP_CLOSE_01(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    solved = closing.create_category(session, h.owner, name="Solved")
    session.commit()
    workflow = h.publish(
        definition(
            OPENED,
            step(
                "close",
                "close_conversation",
                {"category": {"ref": "category", "id": solved.id}, "summary": "Atendido $contact.firstname"},
                next="again",
            ),
            step("again", "close_conversation", {"summary": "otra vez"}),
        )
    )
    inbound = h.inbound("visitor-1", "hola")
    h.drain()
    [conversation] = session.scalars(
        select(Conversation).where(Conversation.contact_id == inbound.contact.id)
    )
    assert (
        conversation.status,
        conversation.closing_category_id,
        conversation.summary,
        conversation.closed_source,
    ) == (
        "closed",
        solved.id,
        "Atendido Ana",
        "workflow",
    )
    [closed] = events_of(session, workspace_id=h.world.workspace.id, type="conversation.closed")
    [run] = h.runs(workflow.id)
    assert (closed.source, closed.run_id, closed.payload["category"], closed.payload["summary"]) == (
        "workflow",
        run.id,
        {"id": solved.id, "name": "Solved"},
        "Atendido Ana",
    )
    assert run.end_reason == "completed"


def test_close_conversation_summary_longer_than_512_after_rendering_is_cut_WF_STEP_CLOSE_01(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    workflow = h.publish(
        definition(
            OPENED, step("close", "close_conversation", {"summary": "x" * 490 + " $contact.firstname"})
        )
    )
    inbound = h.inbound("visitor-1", "hola", first_name="Maximiliano Alejandro José")
    h.drain()
    [run] = h.runs(workflow.id)
    assert run.end_reason == "completed"
    [conversation] = session.scalars(
        select(Conversation).where(Conversation.contact_id == inbound.contact.id)
    )
    assert (
        conversation.status == "closed"
        and conversation.summary == ("x" * 490 + " Maximiliano Alejandro José")[:512]
    )


def test_close_conversation_whose_category_was_deleted_closes_without_it_WF_STEP_CLOSE_01(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    solved = closing.create_category(session, h.owner, name="Solved")
    session.commit()
    workflow = h.publish(
        definition(
            OPENED, step("close", "close_conversation", {"category": {"ref": "category", "id": solved.id}})
        )
    )
    closing.delete_category(session, h.owner, category_id=solved.id)
    session.commit()
    inbound = h.inbound("visitor-1", "hola")
    h.drain()
    assert h.runs(workflow.id)[0].end_reason == "completed"
    [conversation] = session.scalars(
        select(Conversation).where(Conversation.contact_id == inbound.contact.id)
    )
    assert (conversation.status, conversation.closing_category_id) == ("closed", None)


def test_closing_ends_neither_this_run_nor_other_runs_of_the_contact_WF_STEP_CLOSE_02(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    waiting = h.publish(
        definition(
            OPENED,
            step("w", "wait", {"amount": 1, "unit": "hours"}, next="later"),
            step("later", "send_message", {"text": "Sigo aquí"}),
        ),
        name="Waiting",
    )
    closer = h.publish(
        definition(
            OPENED,
            step("close", "close_conversation", next="ask"),
            step("ask", "send_message", {"text": "¿Qué tal te atendimos?"}),
        ),
        name="Closer",
    )
    h.inbound("visitor-1", "hola")
    h.drain()
    assert h.sent_texts() == ["¿Qué tal te atendimos?"]  # a later step ran after the close
    assert h.runs(closer.id)[0].end_reason == "completed"
    [other] = h.runs(waiting.id)
    assert (other.status, other.wait_kind) == ("waiting", "timer")
    container.clock.advance(hours=1, seconds=1)  # type: ignore[attr-defined]
    h.drain()
    assert h.sent_texts()[-1] == "Sigo aquí"
    assert h.runs(waiting.id)[0].end_reason == "completed"


def test_closing_by_hand_or_api_does_not_end_runs_WF_RUN_12(session: Session, container: Container) -> None:
    h = Harness(session, container)
    workflow = h.publish(
        definition(
            OPENED,
            step("w", "wait", {"amount": 10, "unit": "minutes"}, next="w2"),
            step("w2", "wait", {"amount": 10, "unit": "minutes"}, next="done"),
            step("done", "send_message", {"text": "Fin"}),
        )
    )
    inbound = h.inbound("visitor-1", "hola")
    h.drain()
    by_hand = Actor.user(h.world.agent.id)
    conversations.close_conversation(
        session, contact=_contact(h, inbound.contact.id), actor=by_hand, category_id=None, summary=None,
        enforce_notes=False,
    )  # fmt: skip
    session.commit()
    h.drain()
    assert h.runs(workflow.id)[0].status == "waiting"
    container.clock.advance(minutes=10, seconds=1)  # type: ignore[attr-defined]
    h.drain()
    conversations.open_conversation(session, contact=_contact(h, inbound.contact.id), actor=Actor.system())
    conversations.close_conversation(
        session, contact=_contact(h, inbound.contact.id), actor=Actor.api(1), category_id=None, summary=None,
    )  # fmt: skip
    session.commit()
    h.drain()
    assert h.runs(workflow.id)[0].status == "waiting"
    container.clock.advance(minutes=10, seconds=1)  # type: ignore[attr-defined]
    h.drain()
    assert h.sent_texts() == ["Fin"]
    assert h.runs(workflow.id)[0].end_reason == "completed"


# --- Add Comment --------------------------------------------------------------------------------


def test_add_comment_is_an_internal_note_with_variables_and_mentions_WF_STEP_NOTE_01(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    manager = h.world.manager
    workflow = h.publish(
        definition(
            OPENED,
            step(
                "note",
                "add_comment",
                {
                    "text": "Revisar a $contact.firstname, dijo: hola",
                    "mentions": [{"ref": "user", "id": manager.id}],
                },
            ),
        )
    )
    inbound = h.inbound("visitor-1", "hola")
    h.drain()
    [run] = h.runs(workflow.id)
    assert run.end_reason == "completed"
    [comment] = session.scalars(select(Comment).where(Comment.contact_id == inbound.contact.id))
    assert (comment.text, comment.mentions, comment.source, comment.run_id) == (
        "Revisar a Ana, dijo: hola",
        [manager.id],
        "workflow",
        run.id,
    )
    # never sent to the contact: nothing handed to the channel, no outgoing message stored
    assert container.test_channel.sent == []
    outgoing = session.scalars(
        select(Message).where(Message.contact_id == inbound.contact.id, Message.traffic == "outgoing")
    ).all()
    assert outgoing == []
    # the mention reaches the mentioned user through comment.created (the CRM has no other notification)
    [created] = _workflow_events(h, "comment.created")
    assert created.payload["comment"]["mentions"] == [manager.id]


def test_add_comment_drops_a_mention_of_a_user_deactivated_since_publishing_WF_STEP_NOTE_01(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    manager, agent = h.world.manager, h.world.agent
    workflow = h.publish(
        definition(
            OPENED,
            step(
                "note",
                "add_comment",
                {
                    "text": "Ojo",
                    "mentions": [{"ref": "user", "id": manager.id}, {"ref": "user", "id": agent.id}],
                },
                next="after",
            ),
            step("after", "send_message", {"text": "Seguimos"}),
        )
    )
    users.deactivate_member(session, h.owner, user_id=agent.id)
    session.commit()
    inbound = h.inbound("visitor-1", "hola")
    h.drain()
    [run] = h.runs(workflow.id)
    assert run.end_reason == "completed"
    [comment] = session.scalars(select(Comment).where(Comment.contact_id == inbound.contact.id))
    assert (comment.text, comment.mentions) == ("Ojo", [manager.id])
    assert h.sent_texts() == ["Seguimos"]
