"""The contact's assignee (CRM-CONV-05): who may assign whom, and the events it emits."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from convoflow.bootstrap import Container
from convoflow.testing.clock import FakeClock
from convoflow.testing.factories import make_contact, make_member
from tests.contacts.helpers import ClientFor, contact_row, event_count, read_events
from tests.support import World, assert_error, seed_world


def _contact(session: Session, world: World, assignee_id: int | None = None) -> int:
    contact = make_contact(session, workspace_id=world.workspace.id)
    contact.assignee_user_id = assignee_id
    session.commit()
    return contact.id


def _person(user_id: int, world: World) -> dict[str, object]:
    user = next(u for u in (world.owner, world.manager, world.agent) if u.id == user_id)
    return {"id": user.id, "first_name": user.first_name, "last_name": user.last_name, "email": user.email}


def test_owner_and_manager_assign_anyone_and_each_change_emits(
    owner: TestClient, session: Session, world: World, client_for: ClientFor, clock: FakeClock
) -> None:
    # CRM-CONV-05
    contact_id = _contact(session, world)
    response = owner.put(f"/api/contacts/{contact_id}/assignee", json={"user_id": world.agent.id})
    assert response.status_code == 200, response.text
    assert response.json()["assignee"] == _person(world.agent.id, world)
    row = contact_row(session, contact_id)
    assert row.assignee_user_id == world.agent.id and row.assigned_at == clock.now()
    manager = client_for(world.manager)
    assert (
        manager.put(f"/api/contacts/{contact_id}/assignee", json={"user_id": world.owner.id}).status_code
        == 200
    )
    assert (
        manager.put(f"/api/contacts/{contact_id}/assignee", json={"user_id": None}).json()["assignee"] is None
    )
    assert contact_row(session, contact_id).assigned_at is None
    events = read_events(session, workspace_id=world.workspace.id, type="contact.assignee.updated")
    assert [(e.payload["previous"], e.payload["assignee"]) for e in events] == [
        (None, _person(world.agent.id, world)),
        (_person(world.agent.id, world), _person(world.owner.id, world)),
        (_person(world.owner.id, world), None),
    ]
    assert [e.actor_id for e in events] == [world.owner.id, world.manager.id, world.manager.id]
    assert all(e.source == "user" and e.payload["contact_id"] == contact_id for e in events)


def test_agent_may_take_and_release_their_own(session: Session, world: World, client_for: ClientFor) -> None:
    # CRM-CONV-05: Agents may assign themselves (decision: and release their own)
    contact_id = _contact(session, world)
    agent = client_for(world.agent)
    taken = agent.put(f"/api/contacts/{contact_id}/assignee", json={"user_id": world.agent.id})
    assert taken.status_code == 200, taken.text
    assert taken.json()["assignee"]["id"] == world.agent.id
    released = agent.put(f"/api/contacts/{contact_id}/assignee", json={"user_id": None})
    assert released.status_code == 200 and released.json()["assignee"] is None
    events = read_events(session, workspace_id=world.workspace.id, type="contact.assignee.updated")
    assert len(events) == 2 and all(e.actor_id == world.agent.id for e in events)


def test_agent_cannot_assign_others_or_release_someone_elses(
    session: Session, world: World, client_for: ClientFor
) -> None:
    # CRM-CONV-05
    free = _contact(session, world)
    managers = _contact(session, world, world.manager.id)
    agent = client_for(world.agent)
    before = event_count(session, world.workspace.id)
    assert_error(
        agent.put(f"/api/contacts/{free}/assignee", json={"user_id": world.manager.id}), 403, "role_required"
    )
    assert_error(
        agent.put(f"/api/contacts/{managers}/assignee", json={"user_id": None}), 403, "role_required"
    )
    assert_error(agent.put(f"/api/contacts/{managers}/assignee", json={"user_id": world.owner.id}), 403)
    assert contact_row(session, free).assignee_user_id is None
    assert contact_row(session, managers).assignee_user_id == world.manager.id
    assert event_count(session, world.workspace.id) == before


def test_deactivated_unknown_or_foreign_user_is_invalid_assignee(
    owner: TestClient, session: Session, world: World, container: Container
) -> None:
    # CRM-CONV-05, CRM-USER-03
    contact_id = _contact(session, world)
    leaver = make_member(session, container.hasher, workspace=world.workspace, role="agent", first_name="Lea")
    session.commit()
    assert owner.post(f"/api/users/{leaver.id}/deactivate").status_code == 200
    stranger = seed_world(session, container.hasher, name="Other").agent
    before = event_count(session, world.workspace.id)
    for user_id in (leaver.id, stranger.id, 999999):
        assert_error(
            owner.put(f"/api/contacts/{contact_id}/assignee", json={"user_id": user_id}),
            422,
            "invalid_assignee",
        )
    assert_error(
        owner.put(f"/api/contacts/{contact_id}/assignee", json={"user_id": "me"}), 422, "validation_error"
    )
    assert contact_row(session, contact_id).assignee_user_id is None
    assert event_count(session, world.workspace.id) == before


def test_same_assignee_emits_nothing(
    owner: TestClient, session: Session, world: World, client_for: ClientFor
) -> None:
    # CRM-EVT-04
    contact_id = _contact(session, world)
    owner.put(f"/api/contacts/{contact_id}/assignee", json={"user_id": world.agent.id})
    before = event_count(session, world.workspace.id)
    assert (
        owner.put(f"/api/contacts/{contact_id}/assignee", json={"user_id": world.agent.id}).status_code == 200
    )
    agent = client_for(world.agent)
    assert (
        agent.put(f"/api/contacts/{contact_id}/assignee", json={"user_id": world.agent.id}).status_code == 200
    )
    unassigned = _contact(session, world)
    before = event_count(session, world.workspace.id)
    assert owner.put(f"/api/contacts/{unassigned}/assignee", json={"user_id": None}).status_code == 200
    assert event_count(session, world.workspace.id) == before


def test_deactivating_a_user_unassigns_their_contacts_one_event_each(
    owner: TestClient, session: Session, world: World
) -> None:
    # CRM-USER-03 (decision: one contact.assignee.updated per contact)
    first, second = _contact(session, world), _contact(session, world)
    other = _contact(session, world)
    for contact_id in (first, second):
        owner.put(f"/api/contacts/{contact_id}/assignee", json={"user_id": world.agent.id})
    owner.put(f"/api/contacts/{other}/assignee", json={"user_id": world.manager.id})
    assert owner.post(f"/api/users/{world.agent.id}/deactivate").status_code == 200
    assert contact_row(session, first).assignee_user_id is None
    assert contact_row(session, second).assignee_user_id is None
    assert contact_row(session, other).assignee_user_id == world.manager.id
    events = read_events(session, workspace_id=world.workspace.id, type="contact.assignee.updated")[-2:]
    assert [e.contact_id for e in events] == [first, second]
    assert all(
        e.payload["assignee"] is None and e.payload["previous"]["id"] == world.agent.id for e in events
    )
