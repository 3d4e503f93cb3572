"""The template gallery through the API (WF-TPL-01, WF-TPL-02): GET /api/workflow-templates, the preview,
and POST /api/workflow-templates/{key}/use with and without create_missing."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from convoflow.audit.models import AuditEntry
from convoflow.bootstrap import Container
from convoflow.contacts.models import ContactField, Tag
from convoflow.contacts.tags import create_tag
from convoflow.testing.factories import principal
from convoflow.workflows import gallery, service
from convoflow.workflows.definition import limits
from convoflow.workflows.definition.graph import WorkflowDefinition
from convoflow.workflows.models import Workflow
from tests.support import World, assert_error, login, seed_world
from tests.workflows.io_support import counts

PLACEHOLDER = re.compile(r"^@[a-z0-9_]+$")


@pytest.fixture
def world(session: Session, container: Container) -> World:
    return seed_world(session, container.hasher)


@pytest.fixture
def owner(client: TestClient, world: World) -> TestClient:
    login(client, world.owner)
    return client


def spanish(client: TestClient) -> None:
    response = client.patch("/api/workspace", json={"settings": {"language": "es"}})
    assert response.status_code == 200, response.text


def use(client: TestClient, key: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(f"/api/workflow-templates/{key}/use", json=body)


def problem_set(workflow: dict[str, Any]) -> set[tuple[str | None, str, str]]:
    return {(p["stepKey"], p["field"], p["code"]) for p in workflow["problems"]}


def strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for value in node.values() for s in strings(value)]
    if isinstance(node, list):
        return [s for item in node for s in strings(item)]
    return []


# ---------------------------------------------------------------------------------------------- the gallery


def test_the_gallery_lists_every_template_in_the_workspace_language(
    owner: TestClient,
) -> None:  # WF-TPL-01/02
    response = owner.get("/api/workflow-templates")
    assert response.status_code == 200
    listed = response.json()
    infos = gallery.list_templates()
    assert [t["key"] for t in listed] == [i.key for i in infos]
    for item, info in zip(listed, infos, strict=True):
        assert set(item) == {"key", "category", "name", "purpose", "step_count", "expects"}
        assert (item["name"], item["purpose"]) == (info.name["en"], info.purpose["en"])  # English by default
        assert item["category"] == info.category and item["step_count"] == info.step_count
    by_key = {t["key"]: t for t in listed}
    assert by_key["welcome-message"]["name"] == "Welcome Message"
    assert by_key["enrutamiento-de-agentes"]["expects"]["teams"] == ["Sales", "Support", "Billing"]
    spanish(owner)
    in_spanish = {t["key"]: t for t in owner.get("/api/workflow-templates").json()}
    assert in_spanish["asignar-a-un-agente"]["name"] == "Asignar a un Agente"
    assert in_spanish["enrutamiento-de-agentes"]["expects"]["teams"] == ["Ventas", "Soporte", "Facturación"]
    assert in_spanish["cerrar-conversacion-y-prender-bot"]["expects"]["fields"] == [
        {"slug": "bot_activo", "name": "Bot activo", "type": "checkbox", "options": []}
    ]


def test_the_preview_shows_the_rendered_graph(owner: TestClient) -> None:  # WF-TPL-01/02
    response = owner.get("/api/workflow-templates/enrutamiento-de-agentes")
    assert response.status_code == 200
    preview = response.json()
    assert preview["key"] == "enrutamiento-de-agentes" and preview["step_count"] == 7
    definition = WorkflowDefinition.model_validate(preview["definition"])
    assert len(definition.steps) == 7 and definition.root == "s1"
    assert not [s for s in strings(preview["definition"]) if PLACEHOLDER.match(s)]
    english_question = preview["definition"]["steps"][0]["config"]["question"]
    spanish(owner)
    spanish_preview = owner.get("/api/workflow-templates/enrutamiento-de-agentes").json()
    assert spanish_preview["definition"]["steps"][0]["config"]["question"] == "¿Con qué área quieres hablar?"
    assert english_question != "¿Con qué área quieres hablar?"
    assert_error(owner.get("/api/workflow-templates/teleport"), 404, "template_not_found")


def test_agents_cannot_browse_or_use_templates(
    make_client: Any, session: Session, world: World
) -> None:  # WF-GEN-01
    agent: TestClient = make_client()
    login(agent, world.agent)
    assert_error(agent.get("/api/workflow-templates"), 403)
    assert_error(agent.get("/api/workflow-templates/welcome-message"), 403)
    before = counts(session, world.workspace.id)
    assert_error(use(agent, "welcome-message", {"create_missing": True}), 403)
    assert counts(session, world.workspace.id) == before


# --------------------------------------------------------------------------------------------- use template


def test_using_a_template_creates_a_draft_with_the_user_input_flagged(
    owner: TestClient, session: Session, world: World
) -> None:  # WF-TPL-01
    spanish(owner)
    response = use(owner, "asignar-a-un-agente")
    assert response.status_code == 201, response.text
    body = response.json()
    workflow = body["workflow"]
    assert workflow["name"] == "Asignar a un Agente" and workflow["state"] == "draft"
    assert workflow["description"] == gallery.get_template("asignar-a-un-agente").purpose["es"]
    assert body["stripped"] == [] and workflow["import_report"] == []
    assert problem_set(workflow) == {("s2", "config.user", "required")}  # the agent to choose
    assert workflow["definition"]["steps"][1]["config"]["user"] == {
        "ref": "user",
        "id": None,
        "key": None,
        "label": "Elige un usuario",
    }
    row = session.get(Workflow, workflow["id"])
    assert row is not None and row.state == "draft" and row.created_by == world.owner.id
    entries = session.scalars(select(AuditEntry).where(AuditEntry.target_id == row.id)).all()
    assert [(e.action, e.data) for e in entries] == [
        ("created_from_template", {"name": "Asignar a un Agente", "template": "asignar-a-un-agente"})
    ]


def test_without_create_missing_the_expected_fields_and_tags_are_flagged(
    owner: TestClient, session: Session, world: World
) -> None:  # WF-TPL-01
    spanish(owner)
    before = counts(session, world.workspace.id)
    body = use(owner, "cerrar-conversacion-y-prender-bot").json()
    assert [(s["stepKey"], s["setting"], s["label"]) for s in body["stripped"]] == [
        ("s2", "config.rows[0].field", "bot_activo")
    ]
    assert problem_set(body["workflow"]) == {("s2", "config.rows[0].field", "required")}
    after = counts(session, world.workspace.id)
    assert (after.fields, after.tags, after.workflows) == (before.fields, before.tags, before.workflows + 1)
    alto = use(owner, "asignacion-automatica-para-equipos-de-soporte-alto").json()
    assert problem_set(alto["workflow"]) == {
        ("trigger", "config.conditions.contact.conditions[1].value[0]", "required"),
        ("trigger", "config.conditions.contact.conditions[1].value[1]", "required"),
        ("s1", "config.team", "required"),
        ("s2", "config.tags[0]", "required"),
        ("s4", "config.team", "required"),
    }
    assert {s["label"] for s in alto["stripped"]} == {
        "vip",
        "prioridad-alta",
        "atendido-soporte-alto",
        "Soporte Alto",
    }
    assert counts(session, world.workspace.id).tags == before.tags  # nothing created without the dialog


def test_create_missing_creates_the_expected_fields_and_tags_but_not_teams(
    owner: TestClient, session: Session, world: World
) -> None:  # WF-TPL-01
    spanish(owner)
    create_tag(session, principal(world.workspace, world.owner), name="VIP")  # exists already, any case
    session.commit()
    before = counts(session, world.workspace.id)
    body = use(owner, "asignacion-automatica-para-equipos-de-soporte-alto", {"create_missing": True}).json()
    names = sorted(session.scalars(select(Tag.name).where(Tag.workspace_id == world.workspace.id)))
    assert names == ["VIP", "atendido-soporte-alto", "prioridad-alta"]
    assert counts(session, world.workspace.id).teams == before.teams  # teams are picked or created by hand
    assert [(s["stepKey"], s["setting"], s["label"]) for s in body["stripped"]] == [
        ("s1", "config.team", "Soporte Alto"),
        ("s4", "config.team", "Soporte Alto"),
    ]
    assert problem_set(body["workflow"]) == {
        ("s1", "config.team", "required"),
        ("s4", "config.team", "required"),
    }
    bot = use(owner, "cerrar-conversacion-y-prender-bot", {"create_missing": True}).json()
    field = session.scalars(
        select(ContactField).where(
            ContactField.workspace_id == world.workspace.id, ContactField.slug == "bot_activo"
        )
    ).one()
    assert (field.name, field.type) == ("Bot activo", "checkbox")
    session.commit()  # ends the read (SQLite's write lock) before the next request
    assert bot["stripped"] == [] and bot["workflow"]["problems"] == []  # the closing category is optional
    again = use(owner, "cerrar-conversacion-y-prender-bot", {"create_missing": True}).json()
    assert again["workflow"]["name"] == "Cerrar conversación y prender Bot 2"
    assert counts(session, world.workspace.id).fields == before.fields + 1  # not created twice


def test_a_required_closing_category_is_flagged(
    owner: TestClient, session: Session
) -> None:  # WF-TPL-01, WF-STEP-CLOSE-01
    response = owner.patch("/api/workspace", json={"settings": {"closing_notes": "category_required"}})
    assert response.status_code == 200, response.text
    body = use(owner, "mark-contact-as-spam", {"create_missing": True}).json()
    assert problem_set(body["workflow"]) == {("s2", "config.category", "required")}


def test_the_workspace_language_picks_the_texts(owner: TestClient) -> None:  # WF-TPL-02
    english = use(owner, "welcome-message").json()["workflow"]
    spanish(owner)
    spanish_one = use(owner, "welcome-message").json()["workflow"]
    template = gallery.get_template("welcome-message")
    assert english["name"] == template.name["en"] and spanish_one["name"] == template.name["es"]
    assert (
        english["definition"]["steps"][0]["config"]["text"]
        == template.render("en")["steps"][0]["config"]["text"]
    )
    assert (
        spanish_one["definition"]["steps"][0]["config"]["text"]
        == template.render("es")["steps"][0]["config"]["text"]
    )
    assert english["definition"]["steps"][0]["name"] != spanish_one["definition"]["steps"][0]["name"]


def test_a_chosen_name_and_unknown_templates(
    owner: TestClient, session: Session, world: World
) -> None:  # WF-TPL-01
    named = use(owner, "welcome-message", {"name": "Hola 👋"}).json()["workflow"]
    assert named["name"] == "Hola 👋"
    before = counts(session, world.workspace.id)
    assert_error(use(owner, "teleport", {"create_missing": True}), 404, "template_not_found")
    assert_error(use(owner, "welcome-message", {"name": ""}), 422)
    assert_error(use(owner, "welcome-message", {"name": "x" * 101}), 422)
    assert counts(session, world.workspace.id) == before


def test_template_drafts_count_toward_the_limit(
    owner: TestClient, session: Session, world: World
) -> None:  # WF-TPL-01, WF-LIST-04
    owner_principal = principal(world.workspace, world.owner)
    for i in range(limits.MAX_WORKFLOWS - 1):
        service.new_workflow(
            session, owner_principal, name=f"W{i}", description="", definition=WorkflowDefinition()
        )
    session.commit()
    assert use(owner, "welcome-message").status_code == 201  # the 100th
    assert owner.get("/api/workflows").json()["count"] == 100
    before = counts(session, world.workspace.id)
    body = assert_error(
        use(owner, "cerrar-conversacion-y-prender-bot", {"create_missing": True}),
        409,
        "workflow_limit_reached",
    )
    assert body["message"] == "Workflow limit reached (100)"
    assert counts(session, world.workspace.id) == before  # not even the expected field was created
