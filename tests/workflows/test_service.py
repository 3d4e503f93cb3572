"""The workflow lifecycle (workflows.md §3) through /api/workflows and convoflow.workflows.service:
WF-GEN-02, WF-LIFE-01..03, 07, 08, 09, 11, WF-STEP-TAG-01 (tags created on save), WF-TRG-HOOK-01 (the
webhook URL), and the bad input of the lifecycle API: a clear 4xx body and nothing changed."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from convoflow.bootstrap import Container
from convoflow.contacts.models import Tag
from convoflow.contacts.tags import create_tag
from convoflow.errors import Conflict, PermissionDenied, WorkflowInvalid
from convoflow.testing.clock import FakeClock
from convoflow.testing.factories import principal
from convoflow.workflows import listing, service
from convoflow.workflows.definition import limits
from convoflow.workflows.definition.graph import WorkflowSettings
from tests.support import World, assert_error, login, seed_world
from tests.workflows.lifecycle_support import (
    OPENED,
    calls,
    document,
    make_draft,
    make_published,
    make_stopped,
    manager_of,
    manual,
    owner_of,
    send,
    simple,
    snapshot,
    step,
    stored,
    tag_ref,
    versions_of,
    webhook_trigger,
)


@pytest.fixture
def world(session: Session, container: Container) -> World:
    return seed_world(session, container.hasher)


@pytest.fixture
def owner(client: TestClient, world: World) -> TestClient:
    login(client, world.owner)
    return client


def save(client: TestClient, workflow_id: int, definition: Any, revision: int) -> Any:
    return client.put(
        f"/api/workflows/{workflow_id}/definition", json={"revision": revision, "definition": definition}
    )


def problems_of(body: dict[str, Any]) -> set[tuple[str | None, str, str]]:
    return {(p["stepKey"], p["field"], p["code"]) for p in body["details"]}


def tags_of(session: Session, workspace_id: int) -> list[str]:
    names = list(session.scalars(select(Tag.name).where(Tag.workspace_id == workspace_id).order_by(Tag.id)))
    session.commit()
    return names


# --------------------------------------------------------------------------------- WF-LIFE-01 new = Draft


def test_every_new_workflow_starts_as_a_draft(owner: TestClient, session: Session, world: World) -> None:
    # WF-LIFE-01: blank, template, import and clone.
    source = make_published(session, owner_of(world), "Publicado")
    blank = owner.post("/api/workflows", json={"name": "En blanco"})
    template = owner.post("/api/workflow-templates/welcome-message/use", json={})
    exported = owner.get(f"/api/workflows/{source.id}/export").json()
    exported["workflow"]["name"] = "Importado"
    imported = owner.post(
        "/api/workflows/import", content=json.dumps(exported), headers={"Content-Type": "application/json"}
    )
    cloned = owner.post(f"/api/workflows/{source.id}/clone")
    created = [
        blank.json(),
        template.json()["workflow"],
        imported.json()["workflow"],
        cloned.json(),
    ]
    assert [r.status_code for r in (blank, template, imported, cloned)] == [201, 201, 201, 201]
    for body in created:
        assert (body["state"], body["published_version"], body["last_published_at"]) == ("draft", None, None)
        row = stored(session, body["id"])
        assert (row.state, row.published_version_id, row.published_at) == ("draft", None, None)
        assert versions_of(session, body["id"]) == []


# ----------------------------------------------------------------------- WF-GEN-02 / WF-LIFE-03 publishing


def test_publish_freezes_a_version_and_records_who_and_when(
    client: TestClient, session: Session, world: World, clock: FakeClock
) -> None:  # WF-LIFE-03, WF-GEN-04
    workflow = make_draft(session, owner_of(world), "Bienvenida", simple())
    clock.advance(hours=2)
    login(client, world.manager)
    response = client.post(f"/api/workflows/{workflow.id}/publish")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["state"] == "published"
    assert body["published_version"] == 1
    assert body["has_unpublished_changes"] is False
    assert body["trigger_type"] == "conversation_opened"
    assert body["last_published_by"]["id"] == world.manager.id
    assert body["last_published_at"] == clock.now().isoformat().replace("+00:00", "Z")
    row = stored(session, workflow.id)
    [version] = versions_of(session, workflow.id)
    assert (row.state, row.published_version_id, row.published_by, row.published_at) == (
        "published",
        version.id,
        world.manager.id,
        clock.now(),
    )
    assert (version.number, version.published_by, version.published_at) == (1, world.manager.id, clock.now())
    assert version.definition == row.draft
    assert row.revision == 2  # publishing without edits does not touch the draft


@pytest.mark.parametrize(
    ("definition", "codes"),
    [
        (document(None), {("trigger", "type", "trigger_missing"), (None, "steps", "no_steps")}),
        (document(OPENED), {(None, "steps", "no_steps")}),
        (document(None, send("s1")), {("trigger", "type", "trigger_missing")}),
    ],
    ids=["blank", "trigger without steps", "steps without trigger"],
)
def test_publish_needs_exactly_one_trigger_and_a_step(
    owner: TestClient, session: Session, world: World, definition: Any, codes: set[Any]
) -> None:  # WF-GEN-02, WF-LIFE-03, WF-LIFE-07 (an unconfigured trigger and no steps are errors)
    workflow = make_draft(session, owner_of(world), "Incompleto")
    before = snapshot(session, world.workspace.id)
    # As pending edits of the publish request...
    body = assert_error(
        owner.post(f"/api/workflows/{workflow.id}/publish", json={"revision": 1, "definition": definition}),
        422,
        "workflow_invalid",
    )
    assert problems_of(body) == codes
    # ...as a save...
    assert (
        problems_of(assert_error(save(owner, workflow.id, definition, 1), 422, "workflow_invalid")) == codes
    )
    # ...and the stored blank draft itself.
    blank = assert_error(owner.post(f"/api/workflows/{workflow.id}/publish"), 422, "workflow_invalid")
    assert problems_of(blank) == {("trigger", "type", "trigger_missing"), (None, "steps", "no_steps")}
    assert blank["message"] == "The workflow has 2 configuration errors"
    assert snapshot(session, world.workspace.id) == before


def test_at_most_100_steps(owner: TestClient, session: Session, world: World) -> None:  # WF-GEN-02
    workflow = make_draft(session, owner_of(world), "Largo", simple())
    chain = [send(f"s{i}", next_=f"s{i + 1}" if i < 100 else None) for i in range(1, 101)]
    hundred = document(OPENED, *chain)
    response = save(owner, workflow.id, hundred, 2)
    assert response.status_code == 200, response.text
    before = snapshot(session, world.workspace.id)
    chain[-1]["outputs"]["next"] = "s101"
    too_many = document(OPENED, *chain, send("s101"))
    body = assert_error(save(owner, workflow.id, too_many, 3), 422, "workflow_invalid")
    assert (None, "steps", "too_long") in problems_of(body)
    assert_error(
        owner.post(f"/api/workflows/{workflow.id}/publish", json={"revision": 3, "definition": too_many}),
        422,
        "workflow_invalid",
    )
    assert snapshot(session, world.workspace.id) == before
    assert len(stored(session, workflow.id).draft["steps"]) == 100


def test_publish_lists_every_configuration_error_and_changes_nothing(
    owner: TestClient, session: Session, world: World
) -> None:  # WF-LIFE-03, WF-BLD-06
    workflow = make_draft(session, owner_of(world), "Roto")
    # A draft holding errors (as imports, templates and deleted references leave them).
    row = stored(session, workflow.id)
    row.draft = document(
        OPENED,
        step("s1", "send_message", name="Saludo", outputs={"next": "s2"}, text=""),
        step("s2", "jump_to", name="Salto", outputs={"next": "zz"}, target="nowhere"),
    )
    session.commit()
    before = snapshot(session, world.workspace.id)
    body = assert_error(owner.post(f"/api/workflows/{workflow.id}/publish"), 422, "workflow_invalid")
    assert {(p["stepKey"], p["stepName"], p["field"], p["code"]) for p in body["details"]} >= {
        ("s1", "Saludo", "config.text", "required"),
        ("s2", "Salto", "outputs.next", "dangling_output"),
    }
    assert any(p["stepKey"] == "s2" and p["field"] == "config.target" for p in body["details"])
    for problem in body["details"]:
        assert set(problem) == {"stepKey", "stepName", "field", "code", "message"} and problem["message"]
    # The same list the builder shows on the workflow.
    shown = owner.get(f"/api/workflows/{workflow.id}").json()["problems"]
    assert shown == body["details"]
    assert snapshot(session, world.workspace.id) == before


def test_publish_with_pending_edits_saves_them_first(
    owner: TestClient, session: Session, world: World
) -> None:  # WF-LIFE-03: the builder saves pending edits first
    workflow = make_draft(session, owner_of(world), "Bienvenida", simple("Hola"))
    edits = simple("¡Hola de nuevo! 👋")
    response = owner.post(f"/api/workflows/{workflow.id}/publish", json={"revision": 2, "definition": edits})
    assert response.status_code == 200, response.text
    assert response.json()["revision"] == 3
    row = stored(session, workflow.id)
    [version] = versions_of(session, workflow.id)
    assert row.state == "published" and row.revision == 3
    assert row.draft["steps"][0]["config"]["text"] == "¡Hola de nuevo! 👋"
    assert version.definition == row.draft


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"revision": 1, "definition": "EDITS"}, 409, "stale_revision"),
        ({"revision": 2, "definition": document(OPENED, send("s1", ""))}, 422, "workflow_invalid"),
        ({"definition": "EDITS"}, 422, "validation_error"),
        ({"revision": 0, "definition": "EDITS"}, 422, "validation_error"),
        ({"revision": 2, "definition": ["not", "an", "object"]}, 422, "validation_error"),
        ({"revision": 2, "definition": "EDITS", "force": True}, 422, "validation_error"),
    ],
    ids=["stale", "errors", "no revision", "revision 0", "not an object", "unknown field"],
)
def test_refused_publish_with_edits_changes_nothing(
    owner: TestClient, session: Session, world: World, body: dict[str, Any], status: int, error: str
) -> None:  # WF-LIFE-03, WF-LIFE-07
    workflow = make_draft(session, owner_of(world), "Bienvenida", simple("Hola"))
    before = snapshot(session, world.workspace.id)
    if body.get("definition") == "EDITS":
        body = {**body, "definition": simple("Cambiado")}
    assert_error(owner.post(f"/api/workflows/{workflow.id}/publish", json=body), status, error)
    assert snapshot(session, world.workspace.id) == before


def test_publish_of_a_published_workflow_is_409(owner: TestClient, session: Session, world: World) -> None:
    # WF-LIST-05: no Publish while Published, not even with pending edits.
    workflow = make_published(session, owner_of(world), "Bienvenida")
    before = snapshot(session, world.workspace.id)
    assert_error(owner.post(f"/api/workflows/{workflow.id}/publish"), 409, "already_published")
    assert_error(
        owner.post(
            f"/api/workflows/{workflow.id}/publish", json={"revision": 2, "definition": simple("Otro")}
        ),
        409,
        "already_published",
    )
    assert snapshot(session, world.workspace.id) == before


def test_malformed_publish_and_save_bodies_are_400(owner: TestClient, session: Session, world: World) -> None:
    workflow = make_draft(session, owner_of(world), "Bienvenida", simple())
    before = snapshot(session, world.workspace.id)
    headers = {"Content-Type": "application/json"}
    for method, path in [("POST", "publish"), ("PUT", "definition"), ("POST", "validate")]:
        response = owner.request(
            method, f"/api/workflows/{workflow.id}/{path}", content=b"{nope", headers=headers
        )
        assert_error(response, 400, "malformed_json")
    assert snapshot(session, world.workspace.id) == before


# --------------------------------------------------------------------------------------- WF-LIFE-07 saving


def test_save_writes_the_draft_and_keeps_the_state(
    owner: TestClient, session: Session, world: World, clock: FakeClock
) -> None:  # WF-LIFE-07
    stopped = make_stopped(session, owner_of(world), "Parado")
    clock.advance(minutes=3)
    response = save(owner, stopped.id, simple("Nuevo"), 2)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["state"], body["revision"], body["problems"]) == ("stopped", 3, [])
    assert body["has_unpublished_changes"] is True
    row = stored(session, stopped.id)
    assert (row.state, row.revision, row.updated_by, row.updated_at) == (
        "stopped",
        3,
        world.owner.id,
        clock.now(),
    )
    assert row.draft["steps"][0]["config"]["text"] == "Nuevo"
    assert owner.get(f"/api/workflows/{stopped.id}/definition").json() == {
        "revision": 3,
        "definition": row.draft,
    }


def test_saving_over_a_newer_revision_names_who_changed_it(
    client: TestClient, make_client: Any, session: Session, world: World, clock: FakeClock
) -> None:  # WF-LIFE-07
    workflow = make_draft(session, owner_of(world), "Bienvenida", simple("Original"))
    login(client, world.owner)
    mario = make_client()
    login(mario, world.manager)
    clock.advance(hours=1)
    assert save(mario, workflow.id, simple("De Mario"), 2).status_code == 200
    saved_at = clock.now()
    clock.advance(minutes=5)
    before = snapshot(session, world.workspace.id)
    body = assert_error(save(client, workflow.id, simple("De Olga"), 2), 409, "stale_revision")
    name = f"{world.manager.first_name} {world.manager.last_name}"
    assert body["message"] == f"Changed by {name} at {saved_at.isoformat(timespec='seconds')} — reload"
    assert body["details"]["revision"] == 3 and body["details"]["updated_by"] == world.manager.id
    assert snapshot(session, world.workspace.id) == before
    assert stored(session, workflow.id).draft["steps"][0]["config"]["text"] == "De Mario"
    # Reloading and saving over the current revision works.
    assert save(client, workflow.id, simple("De Olga"), 3).status_code == 200


BAD_DEFINITIONS: list[tuple[str, Any, tuple[str | None, str, str]]] = [
    (
        "unknown step type",
        document(OPENED, step("s1", "teleport", outputs={"next": None})),
        ("s1", "type", "unknown_step_type"),
    ),
    (
        "unknown trigger type",
        document({"type": "telepathy"}, send("s1")),
        ("trigger", "type", "unknown_trigger_type"),
    ),
    (
        "wrong field type",
        document(OPENED, step("s1", "wait", outputs={"next": None}, amount="soon")),
        ("s1", "config.amount", "int_parsing"),
    ),
    (
        "duplicate step ids",
        document(
            OPENED, send("s1", next_="s2", name="A"), send("s2", next_="s1", name="B"), send("s1", name="C")
        ),
        ("s1", "key", "duplicate_key"),
    ),
    (
        "output pointing nowhere",
        document(OPENED, send("s1", next_="ghost")),
        ("s1", "outputs.next", "dangling_output"),
    ),
    ("unreachable step", document(OPENED, send("s1"), send("s2")), ("s2", "key", "unreachable")),
    ("root pointing nowhere", document(OPENED, send("s1"), root="s9"), (None, "root", "dangling_output")),
    ("text over 2,000 characters", simple("x" * 2001), ("s1", "config.text", "string_too_long")),
    ("unknown variable", simple("Hola $contact.shoe_size"), ("s1", "config.text", "unknown_variable")),
    ("unknown top-level field", {**simple(), "colour": "red"}, (None, "colour", "extra_forbidden")),
    # PostgreSQL can store no NUL character: a clean 422 on both databases, never a 500.
    ("NUL in a text", simple("Hola\u0000"), ("s1", "config.text", "invalid_character")),
    (
        "NUL in a key",
        document(OPENED, step("s1", "send_message", outputs={"next\u0000": None}, text="Hola")),
        ("s1", "outputs.next\u0000", "invalid_character"),
    ),
    (
        "NUL in the trigger",
        document({"type": "shortcut", "config": {"label": "a\u0000"}}, send("s1")),
        ("trigger", "config.label", "invalid_character"),
    ),
]


@pytest.mark.parametrize(
    ("definition", "problem"), [c[1:] for c in BAD_DEFINITIONS], ids=[c[0] for c in BAD_DEFINITIONS]
)
def test_save_with_errors_is_422_with_the_problem_list_and_the_draft_unchanged(
    owner: TestClient, session: Session, world: World, definition: Any, problem: tuple[str | None, str, str]
) -> None:  # WF-LIFE-07, WF-BLD-06
    workflow = make_draft(session, owner_of(world), "Bienvenida", simple("Guardado"))
    before = snapshot(session, world.workspace.id)
    body = assert_error(save(owner, workflow.id, definition, 2), 422, "workflow_invalid")
    assert problem in problems_of(body), body["details"]
    for item in body["details"]:
        assert set(item) == {"stepKey", "stepName", "field", "code", "message"}
    assert snapshot(session, world.workspace.id) == before
    assert stored(session, workflow.id).draft["steps"][0]["config"]["text"] == "Guardado"


@pytest.mark.parametrize(
    "body",
    [
        {"revision": 2},
        {"definition": {}},
        {"revision": 0, "definition": {}},
        {"revision": "two", "definition": {}},
        {"revision": 2, "definition": "text"},
        {"revision": 2, "definition": None},
    ],
)
def test_malformed_save_requests_are_422(
    owner: TestClient, session: Session, world: World, body: dict[str, Any]
) -> None:  # WF-LIFE-07
    workflow = make_draft(session, owner_of(world), "Bienvenida", simple())
    before = snapshot(session, world.workspace.id)
    assert_error(owner.put(f"/api/workflows/{workflow.id}/definition", json=body), 422, "validation_error")
    assert snapshot(session, world.workspace.id) == before


def test_validate_lists_problems_without_saving(owner: TestClient, session: Session, world: World) -> None:
    # WF-BLD-06: the same list, for the saved draft or a definition sent along.
    workflow = make_draft(session, owner_of(world), "Bienvenida", simple())
    before = snapshot(session, world.workspace.id)
    assert owner.post(f"/api/workflows/{workflow.id}/validate", json={}).json() == []
    sent = owner.post(f"/api/workflows/{workflow.id}/validate", json={"definition": simple("")})
    assert sent.status_code == 200
    assert [(p["stepKey"], p["field"], p["code"]) for p in sent.json()] == [("s1", "config.text", "required")]
    assert snapshot(session, world.workspace.id) == before


def test_adding_a_new_tag_by_name_creates_it_on_save(
    owner: TestClient, session: Session, world: World
) -> None:  # WF-STEP-TAG-01, WF-LIFE-07
    existing = create_tag(session, principal(world.workspace, world.owner), name="Cliente")
    session.commit()
    workflow = make_draft(session, owner_of(world), "Etiquetar")
    definition = document(
        OPENED,
        step(
            "s1",
            "update_tag",
            name="Etiquetar",
            outputs={"next": None},
            action="add",
            tags=[tag_ref(None, "VIP 🌟"), tag_ref(None, "cliente")],  # one new, one existing (other case)
        ),
    )
    response = save(owner, workflow.id, definition, 1)
    assert response.status_code == 200, response.text
    assert tags_of(session, world.workspace.id) == ["Cliente", "VIP 🌟"]
    vip = session.scalar(select(Tag).where(Tag.workspace_id == world.workspace.id, Tag.name == "VIP 🌟"))
    session.commit()
    assert vip is not None
    saved_tags = stored(session, workflow.id).draft["steps"][0]["config"]["tags"]
    assert saved_tags == [
        {"ref": "tag", "id": vip.id, "key": "VIP 🌟", "label": "VIP 🌟"},
        {"ref": "tag", "id": existing.id, "key": "Cliente", "label": "Cliente"},
    ]
    assert response.json()["problems"] == []


def test_a_refused_save_creates_no_tag(owner: TestClient, session: Session, world: World) -> None:
    # WF-LIFE-07: nothing changes when a save is refused, not even the tags it would have created.
    workflow = make_draft(session, owner_of(world), "Etiquetar")
    before = snapshot(session, world.workspace.id)
    tagging = step("s1", "update_tag", outputs={"next": "s2"}, action="add", tags=[tag_ref(None, "Nueva")])
    broken = document(OPENED, tagging, send("s2", ""))
    assert_error(save(owner, workflow.id, broken, 1), 422, "workflow_invalid")
    assert_error(
        owner.post(f"/api/workflows/{workflow.id}/publish", json={"revision": 1, "definition": broken}),
        422,
        "workflow_invalid",
    )
    assert tags_of(session, world.workspace.id) == []
    # A name no tag can have is a configuration error, not a crash.
    bad_name = document(
        OPENED, step("s1", "update_tag", outputs={}, action="add", tags=[tag_ref(None, "bad\u0007name")])
    )
    body = assert_error(save(owner, workflow.id, bad_name, 1), 422, "workflow_invalid")
    assert ("s1", "config.tags[0]", "invalid_value") in problems_of(body)
    assert tags_of(session, world.workspace.id) == []
    assert snapshot(session, world.workspace.id) == before


def test_removing_a_tag_that_does_not_exist_is_an_error(
    owner: TestClient, session: Session, world: World
) -> None:  # WF-STEP-TAG-01
    # WF-STEP-TAG-01: only Add may name a new tag.
    workflow = make_draft(session, owner_of(world), "Quitar")
    definition = document(
        OPENED, step("s1", "update_tag", outputs={}, action="remove", tags=[tag_ref(None, "Fantasma")])
    )
    body = assert_error(save(owner, workflow.id, definition, 1), 422, "workflow_invalid")
    assert ("s1", "config.tags[0]", "reference_missing") in problems_of(body)
    assert tags_of(session, world.workspace.id) == []


# ---------------------------------------------------------------------------------------- WF-LIFE-08 clone


def test_clone_copies_the_definition_into_a_new_draft_without_history(
    client: TestClient, session: Session, world: World, clock: FakeClock
) -> None:  # WF-LIFE-08
    source = make_draft(session, owner_of(world), "Bienvenida", simple("v1"), description="Saluda")
    service.update_details(
        session,
        owner_of(world),
        workflow_id=source.id,
        name=None,
        description=None,
        settings=WorkflowSettings(allow_stop_for_contact=True),
    )
    service.publish(session, owner_of(world), workflow_id=source.id)
    service.stop(session, owner_of(world), workflow_id=source.id)
    service.save_draft(
        session, owner_of(world), workflow_id=source.id, definition=simple("v2 draft"), revision=2
    )
    service.publish(session, owner_of(world), workflow_id=source.id)
    session.commit()
    source_before = snapshot(session, world.workspace.id).workflows
    clock.advance(days=1)
    login(client, world.manager)
    response = client.post(f"/api/workflows/{source.id}/clone")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["name"] == "Bienvenida (copy)"
    assert body["description"] == "Saluda"
    assert body["settings"] == {"allowStopForContact": True}
    assert (body["state"], body["revision"], body["published_version"]) == ("draft", 1, None)
    assert (body["last_published_by"], body["last_published_at"]) == (None, None)
    assert body["created_by"]["id"] == world.manager.id
    assert body["created_at"] == clock.now().isoformat().replace("+00:00", "Z")
    copy = stored(session, body["id"])
    assert copy.draft == stored(session, source.id).draft
    assert versions_of(session, copy.id) == []  # versions (and runs) are not copied
    assert len(versions_of(session, source.id)) == 2
    assert snapshot(session, world.workspace.id).workflows[: len(source_before)] == source_before
    # Cloning again finds the next free name; the copy can be cloned too.
    again = client.post(f"/api/workflows/{source.id}/clone").json()
    assert again["name"] == "Bienvenida (copy) 2"
    assert client.post(f"/api/workflows/{copy.id}/clone").json()["name"] == "Bienvenida (copy) (copy)"


def test_clone_of_a_long_name_stays_within_100_characters(
    owner: TestClient, session: Session, world: World
) -> None:  # WF-LIFE-08, WF-LIST-03
    source = make_draft(session, owner_of(world), "x" * 100)
    body = owner.post(f"/api/workflows/{source.id}/clone").json()
    assert body["name"] == "x" * 93 + " (copy)" and len(body["name"]) == 100


# --------------------------------------------------------------------------------------- WF-LIFE-09 delete


def test_delete_removes_a_draft_or_stopped_workflow_and_its_versions(
    owner: TestClient, session: Session, world: World
) -> None:  # WF-LIFE-09
    draft = make_draft(session, owner_of(world), "Borrador", simple())
    stopped = make_stopped(session, owner_of(world), "Parado")
    service.publish(session, owner_of(world), workflow_id=stopped.id)
    service.stop(session, owner_of(world), workflow_id=stopped.id)
    session.commit()
    assert len(versions_of(session, stopped.id)) == 2
    keep = make_published(session, owner_of(world), "Activo")
    for workflow in (draft, stopped):
        assert owner.delete(f"/api/workflows/{workflow.id}").status_code == 204
        assert_error(owner.get(f"/api/workflows/{workflow.id}"), 404, "not_found")
        assert versions_of(session, workflow.id) == []
    assert [w[0] for w in snapshot(session, world.workspace.id).workflows] == [keep.id]
    assert_error(owner.delete(f"/api/workflows/{draft.id}"), 404, "not_found")


def test_a_published_workflow_cannot_be_deleted(owner: TestClient, session: Session, world: World) -> None:
    workflow = make_published(session, owner_of(world), "Activo")  # WF-LIFE-09, WF-LIST-05
    before = snapshot(session, world.workspace.id)
    body = assert_error(owner.delete(f"/api/workflows/{workflow.id}"), 409, "workflow_published")
    assert body["message"] == "Stop the workflow first"
    assert snapshot(session, world.workspace.id) == before


def test_delete_is_refused_while_a_published_workflow_hands_contacts_to_it(
    owner: TestClient, session: Session, world: World
) -> None:  # WF-LIFE-09
    who = owner_of(world)
    target = make_stopped(session, who, "Destino", document(manual(), send("s1")))
    first = make_published(session, who, "Llamador A", document(OPENED, calls(target.id, "Destino")))
    second = make_published(session, who, "Llamador B", document(OPENED, calls(target.id, "Destino")))
    make_draft(session, who, "Llamador borrador", document(OPENED, calls(target.id, "Destino")))
    before = snapshot(session, world.workspace.id)
    body = assert_error(owner.delete(f"/api/workflows/{target.id}"), 409, "used_by_published_workflows")
    assert "'Llamador A'" in body["message"] and "'Llamador B'" in body["message"]
    assert "borrador" not in body["message"]
    assert body["details"] == {
        "workflows": [{"id": first.id, "name": "Llamador A"}, {"id": second.id, "name": "Llamador B"}]
    }
    assert snapshot(session, world.workspace.id) == before

    # Once the callers are stopped, it can go; their Trigger Another Workflow steps become errors.
    assert owner.post(f"/api/workflows/{first.id}/stop").status_code == 200
    body = assert_error(owner.delete(f"/api/workflows/{target.id}"), 409, "used_by_published_workflows")
    assert body["details"] == {"workflows": [{"id": second.id, "name": "Llamador B"}]}
    assert owner.post(f"/api/workflows/{second.id}/stop").status_code == 200
    assert owner.delete(f"/api/workflows/{target.id}").status_code == 204
    for caller in (first, second):
        problems = owner.get(f"/api/workflows/{caller.id}").json()["problems"]
        assert [(p["stepKey"], p["field"], p["code"]) for p in problems] == [
            ("call", "config.workflow", "reference_missing")
        ]
        assert_error(owner.post(f"/api/workflows/{caller.id}/publish"), 422, "workflow_invalid")


# ------------------------------------------------------------------------------------ WF-LIFE-11 settings


@pytest.mark.parametrize("state", ["draft", "published", "stopped"])
def test_settings_change_in_every_state(
    owner: TestClient, session: Session, world: World, state: str
) -> None:  # WF-LIFE-11
    make = {"draft": make_draft, "published": make_published, "stopped": make_stopped}[state]
    workflow = make(session, owner_of(world), "Bienvenida", simple())
    before = stored(session, workflow.id)
    draft, revision, version_id = before.draft, before.revision, before.published_version_id
    response = owner.patch(f"/api/workflows/{workflow.id}", json={"settings": {"allowStopForContact": True}})
    assert response.status_code == 200, response.text
    assert response.json()["settings"] == {"allowStopForContact": True}
    after = stored(session, workflow.id)
    assert after.settings == {"allowStopForContact": True}
    assert (after.state, after.draft, after.revision, after.published_version_id) == (
        state,
        draft,
        revision,
        version_id,
    )
    # Off again; the default is off.
    owner.patch(f"/api/workflows/{workflow.id}", json={"settings": {}})
    assert stored(session, workflow.id).settings == {"allowStopForContact": False}


@pytest.mark.parametrize(
    "value", [{"allowStopForContact": "maybe"}, {"unknown": True}, "on", [True]], ids=str
)
def test_invalid_settings_are_422(
    owner: TestClient, session: Session, world: World, value: Any
) -> None:  # WF-LIFE-11
    workflow = make_published(session, owner_of(world), "Bienvenida")
    before = snapshot(session, world.workspace.id)
    assert_error(
        owner.patch(f"/api/workflows/{workflow.id}", json={"settings": value}), 422, "validation_error"
    )
    assert snapshot(session, world.workspace.id) == before


# ---------------------------------------------------------------------- WF-TRG-HOOK-01 the webhook URL

HOOK_PATH = re.compile(r"^/hooks/wf/([A-Za-z0-9_-]{32})$")


def test_an_incoming_webhook_draft_gets_a_secret_url_that_can_be_regenerated(
    owner: TestClient, session: Session, world: World
) -> None:  # WF-TRG-HOOK-01
    workflow = make_draft(session, owner_of(world), "Pedidos")
    assert owner.get(f"/api/workflows/{workflow.id}").json()["webhook_path"] is None
    response = save(owner, workflow.id, document(webhook_trigger(), send("s1")), 1)
    assert response.status_code == 200, response.text
    match = HOOK_PATH.match(response.json()["webhook_path"])
    assert match is not None
    first = match.group(1)
    assert stored(session, workflow.id).hook_token == first
    # Saving again keeps the URL; regenerating replaces it at once.
    assert save(owner, workflow.id, document(webhook_trigger(), send("s1", "Otra")), 2).json()[
        "webhook_path"
    ] == (f"/hooks/wf/{first}")
    regenerated = owner.post(f"/api/workflows/{workflow.id}/webhook/regenerate")
    assert regenerated.status_code == 200, regenerated.text
    second = HOOK_PATH.match(regenerated.json()["webhook_path"])
    assert second is not None and second.group(1) != first
    assert stored(session, workflow.id).hook_token == second.group(1)
    # Also while Published; another webhook workflow gets a token of its own.
    assert owner.post(f"/api/workflows/{workflow.id}/publish").status_code == 200
    third = owner.post(f"/api/workflows/{workflow.id}/webhook/regenerate").json()["webhook_path"]
    assert third not in (f"/hooks/wf/{first}", f"/hooks/wf/{second.group(1)}")
    assert stored(session, workflow.id).state == "published"
    other = make_draft(session, owner_of(world), "Otros pedidos", document(webhook_trigger(), send("s1")))
    assert stored(session, other.id).hook_token not in (None, stored(session, workflow.id).hook_token)


def test_workflows_without_a_webhook_trigger_refuse_regenerate(
    owner: TestClient, session: Session, world: World
) -> None:  # WF-TRG-HOOK-01
    blank = make_draft(session, owner_of(world), "En blanco")
    opened = make_published(session, owner_of(world), "Abierta")
    before = snapshot(session, world.workspace.id)
    for workflow in (blank, opened):
        body = assert_error(
            owner.post(f"/api/workflows/{workflow.id}/webhook/regenerate"), 409, "not_a_webhook_workflow"
        )
        assert body["message"] == "This workflow has no Incoming Webhook trigger"
    assert snapshot(session, world.workspace.id) == before
    assert owner.get(f"/api/workflows/{opened.id}").json()["webhook_path"] is None


def test_a_webhook_url_is_shown_only_while_the_trigger_is_a_webhook(
    owner: TestClient, session: Session, world: World
) -> None:  # WF-TRG-HOOK-01
    workflow = make_draft(session, owner_of(world), "Pedidos", document(webhook_trigger(), send("s1")))
    token = stored(session, workflow.id).hook_token
    body = save(owner, workflow.id, simple(), 2).json()
    assert body["webhook_path"] is None
    assert_error(
        owner.post(f"/api/workflows/{workflow.id}/webhook/regenerate"), 409, "not_a_webhook_workflow"
    )
    # Switching back restores the same URL.
    body = save(owner, workflow.id, document(webhook_trigger(), send("s1")), 3).json()
    assert body["webhook_path"] == f"/hooks/wf/{token}"


# -------------------------------------------------------------------------------- the service directly


def test_agents_are_refused_by_the_service_itself(session: Session, world: World) -> None:  # WF-GEN-01
    workflow = make_draft(session, owner_of(world), "Bienvenida", simple())
    agent = principal(world.workspace, world.agent, role="agent")
    calls_: list[Callable[[], object]] = [
        lambda: listing.list_workflows(session, agent),
        lambda: service.create_workflow(session, agent, name="X"),
        lambda: service.get_workflow(session, agent, workflow.id),
        lambda: service.save_draft(session, agent, workflow_id=workflow.id, definition=simple(), revision=2),
        lambda: service.publish(session, agent, workflow_id=workflow.id),
        lambda: service.clone(session, agent, workflow_id=workflow.id),
        lambda: service.delete(session, agent, workflow_id=workflow.id),
    ]
    for call in calls_:
        with pytest.raises(PermissionDenied):
            call()
    session.rollback()
    assert stored(session, workflow.id).state == "draft"


def test_service_refusals_raise_the_documented_errors(session: Session, world: World) -> None:
    who = manager_of(world)
    workflow = make_draft(session, who, "Bienvenida", simple())
    with pytest.raises(Conflict) as stale:
        service.save_draft(session, who, workflow_id=workflow.id, definition=simple(), revision=1)
    assert stale.value.error == "stale_revision"
    with pytest.raises(WorkflowInvalid) as invalid:
        service.save_draft(session, who, workflow_id=workflow.id, definition=simple(""), revision=2)
    assert invalid.value.details == [
        {
            "stepKey": "s1",
            "stepName": "Send s1",
            "field": "config.text",
            "code": "required",
            "message": "Write the message or choose a media file",
        }
    ]
    with pytest.raises(Conflict) as not_published:
        service.stop(session, who, workflow_id=workflow.id)
    assert not_published.value.error == "not_published"
    session.rollback()
    assert limits.MAX_WORKFLOWS == 100


def test_an_imported_file_with_a_nul_character_is_refused_cleanly(
    owner: TestClient, session: Session, world: World
) -> None:  # WF-IO-04: a clear 4xx, nothing created (PostgreSQL can store no NUL character)
    before = snapshot(session, world.workspace.id)
    for workflow in (
        {"name": "Importado", "description": "a\u0000b", **simple()},
        {"name": "Importado", "description": "", **simple("Hola\u0000")},
    ):
        file = {"format": "convoflow.workflow", "formatVersion": 1, "workflow": workflow}
        response = owner.post(
            "/api/workflows/import", content=json.dumps(file), headers={"Content-Type": "application/json"}
        )
        assert_error(response, 422)
    assert snapshot(session, world.workspace.id) == before
