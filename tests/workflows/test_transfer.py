"""Export and import through the API (WF-IO-01..07): GET /api/workflows/{id}/export and
POST /api/workflows/import."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from convoflow.audit.models import AuditEntry
from convoflow.bootstrap import Container
from convoflow.contacts.tags import update_tag
from convoflow.testing.clock import FakeClock
from convoflow.testing.factories import principal
from convoflow.workflows import service
from convoflow.workflows.definition import limits
from convoflow.workflows.definition.graph import WorkflowDefinition, WorkflowSettings
from convoflow.workflows.models import Workflow
from convoflow.workflows.transfer import content_disposition
from tests.support import World, assert_error, login, seed_world
from tests.workflows.io_support import (
    Objects,
    counts,
    export_file,
    file_bytes,
    full_definition,
    http_definition,
    make_raw_workflow,
    make_workflow,
    seed_objects,
)


@pytest.fixture
def world(session: Session, container: Container) -> World:
    return seed_world(session, container.hasher)


@pytest.fixture
def objects(session: Session, world: World) -> Objects:
    return seed_objects(session, world)


@pytest.fixture
def owner(client: TestClient, world: World) -> TestClient:
    login(client, world.owner)
    return client


def export(client: TestClient, workflow_id: int) -> dict[str, Any]:
    response = client.get(f"/api/workflows/{workflow_id}/export")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def import_(client: TestClient, content: bytes | dict[str, Any]) -> Any:
    raw = content if isinstance(content, bytes) else file_bytes(content)
    return client.post("/api/workflows/import", content=raw, headers={"Content-Type": "application/json"})


def stored(session: Session, workflow_id: int) -> Workflow:
    session.expire_all()
    workflow = session.get(Workflow, workflow_id)
    assert workflow is not None
    session.commit()
    return workflow


# --------------------------------------------------------------------------------------------------- export


def test_export_has_exactly_the_documented_shape(
    owner: TestClient, session: Session, objects: Objects, clock: FakeClock
) -> None:  # WF-IO-01
    workflow = make_workflow(session, objects.owner, full_definition(objects), name="Asignar a un Agente")
    clock.advance(hours=1, seconds=5)
    response = owner.get(f"/api/workflows/{workflow.id}/export")
    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="Asignar a un Agente.json"'
    document = response.json()
    assert list(document) == ["format", "formatVersion", "exportedAt", "workflow"]
    assert document["format"] == "convoflow.workflow" and document["formatVersion"] == 1
    assert document["exportedAt"] == "2026-01-05T10:00:05Z"
    body = document["workflow"]
    assert list(body) == ["name", "description", "settings", "trigger", "root", "steps"]
    assert (body["name"], body["description"]) == ("Asignar a un Agente", "Descripción")
    assert body["settings"] == {"allowStopForContact": False}
    assert body["trigger"] == {
        "type": "contact_tag_updated",
        "triggerOncePerContact": True,
        "config": {
            "action": "added",
            "tags": [{"ref": "tag", "id": objects.tag_id, "key": "vip", "label": "vip"}],
            "conditions": None,
        },
    }
    assert body["root"] == "s1"
    assert [s["key"] for s in body["steps"]] == ["s1", "s2", "s3", "s4", "s5", "s6", "s7"]
    first = body["steps"][1]
    assert {k: first[k] for k in ("key", "name", "type", "outputs")} == {
        "key": "s2",
        "name": "¿Ya asignado?",
        "type": "branch",
        "outputs": {"branch:1": None, "else": "s3"},
    }
    assert first["config"]["branches"][0]["conditions"][0]["operator"] == "is_assigned"
    assert "schemaVersion" not in body and "hook_token" not in json.dumps(document)


def test_export_names_every_reference_by_its_natural_key(
    owner: TestClient, session: Session, objects: Objects, world: World
) -> None:  # WF-IO-02
    workflow = make_workflow(session, objects.owner, full_definition(objects))
    update_tag(session, objects.owner, tag_id=objects.tag_id, name="VIP-Gold")  # renamed after the save
    session.commit()
    steps = {s["key"]: s["config"] for s in export(owner, workflow.id)["workflow"]["steps"]}
    trigger = export(owner, workflow.id)["workflow"]["trigger"]
    assert trigger["config"]["tags"] == [
        {"ref": "tag", "id": objects.tag_id, "key": "VIP-Gold", "label": "VIP-Gold"}
    ]
    assert steps["s1"]["channel"] == {
        "ref": "channel",
        "id": objects.channel_id,
        "key": "webchat:Web Chat",
        "label": "Web Chat",
    }
    assert steps["s3"]["user"] == {
        "ref": "user",
        "id": objects.user_id,
        "key": objects.user_email,
        "label": objects.user_name,
    }
    assert steps["s4"]["team"] == {"ref": "team", "id": objects.team_id, "key": "Ventas", "label": "Ventas"}
    assert steps["s5"]["rows"][0]["field"] == "city"
    assert steps["s6"]["stage"] == {
        "ref": "stage",
        "id": objects.stage_id,
        "key": "New Lead",
        "label": "New Lead",
    }
    assert steps["s7"]["category"] == {
        "ref": "category",
        "id": objects.category_id,
        "key": "Resuelto",
        "label": "Resuelto",
    }


def test_export_leaves_secret_header_values_empty(
    owner: TestClient, session: Session, objects: Objects
) -> None:  # WF-IO-03
    headers: list[dict[str, Any]] = [
        {"name": "Authorization", "value": "Bearer s3cr3t"},
        {"name": "X-Api-Key", "value": "k3y"},
        {"name": "X-Session-Token", "value": "t0k3n"},
        {"name": "X-Client-Secret", "value": "shh"},
        {"name": "X-Flagged", "value": "hidden", "secret": True},
        {"name": "X-Tenant", "value": "acme"},
        {"name": "X-Token-Hint", "value": "public", "secret": False},
    ]
    workflow = make_workflow(session, objects.owner, http_definition(headers))
    document = export(owner, workflow.id)
    exported = document["workflow"]["steps"][0]["config"]["headers"]
    assert [(h["name"], h["value"]) for h in exported] == [
        ("Authorization", ""),
        ("X-Api-Key", ""),
        ("X-Session-Token", ""),
        ("X-Client-Secret", ""),
        ("X-Flagged", ""),
        ("X-Tenant", "acme"),
        ("X-Token-Hint", "public"),
    ]
    text = json.dumps(document)
    assert all(secret not in text for secret in ("s3cr3t", "k3y", "t0k3n", "shh", "hidden"))
    kept = stored(session, workflow.id).draft["steps"][0]["config"]["headers"]
    assert kept[0]["value"] == "Bearer s3cr3t"  # the workflow itself keeps them


def test_the_webhook_token_is_never_exported_and_import_makes_a_new_one(
    owner: TestClient, session: Session, objects: Objects
) -> None:  # WF-IO-03, WF-TRG-HOOK-01
    definition = {
        "trigger": {"type": "incoming_webhook", "config": {"contact_path": "$.customer.phone"}},
        "root": "s1",
        "steps": [{"key": "s1", "name": "Nota", "type": "add_comment", "config": {"text": "Hola"}}],
    }
    workflow = make_workflow(session, objects.owner, definition, name="Hook")
    token = stored(session, workflow.id).hook_token
    assert token and len(token) == 32
    document = export(owner, workflow.id)
    assert token not in json.dumps(document)
    response = import_(owner, document)
    assert response.status_code == 201, response.text
    imported = response.json()["workflow"]
    assert imported["webhook_path"].startswith("/hooks/wf/")
    assert imported["webhook_path"] != f"/hooks/wf/{token}"
    assert len(imported["webhook_path"].removeprefix("/hooks/wf/")) == 32


def test_export_of_another_workspaces_workflow_is_not_found(
    owner: TestClient, session: Session, container: Container
) -> None:  # WF-GEN-03
    other = seed_world(session, container.hasher, name="Otra")
    theirs = make_raw_workflow(session, principal(other.workspace, other.owner), {"steps": []})
    assert_error(owner.get(f"/api/workflows/{theirs.id}/export"), 404, "not_found")


def test_agents_can_neither_export_nor_import(
    make_client: Any, session: Session, world: World, objects: Objects
) -> None:  # WF-GEN-01
    workflow = make_workflow(session, objects.owner, full_definition(objects))
    agent: TestClient = make_client()
    login(agent, world.agent)
    assert_error(agent.get(f"/api/workflows/{workflow.id}/export"), 403)
    before = counts(session, world.workspace.id)
    assert_error(import_(agent, export_file("X", {"trigger": None, "root": None, "steps": []})), 403)
    assert counts(session, world.workspace.id) == before


# ----------------------------------------------------------------------------------------------- round trip


def test_export_then_import_in_the_same_workspace_is_the_same_workflow(
    owner: TestClient, session: Session, objects: Objects, world: World
) -> None:  # WF-IO-01..07 round trip
    workflow = make_workflow(session, objects.owner, full_definition(objects), name="Ronda")
    service.update_details(
        session,
        objects.owner,
        workflow_id=workflow.id,
        name=None,
        description=None,
        settings=WorkflowSettings(allow_stop_for_contact=True),
    )
    session.commit()
    response = import_(owner, export(owner, workflow.id))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["stripped"] == []
    copy = body["workflow"]
    assert copy["name"] == "Ronda (imported)"  # WF-IO-07
    assert copy["state"] == "draft" and copy["description"] == "Descripción"  # WF-LIFE-01
    assert copy["settings"] == {"allowStopForContact": True}
    assert copy["problems"] == [] and copy["import_report"] == []
    assert copy["created_by"]["id"] == world.owner.id  # the importer
    first, second = export(owner, workflow.id), export(owner, copy["id"])
    assert second["workflow"] == {**first["workflow"], "name": "Ronda (imported)"}
    original = stored(session, workflow.id).draft
    definition = {k: first["workflow"][k] for k in ("trigger", "root", "steps")}
    assert stored(session, copy["id"]).draft == {"schemaVersion": 1, **definition}
    assert [s["config"] for s in original["steps"]][2]["user"]["id"] == objects.user_id
    assert copy["definition"]["steps"][2]["config"]["user"]["id"] == objects.user_id


# ------------------------------------------------------------------------------------------------ bad files


def valid_file(objects: Objects, name: str = "Importado") -> dict[str, Any]:
    return export_file(name, full_definition(objects))


def assert_nothing_created(session: Session, world: World, before: Any) -> None:
    assert counts(session, world.workspace.id) == before


def test_malformed_json_is_400(owner: TestClient, session: Session, world: World) -> None:  # WF-IO-04
    before = counts(session, world.workspace.id)
    body = assert_error(import_(owner, b'{"format": "convoflow.workflow",'), 400, "malformed_json")
    assert "not valid JSON" in body["message"]
    assert_error(import_(owner, b"\xff\xfe not utf-8"), 400, "malformed_json")
    assert_error(import_(owner, b""), 400, "malformed_json")
    deep = b"[" * 100_000 + b"]" * 100_000  # within 400 KB, deeper than any parser allows
    assert "nested too deeply" in assert_error(import_(owner, deep), 400, "malformed_json")["message"]
    assert_nothing_created(session, world, before)


def test_files_over_400_kb_are_413_and_400_kb_is_accepted(
    owner: TestClient, session: Session, objects: Objects, world: World
) -> None:  # WF-IO-04
    raw = file_bytes(valid_file(objects))
    exactly = raw[:-1] + b" " * (limits.IMPORT_MAX_BYTES - len(raw)) + raw[-1:]
    assert len(exactly) == 409_600
    before = counts(session, world.workspace.id)
    over = exactly[:-1] + b" " + exactly[-1:]
    body = assert_error(import_(owner, over), 413, "import_too_large")
    assert "400 KB" in body["message"]
    assert_nothing_created(session, world, before)
    assert import_(owner, exactly).status_code == 201


def test_more_than_one_hundred_steps_are_refused(
    owner: TestClient, session: Session, world: World
) -> None:  # WF-IO-04, WF-GEN-02
    steps = [
        {"key": f"s{i}", "name": f"Paso {i}", "type": "wait", "outputs": {"next": f"s{i + 1}"}}
        for i in range(101)
    ]
    steps[99]["outputs"] = {"next": None}
    steps[100]["outputs"] = {"next": None}
    before = counts(session, world.workspace.id)
    body = assert_error(
        import_(owner, export_file("Largo", {"trigger": None, "root": "s0", "steps": steps})),
        422,
        "invalid_file",
    )
    assert [(d["field"], d["code"]) for d in body["details"]] == [("steps", "too_long")]
    assert_nothing_created(session, world, before)
    assert (
        import_(
            owner, export_file("Justo", {"trigger": None, "root": "s0", "steps": steps[:100]})
        ).status_code
        == 201
    )


def test_every_problem_of_a_bad_file_is_listed_and_nothing_is_created(
    owner: TestClient, session: Session, objects: Objects, world: World
) -> None:  # WF-IO-04: unknown step types, wrong field types, duplicate ids, outputs pointing nowhere
    definition = full_definition(objects)
    steps = definition["steps"]
    steps[0] = {**steps[0], "outputs": {"next": "s2", "failure": "ghost"}}
    steps[2] = {**steps[2], "type": "teleport"}
    steps[3] = {**steps[3], "config": {"action": "team", "team": {"ref": "team", "id": "three"}}}
    steps[4] = {**steps[4], "key": "s4"}  # a second s4
    steps[5] = {**steps[5], "outputs": {"next": "nowhere"}}
    before = counts(session, world.workspace.id)
    body = assert_error(import_(owner, export_file("Roto", definition)), 422, "invalid_file")
    found = {(d["stepKey"], d["field"], d["code"]) for d in body["details"]}
    assert found == {
        ("s3", "type", "unknown_step_type"),
        ("s4", "config.team.id", "int_parsing"),
    }
    assert "Unknown step type 'teleport'" in {d["message"] for d in body["details"]}
    assert_nothing_created(session, world, before)
    # once the shapes are right, the structure is checked: every remaining problem at once
    steps[2] = {**steps[2], "type": "assign_to"}
    steps[3] = {**steps[3], "config": {"action": "team", "team": objects.ref("team")}}
    body = assert_error(import_(owner, export_file("Roto", definition)), 422, "invalid_file")
    assert {(d["stepKey"], d["field"], d["code"]) for d in body["details"]} == {
        ("s1", "outputs.failure", "dangling_output"),
        ("s4", "outputs.next", "dangling_output"),  # the first s4 leads to s5, now called s4 too
        ("s4", "key", "duplicate_key"),
        ("s6", "outputs.next", "dangling_output"),
    }
    assert body["message"] == "The workflow file has 4 problems; nothing was imported"
    assert_nothing_created(session, world, before)


def test_envelope_and_definition_problems_are_listed_together(
    owner: TestClient, session: Session, world: World
) -> None:  # WF-IO-04
    document: dict[str, Any] = export_file("", {"trigger": {"type": "nope"}, "root": None, "steps": []})
    document["format"] = "zapier.zap"
    document["formatVersion"] = 2
    document["workflow"]["settings"] = {"allowStopForContact": "sometimes"}
    before = counts(session, world.workspace.id)
    body = assert_error(import_(owner, document), 422, "invalid_file")
    assert {(d["stepKey"], d["field"], d["code"]) for d in body["details"]} == {
        (None, "format", "literal_error"),
        (None, "formatVersion", "literal_error"),
        (None, "workflow.settings.allowStopForContact", "bool_parsing"),
        ("trigger", "type", "unknown_trigger_type"),
    }
    assert_nothing_created(session, world, before)
    not_files: list[Any] = [[], "workflow", 3, {"workflow": []}]
    for not_a_file in not_files:
        assert_error(import_(owner, json.dumps(not_a_file).encode()), 422, "invalid_file")
    assert_nothing_created(session, world, before)


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("", False),
        ("   ", False),
        ("x" * 100, True),
        ("x" * 101, False),
        ("x" * 10_000, False),
        ("Bienvenida 🎉 ñandú", True),
    ],
)
def test_imported_names(owner: TestClient, session: Session, world: World, name: str, ok: bool) -> None:
    # WF-IO-07, WF-LIST-03: names of 0 and 10,000 characters, unicode and emoji
    before = counts(session, world.workspace.id)
    response = import_(owner, export_file(name, {"trigger": None, "root": None, "steps": []}))
    if ok:
        assert response.status_code == 201 and response.json()["workflow"]["name"] == name
    else:
        body = assert_error(response, 422, "invalid_file")
        assert [d["field"] for d in body["details"]] == ["workflow.name"]
        assert_nothing_created(session, world, before)


def test_a_long_description_is_refused(
    owner: TestClient, session: Session, world: World
) -> None:  # WF-LIST-03
    body = assert_error(
        import_(owner, export_file("D", {"steps": []}, description="d" * 256)), 422, "invalid_file"
    )
    assert [d["field"] for d in body["details"]] == ["workflow.description"]


def test_import_into_a_full_workspace_is_refused(
    owner: TestClient, session: Session, objects: Objects, world: World
) -> None:  # WF-IO-04, WF-LIST-04
    for i in range(limits.MAX_WORKFLOWS):
        service.new_workflow(
            session, objects.owner, name=f"W{i}", description="", definition=WorkflowDefinition()
        )
    session.commit()
    before = counts(session, world.workspace.id)
    body = assert_error(import_(owner, valid_file(objects)), 409, "workflow_limit_reached")
    assert body["message"] == "Workflow limit reached (100)"
    assert_nothing_created(session, world, before)


# ----------------------------------------------------------------------------------------------- references


def test_import_into_another_workspace_re_points_or_strips_references(
    owner: TestClient, make_client: Any, session: Session, objects: Objects, container: Container
) -> None:  # WF-IO-05, WF-IO-06, WF-GEN-03
    workflow = make_workflow(session, objects.owner, full_definition(objects), name="Viajero")
    document = export(owner, workflow.id)
    other = seed_world(session, container.hasher, name="Destino")
    other_owner = principal(other.workspace, other.owner)
    from convoflow.teams.service import create_team

    team = create_team(session, other_owner, name="VENTAS")  # same natural key, ignoring case
    session.commit()
    client: TestClient = make_client()
    login(client, other.owner)
    before = counts(session, other.workspace.id)
    response = import_(client, document)
    assert response.status_code == 201, response.text
    body = response.json()
    stripped = {(s["stepKey"], s["stepName"], s["setting"], s["label"]) for s in body["stripped"]}
    assert stripped == {
        ("trigger", "Trigger", "config.tags[0]", "vip"),
        ("s1", "Saludo", "config.channel", "Web Chat"),
        ("s3", "Asignar", "config.user", objects.user_name),
        ("s5", "Ciudad", "config.rows[0].field", "city"),
        ("s7", "Cerrar", "config.category", "Resuelto"),
    }
    imported = body["workflow"]
    assert imported["name"] == "Viajero"  # no clash in that workspace
    assert imported["import_report"] == body["stripped"]
    steps = {s["key"]: s["config"] for s in imported["definition"]["steps"]}
    assert steps["s4"]["team"] == {"ref": "team", "id": team.id, "key": "VENTAS", "label": "VENTAS"}
    stage = steps["s6"]["stage"]  # every workspace has the default stages
    assert stage["key"] == "New Lead" and stage["id"] != objects.stage_id
    assert steps["s1"]["channel"] == {"ref": "channel", "id": None, "key": None, "label": None}
    after = counts(session, other.workspace.id)
    assert after.workflows == before.workflows + 1
    assert (after.tags, after.fields, after.teams, after.categories) == (
        before.tags,
        before.fields,
        before.teams,
        before.categories,
    )  # import creates no tag (nor anything else)
    problems = {(p["stepKey"], p["field"], p["code"]) for p in imported["problems"]}
    assert problems == {
        ("trigger", "config.tags[0]", "required"),
        ("s3", "config.user", "required"),
        ("s5", "config.rows[0].field", "required"),
    }  # the channel and the category are optional


def test_references_resolve_by_id_only_when_the_id_names_the_same_object(
    owner: TestClient, session: Session, objects: Objects, world: World
) -> None:  # WF-IO-05
    from convoflow.contacts.tags import create_tag

    lead = create_tag(session, objects.owner, name="lead")
    session.commit()
    definition = full_definition(objects)
    # the id is vip's, the key says lead: the key wins
    definition["trigger"]["config"]["tags"] = [{"ref": "tag", "id": objects.tag_id, "key": "LEAD"}]
    # an id that does not exist here, a key that does
    definition["steps"][3]["config"]["team"] = {
        "ref": "team",
        "id": 987654,
        "key": "ventas",
        "label": "Ventas",
    }
    response = import_(owner, export_file("Por clave", definition))
    assert response.status_code == 201, response.text
    imported = response.json()["workflow"]["definition"]
    assert imported["trigger"]["config"]["tags"] == [
        {"ref": "tag", "id": lead.id, "key": "lead", "label": "lead"}
    ]
    assert imported["steps"][3]["config"]["team"]["id"] == objects.team_id
    assert response.json()["stripped"] == []


def test_the_import_report_stays_until_the_first_save(
    owner: TestClient, session: Session, objects: Objects, world: World
) -> None:  # WF-IO-06
    definition = full_definition(objects)
    definition["steps"][2]["config"]["user"] = {
        "ref": "user",
        "id": 999999,
        "key": "ghost@x.example",
        "label": "Ghost",
    }
    response = import_(owner, export_file("Con hueco", definition))
    assert response.status_code == 201, response.text
    workflow_id = response.json()["workflow"]["id"]
    report = [{"stepKey": "s3", "stepName": "Asignar", "setting": "config.user", "label": "Ghost"}]
    assert response.json()["stripped"] == report
    detail = owner.get(f"/api/workflows/{workflow_id}").json()
    assert detail["import_report"] == report
    assert ("s3", "config.user", "required") in {
        (p["stepKey"], p["field"], p["code"]) for p in detail["problems"]
    }
    # WF-IO-06: the stripped required value blocks save and publish
    draft = detail["definition"]
    body = assert_error(
        owner.put(f"/api/workflows/{workflow_id}/definition", json={"revision": 1, "definition": draft}),
        422,
        "workflow_invalid",
    )
    assert ("s3", "config.user", "required") in {
        (d["stepKey"], d["field"], d["code"]) for d in body["details"]
    }
    assert_error(owner.post(f"/api/workflows/{workflow_id}/publish"), 422, "workflow_invalid")
    after_refusals = stored(session, workflow_id)
    assert (
        after_refusals.state == "draft"
        and after_refusals.import_report == report
        and after_refusals.revision == 1
    )
    draft["steps"][2]["config"]["user"] = objects.ref("user")
    saved = owner.put(f"/api/workflows/{workflow_id}/definition", json={"revision": 1, "definition": draft})
    assert saved.status_code == 200, saved.text
    assert saved.json()["import_report"] is None
    assert stored(session, workflow_id).import_report is None


def test_name_clashes_get_imported_suffixes(
    owner: TestClient, session: Session, objects: Objects
) -> None:  # WF-IO-07
    make_workflow(session, objects.owner, full_definition(objects), name="Bienvenida")
    names = [
        import_(owner, export_file(name, {"steps": []})).json()["workflow"]["name"]
        for name in ("BIENVENIDA", "bienvenida", "Otra")
    ]
    assert names == ["BIENVENIDA (imported)", "bienvenida (imported) 2", "Otra"]
    long_name = "n" * 100
    make_raw_workflow(session, objects.owner, {"steps": []}, name=long_name)
    clash = import_(owner, export_file(long_name, {"steps": []})).json()["workflow"]["name"]
    assert clash == "n" * 89 + " (imported)" and len(clash) == 100


def test_import_is_a_draft_created_by_the_importer_and_audited(
    owner: TestClient, session: Session, objects: Objects, world: World
) -> None:  # WF-IO-07, WF-LIFE-01, audit trail
    response = import_(owner, valid_file(objects, "Auditado"))
    assert response.status_code == 201
    created = response.json()["workflow"]
    assert created["state"] == "draft" and created["published_version"] is None
    workflow = stored(session, created["id"])
    assert workflow.created_by == world.owner.id and workflow.state == "draft"
    entries = session.scalars(select(AuditEntry).where(AuditEntry.target_id == workflow.id)).all()
    assert [(e.action, e.actor_kind, e.actor_id, e.data) for e in entries] == [
        ("imported", "user", world.owner.id, {"name": "Auditado", "stripped": 0})
    ]
    history = owner.get(f"/api/workflows/{workflow.id}/history").json()
    assert [h["action"] for h in history] == ["imported"]


@pytest.mark.parametrize(
    ("filename", "header"),
    [
        ("Asignar a un Agente.json", 'attachment; filename="Asignar a un Agente.json"'),
        (
            "Asignación 🎉.json",
            'attachment; filename="Asignaci_n _.json"; '
            "filename*=UTF-8''Asignaci%C3%B3n%20%F0%9F%8E%89.json",
        ),
    ],
)
def test_the_download_header_survives_any_name(filename: str, header: str) -> None:  # WF-IO-01
    assert content_disposition(filename) == header
    header.encode("latin-1")  # what HTTP headers must be


def test_the_workspace_closing_notes_rule_applies_to_close_steps(
    owner: TestClient, session: Session, world: World
) -> None:  # WF-STEP-CLOSE-01, CRM-CONV-04
    close = {
        "trigger": {"type": "manual"},
        "root": "s1",
        "steps": [{"key": "s1", "name": "Cerrar", "type": "close_conversation", "config": {}}],
    }
    expectations = {
        "optional": set(),
        "category_required": {("s1", "config.category", "required")},
        "category_and_summary_required": {
            ("s1", "config.category", "required"),
            ("s1", "config.summary", "required"),
        },
    }
    for setting, expected in expectations.items():
        patched = owner.patch("/api/workspace", json={"settings": {"closing_notes": setting}})
        assert patched.status_code == 200, patched.text
        response = import_(owner, export_file(f"Cierre {setting}", close))
        assert response.status_code == 201, response.text
        found = {(p["stepKey"], p["field"], p["code"]) for p in response.json()["workflow"]["problems"]}
        assert found == expected, setting
