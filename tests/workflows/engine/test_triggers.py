"""Triggers fired by CRM events and the run rules around them (workflows.md §3, §7.1-7.3, §11)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from convoflow import metrics
from convoflow.accounts.models import Membership
from convoflow.bootstrap import Container
from convoflow.contacts import assignment, lifecycle, tags
from convoflow.contacts import service as contacts
from convoflow.contacts.merge import merge_contacts
from convoflow.contacts.models import Contact, LifecycleStage
from convoflow.conversations import closing
from convoflow.conversations import service as conversations
from convoflow.events.actor import Actor
from convoflow.events.models import Event, Outbox
from convoflow.teams import service as teams
from convoflow.testing.clock import FakeClock
from convoflow.workflows import service
from convoflow.workflows.models import Workflow
from tests.workflows.engine.support import OPENED, Harness, definition, step

# A step that shows the trigger's variables, then keeps the run active (so a test can read them).
SAY = "send_message"


def _clock(container: Container) -> FakeClock:
    clock = container.clock
    assert isinstance(clock, FakeClock)
    return clock


def _contact(h: Harness, contact_id: int) -> Contact:
    h.session.expire_all()
    contact = h.session.get(Contact, contact_id)
    assert contact is not None
    return contact


def _new_contact(h: Harness, visitor: str = "visitor-1", first_name: str = "Ana") -> Contact:
    """A contact reachable on the test channel; its first message's conversation is closed again."""
    inbound = h.inbound(visitor, "hola", first_name=first_name)
    h.drain()
    _close(h, inbound.contact.id, Actor.system())
    return _contact(h, inbound.contact.id)


def _close(h: Harness, contact_id: int, actor: Actor, **notes: Any) -> None:
    conversations.close_conversation(
        h.session,
        contact=_contact(h, contact_id),
        actor=actor,
        category_id=notes.get("category_id"),
        summary=notes.get("summary"),
        enforce_notes=False,
    )
    h.session.commit()
    h.drain()


def _open(h: Harness, contact_id: int, actor: Actor) -> None:
    conversations.open_conversation(h.session, contact=_contact(h, contact_id), actor=actor)
    h.session.commit()
    h.drain()


def _tags(
    h: Harness,
    contact_id: int,
    *,
    add: tuple[str, ...] = (),
    remove: tuple[str, ...] = (),
    actor: Actor | None = None,
) -> None:
    tags.change_contact_tags(
        h.session,
        contact=_contact(h, contact_id),
        add=list(add),
        remove=list(remove),
        actor=actor or Actor.user(h.world.owner.id),
    )
    h.session.commit()
    h.drain()


def _tag_ids(h: Harness, *names: str) -> list[dict[str, Any]]:
    found = tags.ensure_tags(h.session, workspace_id=h.world.workspace.id, names=list(names))
    h.session.commit()
    return [{"ref": "tag", "id": tag.id, "key": tag.name} for tag in found]


def _stage(h: Harness, name: str) -> LifecycleStage:
    stage = lifecycle.find_stage(h.session, workspace_id=h.world.workspace.id, name=name)
    assert stage is not None
    return stage


def _decisions(h: Harness, workflow_id: int, type: str) -> list[str]:
    """The outcome recorded for this workflow on each event of the type, in order (DESIGN §3.13)."""
    h.session.expire_all()
    events = h.session.scalars(
        select(Event).where(Event.workspace_id == h.world.workspace.id, Event.type == type).order_by(Event.id)
    ).all()
    h.session.commit()
    return [d["outcome"] for e in events for d in (e.decisions or []) if d["workflow_id"] == workflow_id]


def _say(text: str) -> dict[str, Any]:
    return step("say", SAY, {"text": text})


# --- Conversation Opened (WF-TRG-OPEN-01/02) ----------------------------------------------------


