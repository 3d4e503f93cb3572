"""Lifecycle stages (CRM-LIFE-01/02/03) through /api/lifecycle-stages and /api/contacts/{id}/lifecycle."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from convoflow.contacts.models import LifecycleStage
from convoflow.conversations import messages
from convoflow.conversations.content import TextContent
from convoflow.testing.factories import make_channel, make_contact
from tests.contacts.helpers import (
    ClientFor,
    contact_row,
    event_count,
    read_events,
    set_restrictions,
    set_workspace_settings,
)
from tests.support import World, assert_error

DEFAULT_NAMES = ["New Lead", "Hot Lead", "Payment", "Customer", "Cold Lead"]


def _stages(owner: TestClient) -> list[dict[str, Any]]:
    body: list[dict[str, Any]] = owner.get("/api/lifecycle-stages").json()
    return body


def _stage_count(session: Session, workspace_id: int) -> int:
    query = (
        select(func.count()).select_from(LifecycleStage).where(LifecycleStage.workspace_id == workspace_id)
    )
    count = session.scalar(query) or 0
    session.commit()
    return count


def _contact(session: Session, world: World) -> int:
    contact_id = make_contact(session, workspace_id=world.workspace.id).id
    session.commit()
    return contact_id


def test_new_workspace_has_five_default_stages_and_no_default(owner: TestClient) -> None:
    # CRM-LIFE-01, decision: no default stage until an Owner chooses one
    stages = _stages(owner)
    assert [s["name"] for s in stages] == DEFAULT_NAMES
    assert [s["position"] for s in stages] == [0, 1, 2, 3, 4]
    assert [s["is_lost"] for s in stages] == [False, False, False, False, True]
    assert not any(s["is_default"] for s in stages)


def test_stage_names_are_unique_and_bounded(owner: TestClient, session: Session, world: World) -> None:
    # CRM-LIFE-01: name 1-50 chars, unique
    assert_error(owner.post("/api/lifecycle-stages", json={"name": "customer"}), 409, "stage_name_taken")
    assert_error(owner.post("/api/lifecycle-stages", json={"name": ""}), 422)
    assert_error(owner.post("/api/lifecycle-stages", json={"name": "x" * 51}), 422)
    hot = _stages(owner)[1]
    assert_error(
        owner.patch(f"/api/lifecycle-stages/{hot['id']}", json={"name": "NEW LEAD"}), 409, "stage_name_taken"
    )
    assert _stage_count(session, world.workspace.id) == 5
    created = owner.post("/api/lifecycle-stages", json={"name": "x" * 50})
    assert created.status_code == 201 and created.json()["position"] == 5


def test_at_most_twenty_stages(owner: TestClient, session: Session, world: World) -> None:
    # CRM-LIFE-01: at most 20 stages
    for n in range(15):
        assert owner.post("/api/lifecycle-stages", json={"name": f"Stage {n}"}).status_code == 201
    assert _stage_count(session, world.workspace.id) == 20
    assert_error(owner.post("/api/lifecycle-stages", json={"name": "Twenty-one"}), 409, "stage_limit_reached")
    assert _stage_count(session, world.workspace.id) == 20


def test_reorder_must_list_every_stage_once(owner: TestClient, session: Session, world: World) -> None:
    # CRM-LIFE-01: reorderable
    ids = [s["id"] for s in _stages(owner)]
    for bad in (ids[:-1], [*ids, ids[0]], [*ids[:-1], 999999], []):
        body = assert_error(owner.put("/api/lifecycle-stages/order", json={"stage_ids": bad}), 422)
        assert body["details"][0]["field"] == "stage_ids"
    assert [s["id"] for s in _stages(owner)] == ids
    wanted = [ids[4], ids[0], ids[3], ids[1], ids[2]]
    response = owner.put("/api/lifecycle-stages/order", json={"stage_ids": wanted})
    assert response.status_code == 200, response.text
    assert [s["id"] for s in response.json()] == wanted
    assert [s["position"] for s in response.json()] == [0, 1, 2, 3, 4]
    assert [s["id"] for s in _stages(owner)] == wanted


def test_one_default_stage_at_most(owner: TestClient) -> None:
    # CRM-LIFE-02
    stages = _stages(owner)
    owner.patch(f"/api/lifecycle-stages/{stages[0]['id']}", json={"is_default": True})
    owner.patch(f"/api/lifecycle-stages/{stages[2]['id']}", json={"is_default": True})
    assert [s["is_default"] for s in _stages(owner)] == [False, False, True, False, False]
    created = owner.post("/api/lifecycle-stages", json={"name": "Trial", "is_default": True}).json()
    after = _stages(owner)
    assert [s["id"] for s in after if s["is_default"]] == [created["id"]]
    owner.patch(f"/api/lifecycle-stages/{created['id']}", json={"is_default": False})
    assert not any(s["is_default"] for s in _stages(owner))


def test_default_stage_applies_to_a_new_contact_on_its_first_inbound_message(
    owner: TestClient, session: Session, world: World
) -> None:
    # CRM-LIFE-02, CRM-CONT-03
    new_lead = _stages(owner)[0]
    owner.patch(f"/api/lifecycle-stages/{new_lead['id']}", json={"is_default": True})
    channel = make_channel(session, workspace_id=world.workspace.id)
    contact = messages.record_inbound(
        session, channel=channel, external_id="v-1", content=TextContent(type="text", text="hi")
    ).contact
    session.commit()
    assert contact.lifecycle_stage_id == new_lead["id"]
    types = [e.type for e in read_events(session, workspace_id=world.workspace.id)]
    assert types == [
        "contact.created",
        "contact.lifecycle.updated",
        "conversation.opened",
        "message.received",
    ]
    stage_event = read_events(session, workspace_id=world.workspace.id, type="contact.lifecycle.updated")[0]
    assert stage_event.source == "contact" and stage_event.actor_id == contact.id
    assert stage_event.payload == {
        "contact_id": contact.id,
        "from": None,
        "to": {"id": new_lead["id"], "name": "New Lead"},
    }
    # A contact created by hand gets no stage.
    assert owner.post("/api/contacts", json={"first_name": "Ana"}).json()["lifecycle"] is None


def test_setting_a_stage_emits_from_and_to(owner: TestClient, session: Session, world: World) -> None:
    # CRM-LIFE-03
    new_lead, hot = _stages(owner)[0], _stages(owner)[1]
    contact_id = _contact(session, world)
    first = owner.put(f"/api/contacts/{contact_id}/lifecycle", json={"stage_id": new_lead["id"]})
    assert first.status_code == 200 and first.json()["lifecycle"] == {
        "id": new_lead["id"],
        "name": "New Lead",
    }
    owner.put(f"/api/contacts/{contact_id}/lifecycle", json={"stage_id": hot["id"]})
    cleared = owner.put(f"/api/contacts/{contact_id}/lifecycle", json={"stage_id": None})
    assert cleared.json()["lifecycle"] is None
    events = read_events(session, workspace_id=world.workspace.id, type="contact.lifecycle.updated")
    assert [(e.payload["from"], e.payload["to"]) for e in events] == [
        (None, {"id": new_lead["id"], "name": "New Lead"}),
        ({"id": new_lead["id"], "name": "New Lead"}, {"id": hot["id"], "name": "Hot Lead"}),
        ({"id": hot["id"], "name": "Hot Lead"}, None),
    ]
    assert all(e.source == "user" and e.actor_id == world.owner.id for e in events)
    assert all(e.contact_id == contact_id for e in events)


def test_setting_the_same_stage_emits_nothing(owner: TestClient, session: Session, world: World) -> None:
    # CRM-EVT-04
    hot = _stages(owner)[1]
    contact_id = _contact(session, world)
    owner.put(f"/api/contacts/{contact_id}/lifecycle", json={"stage_id": hot["id"]})
    before = event_count(session, world.workspace.id)
    assert owner.put(f"/api/contacts/{contact_id}/lifecycle", json={"stage_id": hot["id"]}).status_code == 200
    assert event_count(session, world.workspace.id) == before
    other = _contact(session, world)
    before = event_count(session, world.workspace.id)
    assert owner.put(f"/api/contacts/{other}/lifecycle", json={"stage_id": None}).status_code == 200
    assert event_count(session, world.workspace.id) == before


def test_unknown_stage_is_404_and_changes_nothing(owner: TestClient, session: Session, world: World) -> None:
    contact_id = _contact(session, world)
    assert_error(owner.put(f"/api/contacts/{contact_id}/lifecycle", json={"stage_id": 999999}), 404)
    assert_error(owner.put(f"/api/contacts/{contact_id}/lifecycle", json={"stage_id": "hot"}), 422)
    assert_error(owner.put(f"/api/contacts/{contact_id}/lifecycle", json={}), 422)
    assert contact_row(session, contact_id).lifecycle_stage_id is None
    assert event_count(session, world.workspace.id) == 1


def test_stages_switched_off_refuse_changes(owner: TestClient, session: Session, world: World) -> None:
    # CRM-LIFE-01 feature toggle
    hot = _stages(owner)[1]
    contact_id = _contact(session, world)
    switched = owner.patch("/api/workspace", json={"settings": {"lifecycle_enabled": False}})
    assert switched.status_code == 200, switched.text
    before = event_count(session, world.workspace.id)
    assert_error(
        owner.put(f"/api/contacts/{contact_id}/lifecycle", json={"stage_id": hot["id"]}),
        422,
        "lifecycle_disabled",
    )
    assert contact_row(session, contact_id).lifecycle_stage_id is None
    assert event_count(session, world.workspace.id) == before
    set_workspace_settings(session, world.workspace, lifecycle_enabled=True)
    assert owner.put(f"/api/contacts/{contact_id}/lifecycle", json={"stage_id": hot["id"]}).status_code == 200


def test_deleting_a_stage_leaves_its_contacts_without_one(
    owner: TestClient, session: Session, world: World
) -> None:
    # CRM-LIFE-01 removable; decision: no per-contact events
    stages = _stages(owner)
    contact_id = _contact(session, world)
    owner.put(f"/api/contacts/{contact_id}/lifecycle", json={"stage_id": stages[1]["id"]})
    before = event_count(session, world.workspace.id)
    assert owner.delete(f"/api/lifecycle-stages/{stages[1]['id']}").status_code == 204
    assert owner.get(f"/api/contacts/{contact_id}").json()["lifecycle"] is None
    assert event_count(session, world.workspace.id) == before
    after = _stages(owner)
    assert [s["name"] for s in after] == ["New Lead", "Payment", "Customer", "Cold Lead"]
    assert [s["position"] for s in after] == [0, 1, 2, 3]


def test_agents_and_restricted_managers_cannot_edit_stages(
    owner: TestClient, session: Session, world: World, client_for: ClientFor
) -> None:
    # CRM-ROLE-01: stages are workspace settings; moving a contact between stages is editing it
    stage = _stages(owner)[0]
    agent = client_for(world.agent)
    assert_error(agent.post("/api/lifecycle-stages", json={"name": "X"}), 403, "role_required")
    assert_error(agent.patch(f"/api/lifecycle-stages/{stage['id']}", json={"name": "X"}), 403)
    assert_error(agent.delete(f"/api/lifecycle-stages/{stage['id']}"), 403)
    set_restrictions(session, world.workspace, world.manager, restrict_space_setting=True)
    ids = [s["id"] for s in _stages(owner)]
    assert_error(
        client_for(world.manager).put("/api/lifecycle-stages/order", json={"stage_ids": ids[::-1]}), 403
    )
    assert [s["name"] for s in _stages(owner)] == DEFAULT_NAMES
    contact_id = _contact(session, world)
    assert (
        agent.put(f"/api/contacts/{contact_id}/lifecycle", json={"stage_id": stage["id"]}).status_code == 200
    )
