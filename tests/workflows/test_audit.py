"""The workflow audit trail: who created, saved, published, stopped, edited, cloned, imported, restored
and deleted which workflow, and when; GET /api/workflows/{id}/history (table audit_log)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from convoflow.bootstrap import Container
from convoflow.testing.clock import FakeClock
from tests.support import World, assert_error, login, seed_world
from tests.workflows.lifecycle_support import (
    OPENED,
    audit_of,
    document,
    make_draft,
    owner_of,
    send,
    simple,
    webhook_trigger,
)


@pytest.fixture
def world(session: Session, container: Container) -> World:
    return seed_world(session, container.hasher)


def stamp(clock: FakeClock) -> str:
    return clock.now().isoformat().replace("+00:00", "Z")


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def test_every_lifecycle_action_is_in_the_history(
    client: TestClient, make_client: Any, session: Session, world: World, clock: FakeClock
) -> None:  # issue 4 audit trail
    login(client, world.owner)
    mario = make_client()
    login(mario, world.manager)
    olga = {"id": world.owner.id, "name": "Olga Owner"}
    mario_ref = {"id": world.manager.id, "name": f"{world.manager.first_name} {world.manager.last_name}"}
    expected: list[dict[str, Any]] = []

    def did(actor: dict[str, Any], action: str, data: dict[str, Any]) -> None:
        expected.insert(
            0, {"action": action, "actor_kind": "user", "actor": actor, "data": data, "at": stamp(clock)}
        )
        clock.advance(minutes=1)

    workflow_id = ok(client.post("/api/workflows", json={"name": "Bienvenida"}), 201)["id"]
    did(olga, "created", {"name": "Bienvenida"})
    url = f"/api/workflows/{workflow_id}"
    ok(
        mario.put(
            f"{url}/definition", json={"revision": 1, "definition": document(webhook_trigger(), send("s1"))}
        )
    )
    did(mario_ref, "saved", {"revision": 2})
    ok(client.post(f"{url}/webhook/regenerate"))
    did(olga, "webhook_regenerated", {})
    ok(mario.post(f"{url}/publish"))
    did(mario_ref, "published", {"version": 1})
    ok(client.patch(url, json={"name": "Hola", "settings": {"allowStopForContact": True}}))
    did(
        olga,
        "edited",
        {
            "name": {"old": "Bienvenida", "new": "Hola"},
            "settings": {"old": {"allowStopForContact": False}, "new": {"allowStopForContact": True}},
        },
    )
    ok(client.post(f"{url}/stop"))
    did(olga, "stopped", {"ejected": 0})
    ok(client.post(f"{url}/publish", json={"revision": 2, "definition": simple("Dos")}))
    did(olga, "published", {"version": 2})
    ok(client.post(f"{url}/stop"))
    did(olga, "stopped", {"ejected": 0})
    ok(mario.post(f"{url}/versions/1/restore"))
    did(mario_ref, "version_restored", {"version": 1})
    ok(mario.post(f"{url}/discard-draft"))
    did(mario_ref, "draft_discarded", {"version": 2})

    history = ok(client.get(f"{url}/history"))
    assert history == expected
    # The table holds the same, with the actor's id.
    rows = audit_of(session, workflow_id)
    assert [(r.action, r.actor_kind, r.actor_id, r.workspace_id) for r in reversed(rows)] == [
        (e["action"], "user", e["actor"]["id"], world.workspace.id) for e in expected
    ]


def test_clone_import_template_and_delete_are_audited(
    client: TestClient, session: Session, world: World, clock: FakeClock
) -> None:  # issue 4 audit trail; WF-LIFE-08/09, WF-IO-04, WF-TPL-01
    login(client, world.owner)
    source = make_draft(session, owner_of(world), "Fuente", simple())
    clock.advance(hours=1)
    copy = ok(client.post(f"/api/workflows/{source.id}/clone"), 201)
    [cloned] = ok(client.get(f"/api/workflows/{copy['id']}/history"))
    assert (cloned["action"], cloned["data"], cloned["at"]) == (
        "cloned",
        {"name": "Fuente (copy)", "from": source.id},
        stamp(clock),
    )
    exported = ok(client.get(f"/api/workflows/{source.id}/export"))
    imported = ok(
        client.post(
            "/api/workflows/import",
            content=json.dumps(exported),
            headers={"Content-Type": "application/json"},
        ),
        201,
    )["workflow"]
    [entry] = ok(client.get(f"/api/workflows/{imported['id']}/history"))
    assert (entry["action"], entry["data"]["name"], entry["actor"]["id"]) == (
        "imported",
        "Fuente (imported)",
        world.owner.id,
    )
    used = ok(client.post("/api/workflow-templates/welcome-message/use", json={}), 201)["workflow"]
    [entry] = ok(client.get(f"/api/workflows/{used['id']}/history"))
    assert (entry["action"], entry["data"]["template"]) == ("created_from_template", "welcome-message")

    clock.advance(hours=1)
    assert client.delete(f"/api/workflows/{copy['id']}").status_code == 204
    # The workflow is gone (its history with it from the API), but the audit log keeps the deletion.
    assert_error(client.get(f"/api/workflows/{copy['id']}/history"), 404, "not_found")
    deleted = audit_of(session, copy["id"])[-1]
    assert (deleted.action, deleted.actor_id, deleted.data, deleted.at) == (
        "deleted",
        world.owner.id,
        {"name": "Fuente (copy)"},
        clock.now(),
    )


def test_refused_actions_and_no_op_edits_write_nothing(
    client: TestClient, session: Session, world: World
) -> None:  # issue 4 audit trail
    login(client, world.owner)
    workflow = make_draft(session, owner_of(world), "Bienvenida", simple())
    url = f"/api/workflows/{workflow.id}"
    before = len(audit_of(session, workflow.id))
    assert_error(client.post(f"{url}/stop"), 409)
    assert_error(client.put(f"{url}/definition", json={"revision": 1, "definition": simple()}), 409)
    assert_error(client.put(f"{url}/definition", json={"revision": 2, "definition": simple("")}), 422)
    assert_error(client.post(f"{url}/discard-draft"), 409)
    # Renaming to the same name and setting the same settings changes nothing and records nothing.
    ok(client.patch(url, json={"name": "Bienvenida", "settings": {"allowStopForContact": False}}))
    assert len(audit_of(session, workflow.id)) == before == 2  # created, saved


def test_api_token_changes_are_audited_as_the_token(
    client: TestClient, session: Session, world: World
) -> None:  # issue 4 audit trail, CRM-TOKEN-01
    login(client, world.owner)
    token = ok(client.post("/api/api-tokens", json={"name": "Integración"}), 201)
    api = TestClient(client.app)
    headers = {"Authorization": f"Bearer {token['secret']}"}
    created = ok(api.post("/api/workflows", json={"name": "Por API"}, headers=headers), 201)
    assert created["created_by"] is None  # no person created it
    [entry] = ok(client.get(f"/api/workflows/{created['id']}/history"))
    assert (entry["action"], entry["actor_kind"], entry["actor"]) == ("created", "token", None)
    [row] = audit_of(session, created["id"])
    assert (row.actor_kind, row.actor_id) == ("token", token["token"]["id"])


def test_history_of_another_workspaces_workflow_is_404(
    client: TestClient, session: Session, container: Container, world: World
) -> None:  # WF-GEN-03
    other = seed_world(session, container.hasher, name="Globex")
    theirs = make_draft(session, owner_of(other), "Ajeno", document(OPENED, send("s1")))
    login(client, world.owner)
    assert_error(client.get(f"/api/workflows/{theirs.id}/history"), 404, "not_found")
