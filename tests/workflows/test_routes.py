"""/api/workflows: access (WF-GEN-01, WF-GEN-03), the list page (WF-LIST-01..05), creating and renaming
(WF-LIST-03), the 100-workflow limit (WF-LIST-04) and the definition's JSON Schema.

Lifecycle transitions are in test_service.py, versions in test_versions.py, the audit trail in
test_audit.py.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from convoflow.bootstrap import Container
from convoflow.testing.clock import FakeClock
from convoflow.testing.factories import principal
from convoflow.workflows import routes as workflow_routes
from convoflow.workflows import service
from convoflow.workflows.definition import limits
from tests.support import World, assert_error, login, seed_world
from tests.workflows.lifecycle_support import (
    make_draft,
    make_published,
    make_stopped,
    owner_of,
    simple,
    snapshot,
    stored,
    workflow_count,
)
from tests.workflows.schema_check import SchemaError, validate_instance


@pytest.fixture
def world(session: Session, container: Container) -> World:
    return seed_world(session, container.hasher)


@pytest.fixture
def owner(client: TestClient, world: World) -> TestClient:
    login(client, world.owner)
    return client


def export_file(name: str, definition: Any | None = None) -> bytes:
    """A minimal valid workflow file (WF-IO-01)."""
    return json.dumps(
        {
            "format": "convoflow.workflow",
            "formatVersion": 1,
            "workflow": {
                "name": name,
                "description": "",
                "settings": {"allowStopForContact": False},
                **(definition or simple()),
            },
        }
    ).encode()


# ------------------------------------------------------------------------------------- WF-GEN-01 access

# Every endpoint of /api/workflows and /api/workflow-templates, with a body that would otherwise succeed.
# {id} is a Draft workflow of the workspace (with a valid saved definition), {v} its version number 1.
ENDPOINTS: list[tuple[str, str, Any]] = [
    ("GET", "/api/workflows", None),
    ("GET", "/api/workflows/schema", None),
    ("POST", "/api/workflows", {"name": "Nuevo"}),
    ("POST", "/api/workflows/import", "FILE"),
    ("GET", "/api/workflows/{id}", None),
    ("PATCH", "/api/workflows/{id}", {"name": "Renamed"}),
    ("DELETE", "/api/workflows/{id}", None),
    ("GET", "/api/workflows/{id}/definition", None),
    ("PUT", "/api/workflows/{id}/definition", {"revision": 2, "definition": "SIMPLE"}),
    ("POST", "/api/workflows/{id}/validate", {}),
    ("POST", "/api/workflows/{id}/publish", None),
    ("POST", "/api/workflows/{id}/stop", None),
    ("POST", "/api/workflows/{id}/clone", None),
    ("POST", "/api/workflows/{id}/webhook/regenerate", None),
    ("GET", "/api/workflows/{id}/export", None),
    ("GET", "/api/workflows/{id}/versions", None),
    ("GET", "/api/workflows/{id}/versions/{v}", None),
    ("POST", "/api/workflows/{id}/versions/{v}/restore", None),
    ("POST", "/api/workflows/{id}/discard-draft", None),
    ("GET", "/api/workflows/{id}/history", None),
    ("GET", "/api/workflow-templates", None),
    ("GET", "/api/workflow-templates/{key}", None),
    ("POST", "/api/workflow-templates/{key}/use", None),
]


def _call(client: TestClient, method: str, path: str, body: Any, *, workflow_id: int, number: int = 1) -> Any:
    url = path.format(id=workflow_id, v=number, key="welcome-message")
    if body == "FILE":
        return client.post(
            url, content=export_file("Importado"), headers={"Content-Type": "application/json"}
        )
    if isinstance(body, dict) and body.get("definition") == "SIMPLE":
        body = {**body, "definition": simple("Otro texto")}
    return client.request(method, url, json=body)


def test_the_access_table_lists_every_workflow_endpoint() -> None:  # WF-GEN-01
    routes = {
        (method, f"/api{route.path}")
        for route in workflow_routes.router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    }
    table = {
        (method, path.replace("{id}", "{workflow_id}").replace("{v}", "{number}").replace("{key}", "{key}"))
        for method, path, _ in ENDPOINTS
    }
    assert table == routes


def test_agents_get_403_on_every_workflow_endpoint(
    client: TestClient, session: Session, world: World
) -> None:  # WF-GEN-01
    workflow = make_published(session, owner_of(world), "Bienvenida")
    before = snapshot(session, world.workspace.id)
    login(client, world.agent)
    for method, path, body in ENDPOINTS:
        response = _call(client, method, path, body, workflow_id=workflow.id)
        assert response.status_code == 403, (method, path, response.text)
        assert_error(response, 403, "role_required")
    assert snapshot(session, world.workspace.id) == before


def test_managers_may_use_every_workflow_endpoint(
    client: TestClient, session: Session, world: World
) -> None:  # WF-GEN-01: Owners and Managers
    # A Stopped workflow with a valid draft (revision 2) and version 1 accepts every action except stop
    # (it is not published) and regenerate (it has no Incoming Webhook trigger): both are 409, not 403.
    login(client, world.manager)
    for n, (method, path, body) in enumerate(ENDPOINTS):
        workflow = make_stopped(session, owner_of(world), f"Bienvenida {n}")
        response = _call(client, method, path, body, workflow_id=workflow.id)
        if path.endswith(("/stop", "/webhook/regenerate")):
            assert_error(response, 409)
        else:
            assert response.status_code in (200, 201, 204), (method, path, response.text)


def test_signed_out_callers_get_401(client: TestClient, session: Session, world: World) -> None:  # WF-GEN-01
    workflow = make_draft(session, owner_of(world), "Bienvenida", simple())
    before = snapshot(session, world.workspace.id)
    assert_error(client.get("/api/workflows"), 401)
    assert_error(client.post(f"/api/workflows/{workflow.id}/publish"), 401)
    assert snapshot(session, world.workspace.id) == before


# ------------------------------------------------------------------------------- WF-GEN-03 other workspaces


PER_WORKFLOW = [e for e in ENDPOINTS if "{id}" in e[1]]


def test_another_workspaces_workflow_is_404_on_every_endpoint(
    client: TestClient, session: Session, container: Container, world: World
) -> None:  # WF-GEN-03
    other = seed_world(session, container.hasher, name="Globex")
    theirs = make_published(session, owner_of(other), "Ajeno")
    before = snapshot(session, other.workspace.id)
    login(client, world.owner)
    for method, path, body in PER_WORKFLOW:
        response = _call(client, method, path, body, workflow_id=theirs.id)
        assert response.status_code == 404, (method, path, response.text)
        assert_error(response, 404)
    assert snapshot(session, other.workspace.id) == before
    assert workflow_count(session, world.workspace.id) == 0


def test_unknown_and_out_of_range_ids_are_clean_errors(
    owner: TestClient, session: Session, world: World
) -> None:  # WF-GEN-03
    # WF-GEN-03: an id that exists nowhere is 404; ids outside 1..2^63-1 are 422 before any query.
    workflow = make_published(session, owner_of(world), "Bienvenida")
    assert_error(owner.get("/api/workflows/987654"), 404, "not_found")
    assert_error(owner.get(f"/api/workflows/{workflow.id}/versions/7"), 404, "not_found")
    for bad in ("0", "-1", "99999999999999999999", "abc"):
        assert_error(owner.get(f"/api/workflows/{bad}"), 422, "validation_error")
        assert_error(owner.post(f"/api/workflows/{bad}/publish"), 422, "validation_error")
    assert_error(owner.get(f"/api/workflows/{workflow.id}/versions/0"), 422, "validation_error")


# ---------------------------------------------------------------------------------------- WF-LIST-01 list


def test_the_list_shows_the_columns_newest_created_first(
    owner: TestClient, session: Session, world: World, clock: FakeClock
) -> None:  # WF-LIST-01
    first = make_draft(session, owner_of(world), "Primero", description="El primero")
    created_first = clock.now()
    clock.advance(hours=1)
    second = make_draft(
        session, principal(world.workspace, world.manager, role="manager"), "Segundo", simple()
    )
    clock.advance(hours=1)
    published_at = clock.now()
    service.publish(session, owner_of(world), workflow_id=second.id)
    session.commit()
    clock.advance(hours=1)
    third = make_stopped(session, owner_of(world), "Tercero")

    response = owner.get("/api/workflows")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3 and body["limit"] == limits.MAX_WORKFLOWS == 100
    assert [item["id"] for item in body["items"]] == [third.id, second.id, first.id]
    rows = {item["id"]: item for item in body["items"]}
    assert rows[first.id] == {
        "id": first.id,
        "name": "Primero",
        "description": "El primero",
        "state": "draft",
        "trigger_type": None,
        "last_published_by": None,  # empty for Draft
        "last_published_at": None,
        "created_by": {"id": world.owner.id, "name": "Olga Owner"},
        "created_at": created_first.isoformat().replace("+00:00", "Z"),
        "updated_at": created_first.isoformat().replace("+00:00", "Z"),
    }
    assert rows[second.id]["state"] == "published"
    assert rows[second.id]["trigger_type"] == "conversation_opened"
    assert rows[second.id]["created_by"] == {
        "id": world.manager.id,
        "name": f"{world.manager.first_name} Pérez",
    }
    assert rows[second.id]["last_published_by"] == {"id": world.owner.id, "name": "Olga Owner"}
    assert rows[second.id]["last_published_at"] == published_at.isoformat().replace("+00:00", "Z")
    # Stopped keeps its last publish.
    assert rows[third.id]["state"] == "stopped"
    assert rows[third.id]["last_published_by"] == {"id": world.owner.id, "name": "Olga Owner"}


def test_the_list_is_scoped_to_the_workspace(
    owner: TestClient, session: Session, container: Container, world: World
) -> None:  # WF-GEN-03
    other = seed_world(session, container.hasher, name="Globex")
    make_draft(session, owner_of(other), "Ajeno")
    mine = make_draft(session, owner_of(world), "Propio")
    body = owner.get("/api/workflows").json()
    assert [item["id"] for item in body["items"]] == [mine.id]
    assert body["count"] == 1


# ------------------------------------------------------------------------------ WF-LIST-02 search and sort


def _names(client: TestClient, query: str = "") -> list[str]:
    response = client.get(f"/api/workflows{query}")
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


def test_search_covers_name_and_description_ignoring_case_and_accent_case(
    owner: TestClient, session: Session, world: World, clock: FakeClock
) -> None:  # WF-LIST-02
    who = owner_of(world)
    for name, description in [
        ("Bienvenida Pérez", ""),
        ("Asignación", "Reparte las conversaciones"),
        ("Soporte ÁGIL", "Para el equipo de soporte"),
        ("Descuento 100%", "Oferta"),
        ("Descuento 1000", "Otra oferta"),
        ("snake_case", ""),
        ("snakeXcase", ""),
    ]:
        make_draft(session, who, name, description=description)
        clock.advance(minutes=1)
    assert _names(owner, "?search=PÉREZ") == ["Bienvenida Pérez"]
    assert _names(owner, "?search=pérez") == ["Bienvenida Pérez"]
    assert _names(owner, "?search=asignación") == ["Asignación"]
    assert _names(owner, "?search=ágil") == ["Soporte ÁGIL"]
    # The description is searched too, as a substring.
    assert _names(owner, "?search=CONVERSACIONES") == ["Asignación"]
    assert _names(owner, "?search=soporte") == ["Soporte ÁGIL"]
    # % and _ are plain characters, not wildcards.
    assert _names(owner, "?search=100%25") == ["Descuento 100%"]
    assert _names(owner, "?search=e_c") == ["snake_case"]
    # Surrounding spaces are ignored; an empty search lists everything; no match is an empty list.
    assert _names(owner, "?search=%20%20oferta%20") == ["Descuento 1000", "Descuento 100%"]
    assert len(_names(owner, "?search=")) == 7
    assert _names(owner, "?search=nada") == []
    assert _names(owner, "?search=a%00") == []  # a NUL character matches nothing, on both databases


def test_descriptions_keep_line_breaks(owner: TestClient) -> None:  # WF-LIST-01: description on a second line
    response = owner.post("/api/workflows", json={"name": "Multilínea", "description": "Uno\nDos\tTres"})
    assert response.status_code == 201, response.text
    assert response.json()["description"] == "Uno\nDos\tTres"


def test_status_filter_and_sorting(
    owner: TestClient, session: Session, world: World, clock: FakeClock
) -> None:  # WF-LIST-02
    who = owner_of(world)
    make_draft(session, who, "beta")
    clock.advance(minutes=1)
    make_stopped(session, who, "Alfa")
    clock.advance(minutes=1)
    make_published(session, who, "Gamma")
    clock.advance(minutes=1)
    make_published(session, who, "delta")
    clock.advance(minutes=1)

    assert _names(owner) == ["delta", "Gamma", "Alfa", "beta"]  # newest created first
    assert _names(owner, "?state=published") == ["delta", "Gamma"]
    assert _names(owner, "?state=draft") == ["beta"]
    assert _names(owner, "?state=stopped") == ["Alfa"]
    assert _names(owner, "?state=published&search=gam") == ["Gamma"]
    assert _names(owner, "?sort=created_at&order=asc") == ["beta", "Alfa", "Gamma", "delta"]
    # Names sort ignoring case.
    assert _names(owner, "?sort=name&order=asc") == ["Alfa", "beta", "delta", "Gamma"]
    assert _names(owner, "?sort=name&order=desc") == ["Gamma", "delta", "beta", "Alfa"]
    # Last published: never-published drafts come last in both directions.
    assert _names(owner, "?sort=published_at&order=desc") == ["delta", "Gamma", "Alfa", "beta"]
    assert _names(owner, "?sort=published_at&order=asc") == ["Alfa", "Gamma", "delta", "beta"]
    assert _names(owner, "?sort=state&order=asc") == ["beta", "delta", "Gamma", "Alfa"]


@pytest.mark.parametrize(
    "query",
    ["?sort=owner", "?order=sideways", "?state=running", "?search=" + "x" * 201],
)
def test_bad_list_parameters_are_422(owner: TestClient, query: str) -> None:  # WF-LIST-02
    body = assert_error(owner.get(f"/api/workflows{query}"), 422, "validation_error")
    assert body["details"]


# ------------------------------------------------------------------------------- WF-LIST-03 name, description


@pytest.mark.parametrize(
    "name",
    ["Ñandú 🚀", "日本語のワークフロー", "👩‍👩‍👧‍👦", "Ü" * 100, "x" * 100, "Bienvenida — ¡hola!"],
)
def test_unicode_and_emoji_names_up_to_100_characters_are_accepted(
    owner: TestClient, session: Session, world: World, name: str
) -> None:  # WF-LIST-03
    response = owner.post("/api/workflows", json={"name": name, "description": "¿Qué tal? 😀"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["name"] == name and body["description"] == "¿Qué tal? 😀"
    assert body["state"] == "draft"  # WF-LIFE-01
    row = stored(session, body["id"])
    assert (row.name, row.description, row.state, row.revision) == (name, "¿Qué tal? 😀", "draft", 1)
    assert row.draft == {"schemaVersion": 1, "trigger": None, "root": None, "steps": []}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "x" * 10_000}, "name"),
        ({"name": "tab\tname"}, "name"),
        ({"name": "Ok", "description": "d" * 256}, "description"),
        ({"name": "Ok", "description": "a\u0000b"}, "description"),  # PostgreSQL stores no NUL
        ({"name": "nul\u0000"}, "name"),
        ({"name": 42}, "name"),
        ({}, "name"),
        ({"name": "Ok", "state": "published"}, "state"),
    ],
)
def test_invalid_create_is_422_and_nothing_is_stored(
    owner: TestClient, session: Session, world: World, body: dict[str, Any], field: str
) -> None:  # WF-LIST-03
    before = snapshot(session, world.workspace.id)
    response = assert_error(owner.post("/api/workflows", json=body), 422, "validation_error")
    assert field in {detail["field"] for detail in response["details"]}
    assert snapshot(session, world.workspace.id) == before


def test_a_255_character_description_is_accepted_and_trimmed(owner: TestClient) -> None:  # WF-LIST-03
    response = owner.post("/api/workflows", json={"name": "Largo", "description": " " + "d" * 255 + " "})
    assert response.status_code == 201, response.text
    assert response.json()["description"] == "d" * 255


def test_malformed_json_is_400_and_nothing_is_stored(
    owner: TestClient, session: Session, world: World
) -> None:  # WF-LIST-03
    before = snapshot(session, world.workspace.id)
    response = owner.post(
        "/api/workflows", content=b'{"name": "x"', headers={"Content-Type": "application/json"}
    )
    assert_error(response, 400, "malformed_json")
    assert snapshot(session, world.workspace.id) == before


@pytest.mark.parametrize("taken", ["bienvenida", "BIENVENIDA", "  Bienvenida  ", "BiEnVeNiDa"])
def test_names_are_unique_ignoring_case(
    owner: TestClient, session: Session, world: World, taken: str
) -> None:  # WF-LIST-03
    make_draft(session, owner_of(world), "Bienvenida")
    before = snapshot(session, world.workspace.id)
    body = assert_error(owner.post("/api/workflows", json={"name": taken}), 409, "workflow_name_taken")
    assert "already exists" in body["message"]
    assert snapshot(session, world.workspace.id) == before


def test_accented_names_are_unique_ignoring_case(owner: TestClient, session: Session, world: World) -> None:
    # WF-LIST-03: "ÁRBOL" and "árbol" are the same name; "arbol" (no accent) is another one.
    make_draft(session, owner_of(world), "Árbol")
    assert_error(owner.post("/api/workflows", json={"name": "áRBOL"}), 409, "workflow_name_taken")
    assert owner.post("/api/workflows", json={"name": "arbol"}).status_code == 201
    assert workflow_count(session, world.workspace.id) == 2


def test_the_same_name_in_another_workspace_is_fine(
    owner: TestClient, session: Session, container: Container, world: World
) -> None:  # WF-LIST-03: unique in the workspace
    other = seed_world(session, container.hasher, name="Globex")
    make_draft(session, owner_of(other), "Bienvenida")
    assert owner.post("/api/workflows", json={"name": "Bienvenida"}).status_code == 201


def test_rename_and_describe(owner: TestClient, session: Session, world: World, clock: FakeClock) -> None:
    # WF-LIST-05: Edit name/description in any state; renaming to its own name in another case is fine.
    workflow = make_published(session, owner_of(world), "Bienvenida")
    other = make_draft(session, owner_of(world), "Despedida")
    clock.advance(minutes=5)
    response = owner.patch(
        f"/api/workflows/{workflow.id}", json={"name": "BIENVENIDA", "description": "Hola"}
    )
    assert response.status_code == 200, response.text
    assert (response.json()["name"], response.json()["description"]) == ("BIENVENIDA", "Hola")
    row = stored(session, workflow.id)
    assert (row.name, row.description, row.state, row.updated_at) == (
        "BIENVENIDA",
        "Hola",
        "published",
        clock.now(),
    )

    before = snapshot(session, world.workspace.id)
    assert_error(
        owner.patch(f"/api/workflows/{workflow.id}", json={"name": "despedida"}), 409, "workflow_name_taken"
    )
    for bad in [
        {"name": ""},
        {"name": "x" * 10_000},
        {"description": "d" * 256},
        {"description": "\u0000"},
        {"name": None, "x": 1},
    ]:
        assert_error(owner.patch(f"/api/workflows/{workflow.id}", json=bad), 422, "validation_error")
    assert_error(owner.patch(f"/api/workflows/{other.id}", json={"settings": {"allowStop": True}}), 422)
    assert snapshot(session, world.workspace.id) == before


# ------------------------------------------------------------------------------------ WF-LIST-04 the limit


def _fill(session: Session, world: World, count: int) -> None:
    """`count` workflows through the service, in one transaction."""
    who = owner_of(world)
    for n in range(count):
        service.create_workflow(session, who, name=f"Workflow {n:03d}")
    session.commit()


@pytest.mark.parametrize("how", ["create", "template", "import", "clone"])
def test_a_101st_workflow_is_refused_whatever_the_way(
    owner: TestClient, session: Session, world: World, how: str
) -> None:  # WF-LIST-04
    source = make_published(session, owner_of(world), "Fuente")
    _fill(session, world, 99)
    listed = owner.get("/api/workflows").json()
    assert (listed["count"], listed["limit"]) == (100, 100)
    before = snapshot(session, world.workspace.id)
    if how == "create":
        response = owner.post("/api/workflows", json={"name": "Uno más"})
    elif how == "template":
        response = owner.post("/api/workflow-templates/welcome-message/use", json={"create_missing": True})
    elif how == "import":
        response = owner.post(
            "/api/workflows/import",
            content=export_file("Importado"),
            headers={"Content-Type": "application/json"},
        )
    else:
        response = owner.post(f"/api/workflows/{source.id}/clone")
    body = assert_error(response, 409, "workflow_limit_reached")
    assert body["message"] == "Workflow limit reached (100)"
    assert snapshot(session, world.workspace.id) == before
    assert workflow_count(session, world.workspace.id) == 100


def test_all_states_count_and_a_deletion_frees_a_slot(
    owner: TestClient, session: Session, world: World
) -> None:  # WF-LIST-04: at most 100 workflows, all states counted
    stopped = make_stopped(session, owner_of(world), "Parado")
    make_published(session, owner_of(world), "Activo")
    _fill(session, world, 98)
    assert_error(owner.post("/api/workflows", json={"name": "Uno más"}), 409, "workflow_limit_reached")
    assert owner.delete(f"/api/workflows/{stopped.id}").status_code == 204
    assert owner.post("/api/workflows", json={"name": "Uno más"}).status_code == 201
    assert workflow_count(session, world.workspace.id) == 100


def test_the_limit_is_per_workspace(
    owner: TestClient, session: Session, container: Container, world: World
) -> None:  # WF-LIST-04
    other = seed_world(session, container.hasher, name="Globex")
    _fill(session, other, 100)
    assert owner.post("/api/workflows", json={"name": "Propio"}).status_code == 201


# ------------------------------------------------------------------------------- WF-LIST-05 actions by state

ACTIONS = ["publish", "stop", "edit", "settings", "clone", "export", "save", "delete", "open"]
ALLOWED: dict[str, set[str]] = {
    "draft": {"publish", "edit", "settings", "clone", "export", "save", "delete", "open"},
    "published": {"stop", "edit", "settings", "clone", "export", "open"},
    "stopped": {"publish", "edit", "settings", "clone", "export", "save", "delete", "open"},
}
REFUSALS = {
    ("draft", "stop"): ("not_published", "Only a published workflow can be stopped"),
    ("stopped", "stop"): ("not_published", "Only a published workflow can be stopped"),
    ("published", "publish"): ("already_published", "This workflow is already published"),
    ("published", "save"): ("workflow_published", "Stop this workflow to edit it"),  # WF-LIFE-02
    ("published", "delete"): ("workflow_published", "Stop the workflow first"),  # WF-LIFE-09
}


def _in_state(session: Session, world: World, state: str) -> Any:
    make = {"draft": make_draft, "published": make_published, "stopped": make_stopped}[state]
    return make(session, owner_of(world), "Bienvenida", simple())


def _act(client: TestClient, workflow_id: int, revision: int, action: str) -> Any:
    url = f"/api/workflows/{workflow_id}"
    match action:
        case "publish" | "stop" | "clone":
            return client.post(f"{url}/{action}")
        case "edit":
            return client.patch(url, json={"name": "Nuevo nombre", "description": "Nueva"})
        case "settings":
            return client.patch(url, json={"settings": {"allowStopForContact": True}})
        case "export":
            return client.get(f"{url}/export")
        case "save":
            return client.put(
                f"{url}/definition", json={"revision": revision, "definition": simple("Cambiado")}
            )
        case "delete":
            return client.delete(url)
        case _:
            return client.get(url)


@pytest.mark.parametrize("state", ["draft", "published", "stopped"])
@pytest.mark.parametrize("action", ACTIONS)
def test_each_state_allows_exactly_its_actions(
    owner: TestClient, session: Session, world: World, state: str, action: str
) -> None:  # WF-LIST-05, WF-LIFE-02
    workflow = _in_state(session, world, state)
    row = stored(session, workflow.id)
    before = snapshot(session, world.workspace.id)
    response = _act(owner, workflow.id, row.revision, action)
    if action in ALLOWED[state]:
        assert response.status_code in (200, 201, 204), response.text
        if action == "open":  # the builder opens read-only while Published (WF-BLD-07)
            assert response.json()["state"] == state
        return
    error, message = REFUSALS[(state, action)]
    assert assert_error(response, 409, error)["message"] == message
    assert snapshot(session, world.workspace.id) == before


# ---------------------------------------------------------------------------------- the definition schema


def test_the_schema_describes_the_document_and_validates_the_spec_example(owner: TestClient) -> None:
    # WF-IO-01's example: the `workflow` part of an export file is a valid document.
    response = owner.get("/api/workflows/schema")
    assert response.status_code == 200
    schema = response.json()
    assert schema["type"] == "object"
    assert {"trigger", "root", "steps", "name", "description", "settings"} <= set(schema["properties"])
    example = SPEC_EXAMPLE["workflow"]
    validate_instance(schema, example)
    validate_instance(schema, simple())  # what the builder saves
    validate_instance(schema, {"schemaVersion": 1, "trigger": None, "root": None, "steps": []})  # a new draft


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda w: w["steps"][0].update(type="teleport"), "unknown step type"),
        (lambda w: w.update(colour="red"), "unknown property"),
        (lambda w: w["steps"][1]["config"].update(action="somebody"), "bad enum value"),
        (lambda w: w["trigger"].update(triggerOncePerContact="yes"), "wrong type"),
        (lambda w: w.update(steps=[dict(w["steps"][1], key=f"k{i}") for i in range(101)]), "101 steps"),
        (lambda w: w["steps"][0].update(key="no spaces allowed"), "bad step key"),
        (lambda w: w.update(name="x" * 101), "name too long"),
    ],
)
def test_the_schema_rejects_invalid_documents(owner: TestClient, change: Any, reason: str) -> None:
    schema = owner.get("/api/workflows/schema").json()
    example = json.loads(json.dumps(SPEC_EXAMPLE["workflow"]))
    change(example)
    with pytest.raises(SchemaError):
        validate_instance(schema, example)


SPEC_EXAMPLE: dict[str, Any] = json.loads(
    """
{"format": "convoflow.workflow", "formatVersion": 1, "exportedAt": "2025-01-31T10:00:00Z",
 "workflow": {"name": "Asignar a un Agente", "description": "", "settings": {"allowStopForContact": false},
  "trigger": {"type": "conversation_opened", "triggerOncePerContact": false, "config": {"sources": ["contact"]}},
  "root": "s1",
  "steps": [
   {"key": "s1", "name": "¿Ya asignado?", "type": "branch", "outputs": {"branch:1": null, "else": "s2"},
    "config": {"branches": [{"name": "Asignado", "logic": "and", "conditions": [{"category": "assignee", "operator": "is_assigned"}]}]}},
   {"key": "s2", "name": "Asignar", "type": "assign_to", "outputs": {"next": null},
    "config": {"action": "user", "user": {"ref": "user", "id": 12, "key": "ana@mail.example", "label": "Ana Pérez"}}}]}}
"""  # noqa: E501
)
