"""Objects used by published workflows cannot be deleted (CRM-TEAM-04, CRM-FIELD-04, CRM-TAG-03): the
refusal is 409 listing the workflows; once they are stopped the deletion goes through, and the references
left in Draft/Stopped workflows become configuration errors (reference_missing / unknown_variable)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from convoflow.bootstrap import Container
from convoflow.contacts import fields, tags
from convoflow.contacts.models import ContactField, Tag
from convoflow.errors import Conflict
from convoflow.events.actor import Actor
from convoflow.teams import service as teams
from convoflow.teams.models import Team
from convoflow.testing.factories import make_contact, principal
from convoflow.workflows import references
from tests.support import World, assert_error, login, seed_world
from tests.workflows.lifecycle_support import (
    OPENED,
    document,
    make_draft,
    make_published,
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


def ref(kind: str, object_id: int, name: str) -> dict[str, Any]:
    return {"ref": kind, "id": object_id, "key": name, "label": name}


def branch_on(condition: dict[str, Any]) -> Any:
    return document(
        OPENED,
        step(
            "b",
            "branch",
            name="¿Caso?",
            outputs={"branch:1": "s1", "else": None},
            branches=[{"name": "Sí", "conditions": [condition]}],
        ),
        send("s1"),
        root="b",
    )


# Each way a published definition can name the object; `{id}`/`{name}` are the object's.
TEAM_USES: dict[str, Callable[[int, str], Any]] = {
    "assign to team": lambda i, n: document(
        OPENED,
        step(
            "s1", "assign_to", name="Asignar", outputs={"next": None}, action="team", team=ref("team", i, n)
        ),
    ),
    "branch: assignee in team": lambda i, n: branch_on(
        {"category": "assignee", "operator": "is_in_team", "value": ref("team", i, n)}
    ),
    "shortcut visible to the team": lambda i, n: document(
        {
            "type": "shortcut",
            "config": {"label": "Spam", "visibility": "teams", "teams": [ref("team", i, n)]},
        },
        send("s1"),
    ),
    "assignee updated trigger": lambda i, n: document(
        {
            "type": "assignee_updated",
            "config": {"change": "any", "teams": [ref("team", i, n)], "sources": ["user"]},
        },
        send("s1"),
    ),
}
TAG_USES: dict[str, Callable[[int, str], Any]] = {
    "update tag": lambda i, n: document(
        OPENED,
        step(
            "s1",
            "update_tag",
            name="Etiquetar",
            outputs={"next": None},
            action="remove",
            tags=[ref("tag", i, n)],
        ),
    ),
    "tag trigger": lambda i, n: document(
        {"type": "contact_tag_updated", "config": {"action": "added", "tags": [ref("tag", i, n)]}}, send("s1")
    ),
    "branch on tags": lambda i, n: branch_on(
        {"category": "tags", "operator": "has_any_of", "value": [ref("tag", i, n)]}
    ),
}
FIELD_USES: dict[str, Callable[[str], Any]] = {
    "update field": lambda slug: document(
        OPENED,
        step(
            "s1",
            "update_field",
            name="Guardar",
            outputs={"next": None},
            rows=[{"field": slug, "value": "Madrid"}],
        ),
    ),
    "field trigger": lambda slug: document(
        {"type": "contact_field_updated", "config": {"fields": [slug]}}, send("s1")
    ),
    "ask and save": lambda slug: document(
        OPENED,
        step(
            "s1",
            "ask_question",
            name="Preguntar",
            outputs={"next": None},
            question="¿Ciudad?",
            save_field=slug,
        ),
    ),
    "branch on field": lambda slug: branch_on(
        {"category": "contact_field", "field": slug, "operator": "exists"}
    ),
    "variable in a text": lambda slug: document(OPENED, send("s1", f"Saludos a $contact.{slug}!")),
}


def problem_codes(client: TestClient, workflow_id: int) -> list[tuple[str | None, str, str]]:
    body = client.get(f"/api/workflows/{workflow_id}").json()
    return [(p["stepKey"], p["field"], p["code"]) for p in body["problems"]]


def _exists(session: Session, model: Any, object_id: int) -> bool:
    found = session.scalar(select(model.id).where(model.id == object_id)) is not None
    session.commit()
    return found


# -------------------------------------------------------------------------------------------- CRM-TEAM-04


@pytest.mark.parametrize("use", list(TEAM_USES), ids=list(TEAM_USES))
def test_a_team_used_by_a_published_workflow_cannot_be_deleted(
    owner: TestClient, session: Session, world: World, use: str
) -> None:  # CRM-TEAM-04
    team = teams.create_team(session, principal(world.workspace, world.owner), name="Ventas")
    session.commit()
    using = make_published(session, owner_of(world), "Reparto", TEAM_USES[use](team.id, "Ventas"))
    make_draft(session, owner_of(world), "Borrador", TEAM_USES[use](team.id, "Ventas"))
    before = snapshot(session, world.workspace.id)
    body = assert_error(owner.delete(f"/api/teams/{team.id}"), 409, "used_by_published_workflows")
    assert body["message"] == "Team 'Ventas' is used by published workflows: 'Reparto'"
    assert body["details"] == {"workflows": [{"id": using.id, "name": "Reparto"}]}
    assert _exists(session, Team, team.id)
    assert snapshot(session, world.workspace.id) == before

    assert owner.post(f"/api/workflows/{using.id}/stop").status_code == 200
    assert owner.delete(f"/api/teams/{team.id}").status_code == 204
    assert not _exists(session, Team, team.id)
    codes = problem_codes(owner, using.id)
    assert codes and all(code == "reference_missing" for _key, _field, code in codes), codes
    assert_error(owner.post(f"/api/workflows/{using.id}/publish"), 422, "workflow_invalid")


def test_unused_teams_and_teams_used_only_by_drafts_can_be_deleted(
    owner: TestClient, session: Session, world: World
) -> None:  # CRM-TEAM-04, CRM-TEAM-04: references in drafts become configuration errors
    who = principal(world.workspace, world.owner)
    free = teams.create_team(session, who, name="Libre")
    drafted = teams.create_team(session, who, name="Soporte")
    session.commit()
    draft = make_draft(
        session, owner_of(world), "Borrador", TEAM_USES["assign to team"](drafted.id, "Soporte")
    )
    assert problem_codes(owner, draft.id) == []
    assert owner.delete(f"/api/teams/{free.id}").status_code == 204
    assert owner.delete(f"/api/teams/{drafted.id}").status_code == 204
    assert problem_codes(owner, draft.id) == [("s1", "config.team", "reference_missing")]
    assert stored(session, draft.id).state == "draft"


# -------------------------------------------------------------------------------------------- CRM-TAG-03


@pytest.mark.parametrize("use", list(TAG_USES), ids=list(TAG_USES))
def test_a_tag_used_by_a_published_workflow_cannot_be_deleted(
    owner: TestClient, session: Session, world: World, use: str
) -> None:  # CRM-TAG-03
    tag = tags.create_tag(session, principal(world.workspace, world.owner), name="VIP")
    contact = make_contact(session, workspace_id=world.workspace.id)
    tags.change_contact_tags(session, contact=contact, add=["VIP"], remove=[], actor=Actor.system())
    session.commit()
    first = make_published(session, owner_of(world), "Uno", TAG_USES[use](tag.id, "VIP"))
    second = make_published(session, owner_of(world), "Dos", TAG_USES[use](tag.id, "VIP"))
    before = snapshot(session, world.workspace.id)
    body = assert_error(owner.delete(f"/api/tags/{tag.id}"), 409, "used_by_published_workflows")
    assert body["message"] == "Tag 'VIP' is used by published workflows: 'Uno', 'Dos'"
    assert body["details"]["workflows"] == [{"id": first.id, "name": "Uno"}, {"id": second.id, "name": "Dos"}]
    assert _exists(session, Tag, tag.id)
    assert tags.contact_tag_names(session, contact.id) == ["VIP"]  # still on the contact
    session.commit()
    assert snapshot(session, world.workspace.id) == before

    for workflow in (first, second):
        assert owner.post(f"/api/workflows/{workflow.id}/stop").status_code == 200
    assert owner.delete(f"/api/tags/{tag.id}").status_code == 204
    assert not _exists(session, Tag, tag.id)
    assert tags.contact_tag_names(session, contact.id) == []
    session.commit()
    for workflow in (first, second):
        codes = problem_codes(owner, workflow.id)
        assert codes and all(code == "reference_missing" for _key, _field, code in codes), codes


# ------------------------------------------------------------------------------------------ CRM-FIELD-04


@pytest.mark.parametrize("use", list(FIELD_USES), ids=list(FIELD_USES))
def test_a_field_used_by_a_published_workflow_cannot_be_deleted(
    owner: TestClient, session: Session, world: World, use: str
) -> None:  # CRM-FIELD-04
    field = fields.create_field(
        session, principal(world.workspace, world.owner), name="Ciudad", slug="city", type="text"
    )
    session.commit()
    using = make_published(session, owner_of(world), "Ciudades", FIELD_USES[use]("city"))
    before = snapshot(session, world.workspace.id)
    body = assert_error(owner.delete(f"/api/fields/{field.id}"), 409, "used_by_published_workflows")
    assert body["message"] == "Field 'Ciudad' is used by published workflows: 'Ciudades'"
    assert body["details"] == {"workflows": [{"id": using.id, "name": "Ciudades"}]}
    assert _exists(session, ContactField, field.id)
    assert snapshot(session, world.workspace.id) == before

    assert owner.post(f"/api/workflows/{using.id}/stop").status_code == 200
    assert owner.delete(f"/api/fields/{field.id}").status_code == 204
    assert not _exists(session, ContactField, field.id)
    codes = problem_codes(owner, using.id)
    assert codes and {code for _k, _f, code in codes} <= {"reference_missing", "unknown_variable"}, codes


def test_a_field_slug_matches_ignoring_case(owner: TestClient, session: Session, world: World) -> None:
    # CRM-FIELD-04: slugs are stored lower-case and variables ignore case.
    field = fields.create_field(
        session, principal(world.workspace, world.owner), name="Ciudad", slug="city", type="text"
    )
    session.commit()
    make_published(session, owner_of(world), "Ciudades", document(OPENED, send("s1", "En $Contact.CITY")))
    assert_error(owner.delete(f"/api/fields/{field.id}"), 409, "used_by_published_workflows")


def test_only_the_published_version_counts(owner: TestClient, session: Session, world: World) -> None:
    # A Stopped workflow whose old version named the tag, or whose draft names it, blocks nothing; a
    # Published one whose draft no longer names it still blocks (runs execute the published version).
    who = principal(world.workspace, world.owner)
    tag = tags.create_tag(session, who, name="VIP")
    session.commit()
    published = make_published(session, owner_of(world), "Activo", TAG_USES["update tag"](tag.id, "VIP"))
    assert [
        w.id
        for w in references.published_users_of(
            session, workspace_id=world.workspace.id, kind="tag", object_id=tag.id
        )
    ] == [published.id]
    session.commit()
    assert owner.post(f"/api/workflows/{published.id}/stop").status_code == 200
    assert (
        owner.put(
            f"/api/workflows/{published.id}/definition",
            json={"revision": 2, "definition": document(OPENED, send("s1"))},
        ).status_code
        == 200
    )
    assert owner.post(f"/api/workflows/{published.id}/publish").status_code == 200
    assert (
        references.published_users_of(session, workspace_id=world.workspace.id, kind="tag", object_id=tag.id)
        == []
    )
    session.commit()
    assert owner.delete(f"/api/tags/{tag.id}").status_code == 204


def test_other_workspaces_published_workflows_do_not_count(
    owner: TestClient, session: Session, container: Container, world: World
) -> None:  # CRM-TAG-03 is per workspace
    other = seed_world(session, container.hasher, name="Globex")
    mine = tags.create_tag(session, principal(world.workspace, world.owner), name="VIP")
    theirs = tags.create_tag(session, principal(other.workspace, other.owner), name="VIP")
    session.commit()
    # A foreign published version naming my tag's id (as a crafted document could) does not block me.
    foreign = make_published(session, owner_of(other), "Ajeno", TAG_USES["update tag"](theirs.id, "VIP"))
    [version] = versions_of(session, foreign.id)
    version.definition = TAG_USES["update tag"](mine.id, "VIP")
    session.commit()
    assert owner.delete(f"/api/tags/{mine.id}").status_code == 204


def test_the_refusal_is_raised_by_the_services(session: Session, world: World) -> None:
    # The same rule holds for every caller of the services, not only the HTTP routes.
    who = principal(world.workspace, world.owner)
    team = teams.create_team(session, who, name="Ventas")
    tag = tags.create_tag(session, who, name="VIP")
    field = fields.create_field(session, who, name="Ciudad", slug="city", type="text")
    session.commit()
    definition = document(
        OPENED,
        step(
            "s1",
            "assign_to",
            name="Asignar",
            outputs={"next": "s2"},
            action="team",
            team=ref("team", team.id, "Ventas"),
        ),
        step(
            "s2",
            "update_tag",
            name="Etiquetar",
            outputs={"next": "s3"},
            action="remove",
            tags=[ref("tag", tag.id, "VIP")],
        ),
        step(
            "s3",
            "update_field",
            name="Guardar",
            outputs={"next": None},
            rows=[{"field": "city", "value": "x"}],
        ),
    )
    make_published(session, owner_of(world), "Todo", definition)
    deletions: list[Callable[[], None]] = [
        lambda: teams.delete_team(session, who, team_id=team.id),
        lambda: tags.delete_tag(session, who, tag_id=tag.id),
        lambda: fields.delete_field(session, who, field_id=field.id),
    ]
    for delete in deletions:
        with pytest.raises(Conflict) as refused:
            delete()
        assert refused.value.error == "used_by_published_workflows"
    session.rollback()
    assert (
        _exists(session, Team, team.id)
        and _exists(session, Tag, tag.id)
        and _exists(session, ContactField, field.id)
    )