def test_conversation_opened_fires_per_selected_source_with_its_own_conditions_WF_TRG_OPEN_01_02(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    vip = _tag_ids(h, "VIP")
    trigger = {
        "type": "conversation_opened",
        "config": {
            "sources": ["contact", "user"],
            "conditions": {
                "contact": {
                    "logic": "and",
                    "conditions": [{"category": "tags", "operator": "has_any_of", "value": vip}],
                }
            },
        },
    }
    workflow = h.publish(
        definition(
            trigger, _say("$trigger.source|$trigger.channel.name|$trigger.user.name|$trigger.user.email")
        )
    )
    contact = _new_contact(h)  # opened by the contact without VIP: its condition group is false
    assert h.runs(workflow.id) == []
    assert _decisions(h, workflow.id, "conversation.opened") == ["conditions_false"]
    agent = h.world.agent
    _open(h, contact.id, Actor.user(agent.id))  # source user: no conditions for it
    _close(h, contact.id, Actor.system())
    _open(h, contact.id, Actor.workflow(0))  # source workflow: not selected
    _close(h, contact.id, Actor.system())
    _open(h, contact.id, Actor.api(1))  # source api: not selected
    _close(h, contact.id, Actor.system())
    _tags(h, contact.id, add=("VIP",))
    h.inbound("visitor-1", "otra vez")  # source contact, now VIP
    h.drain()
    assert h.sent_texts() == [
        f"user||{agent.first_name} {agent.last_name}|{agent.email}",
        "contact|Test||",
    ]
    assert _decisions(h, workflow.id, "conversation.opened") == [
        "conditions_false", "enrolled", "no_match", "no_match", "enrolled",
    ]  # fmt: skip
    assert [r.variables for r in h.runs(workflow.id)] == [{}, {}]  # erased at the end (WF-VAR-06)


def test_conversation_opened_fires_after_the_opening_message_is_stored_WF_TRG_OPEN_02(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    price = {"category": "last_incoming_message", "operator": "contains", "value": "precio"}
    h.publish(
        definition(
            OPENED,
            step(
                "b",
                "branch",
                {"branches": [{"name": "precio", "conditions": [price]}]},
                **{"branch:1": "p", "else": "o"},
            ),
            step("p", SAY, {"text": "Te paso precios (canal $trigger.channel.id)"}),
            step("o", SAY, {"text": "otro"}),
        )
    )
    h.inbound("visitor-1", "¿Cuál es el precio?")
    h.drain()
    assert h.sent_texts() == [f"Te paso precios (canal {h.channel.id})"]


# --- Conversation Closed (WF-TRG-CLOSE-01) ------------------------------------------------------


def test_conversation_closed_conditions_on_category_and_closing_user_with_variables_WF_TRG_CLOSE_01(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    solved = closing.create_category(session, h.owner, name="Solved")
    spam = closing.create_category(session, h.owner, name="Spam")
    session.commit()
    agent, manager = h.world.agent, h.world.manager
    conditions = {
        "logic": "and",
        "conditions": [
            {
                "category": "closing_category",
                "operator": "is_any_of",
                "value": [{"ref": "category", "id": solved.id}],
            },
            {
                "category": "closed_by_user",
                "operator": "is_any_of",
                "value": [{"ref": "user", "id": agent.id}],
            },
        ],
    }
    workflow = h.publish(
        definition(
            {"type": "conversation_closed", "config": {"conditions": conditions}},
            _say("$trigger.source|$trigger.category|$trigger.summary|$trigger.user.firstname"),
        )
    )
    contact = _new_contact(h)  # closed by the system without a category: conditions false
    for actor, category in ((Actor.user(manager.id), solved.id), (Actor.user(agent.id), spam.id)):
        _open(h, contact.id, Actor.system())
        _close(h, contact.id, actor, category_id=category)
    assert h.runs(workflow.id) == []
    _open(h, contact.id, Actor.system())
    _close(h, contact.id, Actor.user(agent.id), category_id=solved.id, summary="Resuelto")
    assert h.sent_texts() == [f"user|Solved|Resuelto|{agent.first_name}"]
    assert _decisions(h, workflow.id, "conversation.closed") == ["conditions_false"] * 3 + ["enrolled"]


def test_conversation_closed_without_conditions_fires_on_every_close_of_its_sources_WF_TRG_CLOSE_01_WF_TRG_05(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    every = h.publish(
        definition({"type": "conversation_closed"}, _say("cerrada por $trigger.source")), name="Every"
    )
    only_api = h.publish(
        definition({"type": "conversation_closed", "config": {"sources": ["api"]}}, _say("api")), name="Api"
    )
    contact = _new_contact(h)  # source system
    for actor in (Actor.user(h.world.agent.id), Actor.workflow(0), Actor.api(1)):
        _open(h, contact.id, Actor.system())
        _close(h, contact.id, actor)
    assert [r.end_reason for r in h.runs(every.id)] == ["completed"] * 4
    assert len(h.runs(only_api.id)) == 1
    assert sorted(h.sent_texts()) == sorted(
        ["cerrada por system", "cerrada por user", "cerrada por workflow", "cerrada por api", "api"]
    )


# --- Contact Tag Updated (WF-TRG-TAG-01) --------------------------------------------------------


def test_contact_tag_added_and_removed_fire_for_the_chosen_tags_only_WF_TRG_TAG_01(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    chosen = _tag_ids(h, "VIP", "Hot")
    added = h.publish(
        definition(
            {"type": "contact_tag_updated", "config": {"action": "added", "tags": chosen}},
            _say("+$trigger.tag"),
        ),
        name="Added",
    )
    removed = h.publish(
        definition(
            {"type": "contact_tag_updated", "config": {"action": "removed", "tags": chosen}},
            _say("-$trigger.tag"),
        ),
        name="Removed",
    )
    contact = _new_contact(h)
    _tags(h, contact.id, add=("Cold",))  # not a chosen tag
    _tags(h, contact.id, add=("Hot",))
    _tags(h, contact.id, add=("Hot",))  # already present: no event, nothing fires
    _tags(h, contact.id, remove=("Hot",), add=("VIP",))
    assert h.sent_texts() == ["+Hot", "+VIP", "-Hot"] or h.sent_texts() == ["+Hot", "-Hot", "+VIP"]
    assert len(h.runs(added.id)) == 2 and len(h.runs(removed.id)) == 1
    assert _decisions(h, added.id, "contact.tag.updated") == ["no_match", "enrolled", "enrolled"]


# --- Contact Field Updated (WF-TRG-FIELD-01) ----------------------------------------------------


def test_contact_field_updated_fires_only_on_a_real_change_of_a_chosen_field_WF_TRG_FIELD_01(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    from convoflow.contacts import fields

    fields.create_field(session, h.owner, name="City", type="text", slug="city")
    session.commit()
    trigger = {
        "type": "contact_field_updated",
        "config": {
            "fields": ["city", "email"],
            "new_value": {"operator": "is_not_equal_to", "value": "Sevilla"},
        },
    }
    workflow = h.publish(definition(trigger, _say("$trigger.field: $trigger.old_value → $trigger.new_value")))
    contact = _new_contact(h)

    def update(values: dict[str, Any], custom: dict[str, Any], actor: Actor) -> None:
        contacts.update_contact(
            session, contact=_contact(h, contact.id), actor=actor, values=values, custom_fields=custom
        )
        session.commit()
        h.drain()

    update({}, {"city": "Sevilla"}, Actor.user(h.world.agent.id))  # the new value fails the test
    update({}, {"city": "Madrid"}, Actor.api(1))  # whoever changes it
    update({}, {"city": "Madrid"}, Actor.user(h.world.agent.id))  # same value: no change, no event
    update({"first_name": "Anita"}, {}, Actor.system())  # not a chosen field
    update({"email": "ana@example.com"}, {}, Actor.workflow(0))
    assert h.sent_texts() == ["city: Sevilla → Madrid", "email:  → ana@example.com"]
    assert _decisions(h, workflow.id, "contact.updated") == [
        "conditions_false",
        "enrolled",
        "no_match",
        "enrolled",
    ]


# --- Lifecycle Updated (WF-TRG-LIFE-01) ---------------------------------------------------------


def test_lifecycle_updated_matches_from_and_to_stages_WF_TRG_LIFE_01(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    lead, customer = _stage(h, "New Lead"), _stage(h, "Customer")
    to_customer = h.publish(
        definition(
            {
                "type": "lifecycle_updated",
                "config": {
                    "from_stage": {"mode": "stages", "stages": [{"ref": "stage", "id": lead.id}]},
                    "to_stage": {"mode": "stages", "stages": [{"ref": "stage", "id": customer.id}]},
                },
            },
            _say("$trigger.from_stage → $trigger.to_stage"),
        ),
        name="To customer",
    )
    from_none = h.publish(
        definition(
            {"type": "lifecycle_updated", "config": {"from_stage": {"mode": "none"}}},
            _say("primera etapa $trigger.to_stage"),
        ),
        name="From none",
    )
    cleared = h.publish(
        definition(
            {"type": "lifecycle_updated", "config": {"to_stage": {"mode": "none"}}},
            _say("sin etapa (antes $trigger.from_stage)"),
        ),
        name="Cleared",
    )
    contact = _new_contact(h)
    for stage_id in (customer.id, lead.id, customer.id, None):
        lifecycle.set_contact_stage(
            session, contact=_contact(h, contact.id), stage_id=stage_id, actor=Actor.system()
        )
        session.commit()
        h.drain()
    assert h.sent_texts() == ["primera etapa Customer", "New Lead → Customer", "sin etapa (antes Customer)"]
    assert [len(h.runs(w.id)) for w in (to_customer, from_none, cleared)] == [1, 1, 1]


# --- Assignee Updated (WF-TRG-ASSIGN-01) --------------------------------------------------------


def test_assignee_updated_by_change_kind_team_and_source_WF_TRG_ASSIGN_01(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    ws = h.world.workspace.id
    agent, manager = h.world.agent, h.world.manager
    team = teams.create_team(session, h.owner, name="Ventas")
    membership = session.get(Membership, (ws, manager.id))
    assert membership is not None
    membership.team_id = team.id
    session.commit()
    assigned_to_team = h.publish(
        definition(
            {
                "type": "assignee_updated",
                "config": {"change": "assigned", "teams": [{"ref": "team", "id": team.id}]},
            },
            _say(
                "$trigger.previous_assignee.firstname → $assignee.firstname ($assignee.team, $trigger.source)"
            ),
        ),
        name="To Ventas",
    )
    unassigned_not_by_users = h.publish(
        definition(
            {
                "type": "assignee_updated",
                "config": {"change": "unassigned", "sources": ["workflow", "api", "system"]},
            },
            _say("libre, antes $trigger.previous_assignee.name"),
        ),
        name="Unassigned",
    )
    any_change = h.publish(
        definition({"type": "assignee_updated", "config": {"change": "any"}}, _say("cambio")), name="Any"
    )
    contact = _new_contact(h)

    def assign(user_id: int | None, actor: Actor) -> None:
        assignment.apply_assignee(session, contact=_contact(h, contact.id), user_id=user_id, actor=actor)
        session.commit()
        h.drain()

    assign(agent.id, Actor.user(h.world.owner.id))  # not in Ventas
    assign(manager.id, Actor.api(1))
    assign(None, Actor.user(h.world.owner.id))  # unassigned by a user: that source is not selected
    assign(agent.id, Actor.system())
    assign(None, Actor.system())
    texts = h.sent_texts()
    assert f"{agent.first_name} → {manager.first_name} (Ventas, api)" in texts
    assert texts.count(f"libre, antes {agent.first_name} {agent.last_name}") == 1
    assert [len(h.runs(w.id)) for w in (assigned_to_team, unassigned_not_by_users, any_change)] == [1, 1, 5]


# --- Condition groups (WF-TRG-02/03) ------------------------------------------------------------


def test_trigger_condition_groups_join_with_and_or_or_WF_TRG_02_03(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    customer = _stage(h, "Customer")
    vip = _tag_ids(h, "VIP")
    conditions = [
        {"category": "contact_field", "field": "language", "operator": "is_equal_to", "value": "es"},
        {"category": "lifecycle", "operator": "is_any_of", "value": [{"ref": "stage", "id": customer.id}]},
    ]

    def trigger(logic: str) -> dict[str, Any]:
        return {
            "type": "contact_tag_updated",
            "config": {
                "action": "added",
                "tags": vip,
                "conditions": {"logic": logic, "conditions": conditions},
            },
        }

    both = h.publish(definition(trigger("and"), _say("and")), name="And")
    either = h.publish(definition(trigger("or"), _say("or")), name="Or")
    contact = _new_contact(h)
    contacts.update_contact(
        session, contact=_contact(h, contact.id), actor=Actor.system(), values={"language": "es"}
    )
    session.commit()
    _tags(h, contact.id, add=("VIP",))  # only the language holds
    assert (len(h.runs(both.id)), len(h.runs(either.id))) == (0, 1)
    lifecycle.set_contact_stage(
        session, contact=_contact(h, contact.id), stage_id=customer.id, actor=Actor.system()
    )
    session.commit()
    _tags(h, contact.id, remove=("VIP",))
    _tags(h, contact.id, add=("VIP",))  # now both hold
    assert (len(h.runs(both.id)), len(h.runs(either.id))) == (1, 2)


# --- Trigger once per contact (WF-TRG-04) -------------------------------------------------------


def _republish(h: Harness, workflow_id: int, definition_: dict[str, Any]) -> None:
    service.stop(h.session, h.owner, workflow_id=workflow_id)
    h.session.commit()
    workflow = h.session.get(Workflow, workflow_id)
    assert workflow is not None
    service.save_draft(
        h.session, h.owner, workflow_id=workflow_id, definition=definition_, revision=workflow.revision
    )
    service.publish(h.session, h.owner, workflow_id=workflow_id)
    h.session.commit()


def test_trigger_once_per_contact_counts_every_past_enrolment_WF_TRG_04(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    steps = [_say("hola $contact.firstname")]
    workflow = h.publish(definition(OPENED, *steps))  # the toggle is off at first
    ana = _new_contact(h, "visitor-1", "Ana")
    assert [r.end_reason for r in h.runs(workflow.id)] == ["completed"]
    _republish(h, workflow.id, definition({**OPENED, "triggerOncePerContact": True}, *steps))
    h.inbound("visitor-1", "otra vez")  # enrolled before the toggle was on, and before the republish
    h.drain()
    assert len(h.runs(workflow.id)) == 1
    _close(h, ana.id, Actor.system())
    _new_contact(h, "visitor-2", "Bea")  # a contact never enrolled enters once
    _again_for(h, "visitor-2")
    assert h.sent_texts() == ["hola Ana", "hola Bea"]
    assert _decisions(h, workflow.id, "conversation.opened")[-3:] == [
        "once_per_contact",
        "enrolled",
        "once_per_contact",
    ]


def _again_for(h: Harness, visitor: str) -> None:
    h.inbound(visitor, "otra")
    h.drain()


# --- Run rules (WF-RUN-01/02/03) ----------------------------------------------------------------


def test_enrolment_checks_conditions_then_blocked_then_enrolled_then_once_WF_RUN_01(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    vip = _tag_ids(h, "VIP", "Gold")
    never = {"logic": "and", "conditions": [{"category": "conversation_status", "operator": "is_open"}]}
    config: dict[str, Any] = {"action": "added", "tags": vip}
    trigger: dict[str, Any] = {"type": "contact_tag_updated", "config": config}
    false_conditions = h.publish(
        definition({**trigger, "config": {**config, "conditions": never}}, _say("x")), name="False"
    )
    waiting_once = h.publish(
        definition(
            {**trigger, "triggerOncePerContact": True}, step("w", "wait", {"amount": 1, "unit": "days"})
        ),
        name="Once",
    )
    contact = _new_contact(h)  # no open conversation: `never` is false
    _tags(h, contact.id, add=("VIP",))
    _tags(h, contact.id, add=("Gold",))  # enrolled and waiting in Once: already enrolled beats once
    contacts.set_blocked(
        session, contact=_contact(h, contact.id), blocked=True, actor=Actor.user(h.world.owner.id)
    )
    session.commit()
    h.drain()
    _tags(h, contact.id, remove=("VIP",))
    _tags(h, contact.id, add=("VIP",))
    assert _decisions(h, false_conditions.id, "contact.tag.updated") == [
        "conditions_false", "conditions_false", "no_match", "conditions_false",
    ]  # fmt: skip
    assert _decisions(h, waiting_once.id, "contact.tag.updated") == [
        "enrolled", "already_enrolled", "no_match", "blocked",
    ]  # fmt: skip
    [run] = h.runs(waiting_once.id)
    assert run.end_reason == "stopped_for_contact"  # WF-RUN-16: blocking ended it


def test_no_reentry_while_enrolled_but_a_new_event_after_the_end_enrols_again_WF_RUN_02(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    vip = _tag_ids(h, "VIP")
    workflow = h.publish(
        definition(
            {"type": "contact_tag_updated", "config": {"action": "added", "tags": vip}},
            step("w", "wait", {"amount": 1, "unit": "hours"}, next="say"),
            _say("fin"),
        )
    )
    contact = _new_contact(h)
    _tags(h, contact.id, add=("VIP",))
    _tags(h, contact.id, remove=("VIP",))
    _tags(h, contact.id, add=("VIP",))  # ignored, not queued
    _clock(container).advance(hours=1, seconds=1)
    h.drain()
    assert h.sent_texts() == ["fin"]
    assert [r.end_reason for r in h.runs(workflow.id)] == ["completed"]
    _tags(h, contact.id, remove=("VIP",))
    _tags(h, contact.id, add=("VIP",))
    assert [r.status for r in h.runs(workflow.id)] == ["ended", "waiting"]
    assert _decisions(h, workflow.id, "contact.tag.updated") == [
        "enrolled",
        "no_match",
        "already_enrolled",
        "no_match",
        "enrolled",
    ]


def test_a_contact_runs_in_several_workflows_at_once_independently_WF_RUN_03(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    slow = h.publish(
        definition(OPENED, step("w", "wait", {"amount": 1, "unit": "hours"}, next="say"), _say("lento")),
        name="Slow",
    )
    fast = h.publish(definition(OPENED, _say("rápido")), name="Fast")
    h.inbound("visitor-1", "hola")
    h.drain()
    assert h.sent_texts() == ["rápido"]
    assert [r.status for r in h.runs(slow.id)] == ["waiting"]
    assert [r.end_reason for r in h.runs(fast.id)] == ["completed"]
    _clock(container).advance(hours=1, seconds=1)
    h.drain()
    assert h.sent_texts() == ["rápido", "lento"]


# --- Lifecycle of the workflow (WF-LIFE-04/05/06, WF-RUN-15) ------------------------------------


def test_events_while_draft_or_stopped_are_ignored_and_never_replayed_WF_LIFE_04(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    flow = definition(OPENED, _say("hola"))
    workflow = service.create_workflow(session, h.owner, name="Later")
    service.save_draft(session, h.owner, workflow_id=workflow.id, definition=flow, revision=1)
    session.commit()
    contact = _new_contact(h)  # an event while Draft
    service.publish(session, h.owner, workflow_id=workflow.id)
    session.commit()
    h.drain()
    assert h.runs(workflow.id) == []
    service.stop(session, h.owner, workflow_id=workflow.id)
    session.commit()
    _again_for(h, "visitor-1")  # an event while Stopped
    _close(h, contact.id, Actor.system())
    service.publish(session, h.owner, workflow_id=workflow.id)
    session.commit()
    h.drain()
    assert h.runs(workflow.id) == [] and h.sent_texts() == []
    _again_for(h, "visitor-1")  # after publishing, a new event enrols
    assert h.sent_texts() == ["hola"]


def test_stop_ejects_all_drops_unsent_messages_and_republish_does_not_reenrol_WF_RUN_15_WF_LIFE_05_06(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    workflow = h.publish(
        definition(
            OPENED,
            step("w", "wait", {"amount": 1, "unit": "hours"}, next="say"),
            _say("tarde"),
        ),
        name="Waits",
    )
    sender = h.publish(definition(OPENED, _say("ahora")), name="Sends")
    h.inbound("visitor-1", "hola")
    h.inbound("visitor-2", "hola", first_name="Bea")
    h.engine.contacts_once()  # runs advanced, but the relay has not handed the messages over yet
    pending = session.scalars(select(Outbox).where(Outbox.status == "pending")).all()
    assert len(pending) == 2
    session.commit()
    for target in (workflow, sender):
        service.stop(session, h.owner, workflow_id=target.id)
    session.commit()
    _clock(container).advance(hours=2)
    h.drain()
    assert h.sent_texts() == []  # unsent messages dropped, waits cancelled
    for target in (workflow, sender):
        assert [r.end_reason for r in h.runs(target.id)] == ["workflow_stopped"] * 2
    service.publish(session, h.owner, workflow_id=workflow.id)
    session.commit()
    h.drain()
    assert len(h.runs(workflow.id)) == 2  # republishing re-enrols nobody
    _clock(container).advance(hours=2)
    h.drain()
    assert h.sent_texts() == []


# --- Contact removal (WF-RUN-16) ----------------------------------------------------------------


def test_blocking_ends_the_contacts_runs_with_stopped_for_contact_WF_RUN_16(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    workflow = h.publish(
        definition(OPENED, step("w", "wait", {"amount": 1, "unit": "hours"}, next="say"), _say("x"))
    )
    inbound = h.inbound("visitor-1", "hola")
    h.drain()
    contacts.set_blocked(
        session, contact=_contact(h, inbound.contact.id), blocked=True, actor=Actor.user(h.world.owner.id)
    )
    session.commit()
    _clock(container).advance(hours=2)
    h.drain()
    [run] = h.runs(workflow.id)
    assert (run.status, run.end_reason) == ("ended", "stopped_for_contact")
    assert h.sent_texts() == []


def test_deleting_a_contact_ends_its_runs_with_their_waits_WF_RUN_16(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    workflow = h.publish(
        definition(OPENED, step("w", "wait", {"amount": 1, "unit": "hours"}, next="say"), _say("x"))
    )
    gone = h.inbound("visitor-1", "hola")
    stays = h.inbound("visitor-2", "hola", first_name="Bea")
    h.drain()
    ended_before = _contact_deleted_count()
    contacts.delete_contact(session, h.owner, contact=_contact(h, gone.contact.id))
    session.commit()
    assert _contact_deleted_count() == ended_before + 1  # the run ended as contact_deleted...
    _clock(container).advance(hours=2)
    h.drain()
    assert h.sent_texts() == ["x"]  # only the remaining contact's run went on
    # ...and its rows went with the contact's other personal data (docs/decisions.md)
    assert [(r.contact_id, r.end_reason) for r in h.runs(workflow.id)] == [(stays.contact.id, "completed")]


def _contact_deleted_count() -> float:
    value = metrics.REGISTRY.get_sample_value("convoflow_runs_finished_total", {"reason": "contact_deleted"})
    return value or 0.0


def test_a_merge_ends_the_merged_away_contacts_runs_and_keeps_the_survivors_WF_RUN_16(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    waits = h.publish(
        definition(
            OPENED,
            step("w", "wait", {"amount": 1, "unit": "hours"}, next="say"),
            _say("sigo $contact.firstname"),
        )
    )
    survivor = h.inbound("visitor-1", "hola")
    other = h.inbound("visitor-2", "hola", first_name="Bea")
    h.drain()
    merge_contacts(session, h.owner, survivor_id=survivor.contact.id, other_id=other.contact.id)
    session.commit()
    _clock(container).advance(hours=2)
    h.drain()
    assert h.sent_texts() == ["sigo Ana"]
    ongoing = [(r.contact_id, r.end_reason) for r in h.runs(waits.id) if r.end_reason != "contact_deleted"]
    assert ongoing == [(survivor.contact.id, "completed")]
    assert session.get(Contact, other.contact.id) is None
    session.commit()
