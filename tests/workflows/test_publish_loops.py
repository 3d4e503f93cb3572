"""Loop detection at publish through the API (WF-LOOP-01): 422 `loop_detected` naming the workflows and
steps of the cycle, and nothing changed. The loop rules themselves are unit-tested in
tests/workflows/definition/test_loops.py."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from convoflow.bootstrap import Container
from convoflow.contacts.tags import create_tag
from convoflow.testing.factories import principal
from tests.support import World, assert_error, login, seed_world
from tests.workflows.lifecycle_support import (
    OPENED,
    calls,
    document,
    make_draft,
    make_published,
    manual,
    owner_of,
    send,
    snapshot,
    step,
    stored,
    versions_of,
)


@pytest.fixture
def world(session: Session, container: Container) -> World:
    return seed_world(session, container.hasher)


@pytest.fixture
def owner(client: TestClient, world: World) -> TestClient:
    login(client, world.owner)
    return client


def tag_trigger(tag_id: int) -> dict[str, Any]:
    return {
        "type": "contact_tag_updated",
        "config": {"action": "added", "tags": [{"ref": "tag", "id": tag_id}]},
    }


def adds(tag_id: int, key: str, name: str) -> dict[str, Any]:
    return step(
        key,
        "update_tag",
        name=name,
        outputs={"next": None},
        action="add",
        tags=[{"ref": "tag", "id": tag_id}],
    )


def test_a_to_b_to_a_is_refused_naming_the_workflows_and_steps(
    owner: TestClient, session: Session, world: World
) -> None:  # WF-LOOP-01
    who = owner_of(world)
    a = make_draft(session, who, "A", document(manual(), send("s1")))
    b = make_draft(session, who, "B", document(manual(), calls(a.id, "A", key="to_a", name="Pasar a A")))
    service_a = document(manual(), calls(b.id, "B", key="to_b", name="Pasar a B"))
    assert (
        owner.put(
            f"/api/workflows/{a.id}/definition", json={"revision": 2, "definition": service_a}
        ).status_code
        == 200
    )
    assert owner.post(f"/api/workflows/{a.id}/publish").status_code == 200  # B is not published: no loop yet
    before = snapshot(session, world.workspace.id)

    body = assert_error(owner.post(f"/api/workflows/{b.id}/publish"), 422, "loop_detected")
    assert body["message"] == "Workflow loop detected: B (step 'Pasar a A') → A (step 'Pasar a B') → B"
    assert body["details"] == {
        "cycle": [
            {"workflowId": b.id, "workflowName": "B", "stepKey": "to_a", "stepName": "Pasar a A"},
            {"workflowId": a.id, "workflowName": "A", "stepKey": "to_b", "stepName": "Pasar a B"},
        ]
    }
    assert snapshot(session, world.workspace.id) == before
    assert stored(session, b.id).state == "draft" and versions_of(session, b.id) == []

    # Only Published workflows count: with A stopped, B publishes; then A cannot be republished.
    assert owner.post(f"/api/workflows/{a.id}/stop").status_code == 200
    assert owner.post(f"/api/workflows/{b.id}/publish").status_code == 200
    body = assert_error(owner.post(f"/api/workflows/{a.id}/publish"), 422, "loop_detected")
    assert [hop["workflowId"] for hop in body["details"]["cycle"]] == [a.id, b.id]
    assert stored(session, a.id).state == "stopped"


def test_a_workflow_triggering_itself_is_refused(owner: TestClient, session: Session, world: World) -> None:
    # WF-LOOP-01: a self-trigger (Tag added VIP → Update Contact Tag add VIP).
    vip = create_tag(session, principal(world.workspace, world.owner), name="VIP")
    session.commit()
    workflow = make_draft(
        session,
        owner_of(world),
        "Etiquetador",
        document(tag_trigger(vip.id), adds(vip.id, "t1", "Añadir VIP")),
    )
    before = snapshot(session, world.workspace.id)
    body = assert_error(owner.post(f"/api/workflows/{workflow.id}/publish"), 422, "loop_detected")
    assert body["message"] == "Workflow loop detected: Etiquetador (step 'Añadir VIP') → Etiquetador"
    assert body["details"]["cycle"] == [
        {"workflowId": workflow.id, "workflowName": "Etiquetador", "stepKey": "t1", "stepName": "Añadir VIP"}
    ]
    assert snapshot(session, world.workspace.id) == before


def test_a_longer_cycle_is_refused(owner: TestClient, session: Session, world: World) -> None:
    # WF-LOOP-01: A adds t2 → B (on t2) adds t3 → C (on t3) adds t1 → A (on t1).
    who = principal(world.workspace, world.owner)
    t1, t2, t3 = (create_tag(session, who, name=name) for name in ("t1", "t2", "t3"))
    session.commit()
    a = make_published(
        session, owner_of(world), "A", document(tag_trigger(t1.id), adds(t2.id, "a", "A añade t2"))
    )
    b = make_published(
        session, owner_of(world), "B", document(tag_trigger(t2.id), adds(t3.id, "b", "B añade t3"))
    )
    c = make_draft(
        session, owner_of(world), "C", document(tag_trigger(t3.id), adds(t1.id, "c", "C añade t1"))
    )
    before = snapshot(session, world.workspace.id)
    body = assert_error(owner.post(f"/api/workflows/{c.id}/publish"), 422, "loop_detected")
    assert [(hop["workflowId"], hop["stepKey"]) for hop in body["details"]["cycle"]] == [
        (c.id, "c"),
        (a.id, "a"),
        (b.id, "b"),
    ]
    assert body["message"] == (
        "Workflow loop detected: C (step 'C añade t1') → A (step 'A añade t2') → B (step 'B añade t3') → C"
    )
    assert snapshot(session, world.workspace.id) == before


def test_pending_edits_forming_a_loop_are_not_saved(
    owner: TestClient, session: Session, world: World
) -> None:
    # WF-LOOP-01 with the builder's publish: the edits are saved only if the publish succeeds.
    vip = create_tag(session, principal(world.workspace, world.owner), name="VIP")
    session.commit()
    workflow = make_draft(session, owner_of(world), "Etiquetador", document(OPENED, send("s1")))
    before = snapshot(session, world.workspace.id)
    edits = document(tag_trigger(vip.id), adds(vip.id, "t1", "Añadir VIP"))
    response = owner.post(f"/api/workflows/{workflow.id}/publish", json={"revision": 2, "definition": edits})
    assert_error(response, 422, "loop_detected")
    assert snapshot(session, world.workspace.id) == before
    assert stored(session, workflow.id).draft["trigger"]["type"] == "conversation_opened"
    # The same edits can still be saved as a draft: loops are checked at publish only.
    saved = owner.put(f"/api/workflows/{workflow.id}/definition", json={"revision": 2, "definition": edits})
    assert saved.status_code == 200 and saved.json()["problems"] == []
