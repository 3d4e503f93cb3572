"""Writing domain events: the row every change leaves (CRM-EVT-02/03) and reading a contact's events."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from convoflow.bootstrap import Container
from convoflow.events import catalogue
from convoflow.events.actor import Actor
from convoflow.events.emit import emit
from convoflow.events.models import Event
from convoflow.events.service import list_contact_events
from convoflow.testing.clock import FakeClock
from convoflow.testing.factories import make_contact
from tests.support import World, events_of, seed_world


@pytest.fixture
def world(session: Session, container: Container) -> World:
    return seed_world(session, container.hasher)


@pytest.mark.parametrize(
    ("actor", "source", "actor_id", "run_id"),
    [
        (Actor.user(7), "user", 7, None),
        (Actor.api(8), "api", 8, None),
        (Actor.workflow(9), "workflow", 9, 9),
        (Actor.contact(10), "contact", 10, None),
        (Actor.system(), "system", None, None),
        (Actor("broadcast"), "broadcast", None, None),
    ],
)
def test_emit_writes_source_actor_and_run(
    session: Session,
    world: World,
    clock: FakeClock,
    actor: Actor,
    source: str,
    actor_id: int | None,
    run_id: int | None,
) -> None:
    # CRM-EVT-02: id, workspace, time, source, actor and the run's id when a run caused it.
    event_id = emit(
        session,
        workspace_id=world.workspace.id,
        contact_id=None,
        type=catalogue.COMMENT_CREATED,
        actor=actor,
        payload={"comment": {"id": 1}},
    )
    session.commit()
    [event] = events_of(session, workspace_id=world.workspace.id)
    assert event.id == event_id
    assert event.workspace_id == world.workspace.id
    assert event.type == "comment.created"
    assert event.payload == {"comment": {"id": 1}}
    assert (event.source, event.actor_id, event.run_id) == (source, actor_id, run_id)
    assert event.occurred_at == clock.now()


def test_contact_sourced_event_without_actor_id_names_its_contact(session: Session, world: World) -> None:
    # CRM-EVT-02 (events.md): the actor of a `contact` event is the contact, even when the caller
    # did not know its id yet (a contact created by its own first message).
    contact = make_contact(session, workspace_id=world.workspace.id)
    emit(
        session,
        workspace_id=world.workspace.id,
        contact_id=contact.id,
        type=catalogue.CONTACT_UPDATED,
        actor=Actor("contact"),
        payload={"contact_id": contact.id, "changes": []},
    )
    session.commit()
    event = events_of(session, workspace_id=world.workspace.id)[-1]
    assert (event.source, event.actor_id) == ("contact", contact.id)


def test_unknown_event_type_is_refused_and_writes_nothing(session: Session, world: World) -> None:
    # CRM-EVT-01: only catalogued types exist.
    with pytest.raises(ValueError):
        emit(
            session,
            workspace_id=world.workspace.id,
            type="contact.exploded",
            actor=Actor.system(),
            payload={},
        )
    assert events_of(session, workspace_id=world.workspace.id) == []


def test_catalogue_lists_every_documented_event() -> None:
    # CRM-EVT-01: the table of the spec.
    assert set(catalogue.ALL_EVENTS) == {
        "contact.created",
        "contact.deleted",
        "contact.updated",
        "contact.tag.updated",
        "contact.lifecycle.updated",
        "contact.assignee.updated",
        "conversation.opened",
        "conversation.closed",
        "message.received",
        "message.sent",
        "message.status.updated",
        "comment.created",
    }
    assert len(catalogue.ALL_EVENTS) == len(set(catalogue.ALL_EVENTS))


def test_events_of_one_transaction_keep_emission_order(
    session: Session, world: World, clock: FakeClock
) -> None:
    # CRM-EVT-03 / decisions.md: events are ordered by id.
    ids = []
    for n in range(3):
        ids.append(
            emit(
                session,
                workspace_id=world.workspace.id,
                type=catalogue.COMMENT_CREATED,
                actor=Actor.system(),
                payload={"n": n},
            )
        )
        clock.advance(seconds=1)
    session.commit()
    events = events_of(session, workspace_id=world.workspace.id)
    assert ids == sorted(ids) and [e.id for e in events] == ids
    assert [e.payload["n"] for e in events] == [0, 1, 2]


def test_event_id_is_greater_than_the_rows_its_change_created(session: Session, world: World) -> None:
    # CRM-EVT-03: emit() flushes pending changes first, so the event follows the rows it describes.
    contact = make_contact(session, workspace_id=world.workspace.id)
    session.commit()
    [event] = events_of(session, workspace_id=world.workspace.id)
    assert event.contact_id == contact.id and event.payload["contact"]["id"] == contact.id


def test_rolled_back_transaction_leaves_no_event(session: Session, world: World) -> None:
    # CRM-EVT-03: the event lives and dies with its change.
    make_contact(session, workspace_id=world.workspace.id)
    emit(
        session,
        workspace_id=world.workspace.id,
        type=catalogue.COMMENT_CREATED,
        actor=Actor.system(),
        payload={},
    )
    session.rollback()
    assert events_of(session, workspace_id=world.workspace.id) == []


def test_event_ids_are_never_reused(session: Session, world: World) -> None:
    # CRM-EVT-03: consumers de-duplicate by event id, so a deleted newest id is never handed out again.
    first = emit(
        session,
        workspace_id=world.workspace.id,
        type=catalogue.COMMENT_CREATED,
        actor=Actor.system(),
        payload={},
    )
    session.commit()
    session.execute(delete(Event).where(Event.id == first))
    session.commit()
    second = emit(
        session,
        workspace_id=world.workspace.id,
        type=catalogue.COMMENT_CREATED,
        actor=Actor.system(),
        payload={},
    )
    session.commit()
    assert second > first


def test_list_contact_events_newest_first_scoped_and_paged(
    session: Session, world: World, container: Container
) -> None:
    # CRM-CONT-04: a contact's activity, newest first, only its own events in its own workspace.
    other_world = seed_world(session, container.hasher, name="Other")
    contact = make_contact(session, workspace_id=world.workspace.id)
    make_contact(session, workspace_id=world.workspace.id)
    for n in range(3):
        emit(
            session,
            workspace_id=world.workspace.id,
            contact_id=contact.id,
            type=catalogue.COMMENT_CREATED,
            actor=Actor.user(world.owner.id),
            payload={"n": n},
        )
    emit(
        session,
        workspace_id=other_world.workspace.id,
        contact_id=contact.id,
        type=catalogue.COMMENT_CREATED,
        actor=Actor.system(),
        payload={"n": "elsewhere"},
    )
    session.commit()
    mine = list_contact_events(
        session, workspace_id=world.workspace.id, contact_id=contact.id, before_id=None, limit=10
    )
    assert [e.payload.get("n") for e in mine] == [2, 1, 0, None]
    assert [e.type for e in mine][-1] == "contact.created"
    page = list_contact_events(
        session, workspace_id=world.workspace.id, contact_id=contact.id, before_id=None, limit=2
    )
    rest = list_contact_events(
        session, workspace_id=world.workspace.id, contact_id=contact.id, before_id=page[-1].id, limit=2
    )
    assert [e.id for e in [*page, *rest]] == [e.id for e in mine]
    assert session.scalars(select(Event).where(Event.workspace_id == other_world.workspace.id)).all() != []
