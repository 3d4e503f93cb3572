"""Published versions (WF-GEN-04, WF-LIFE-03): every publish freezes an immutable numbered version; list,
view, restore into the draft, discard the draft back to the published version, has_unpublished_changes."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from convoflow.bootstrap import Container
from convoflow.contacts.tags import create_tag, delete_tag
from convoflow.testing.clock import FakeClock
from convoflow.testing.factories import principal
from convoflow.workflows.models import WorkflowVersion
from tests.support import World, assert_error, login, seed_world
from tests.workflows.lifecycle_support import (
    OPENED,
    document,
    make_draft,
    make_published,
    make_stopped,
    owner_of,
    simple,
    snapshot,
    step,
    stored,
    tag_ref,
    versions_of,
)


@pytest.fixture
def world(session: Session, container: Container) -> World:
    return seed_world(session, container.hasher)


@pytest.fixture
def owner(client: TestClient, world: World) -> TestClient:
    login(client, world.owner)
    return client


def text_of(definition: dict[str, Any]) -> str:
    text: str = definition["steps"][0]["config"]["text"]
    return text


def frozen(version: WorkflowVersion) -> tuple[Any, ...]:
    return (
        version.id,
        version.workflow_id,
        version.number,
        version.definition,
        version.content_hash,
        version.published_by,
        version.published_at,
    )


def ok(response: Any) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def test_republishing_makes_version_2_and_version_1_never_changes(
    client: TestClient, make_client: Any, session: Session, world: World, clock: FakeClock
) -> None:  # WF-GEN-04
    workflow = make_draft(session, owner_of(world), "Bienvenida", simple("uno"))
    login(client, world.owner)
    first = ok(client.post(f"/api/workflows/{workflow.id}/publish"))
    assert first["published_version"] == 1
    [v1] = versions_of(session, workflow.id)
    v1_row = frozen(v1)

    clock.advance(days=1)
    ok(client.post(f"/api/workflows/{workflow.id}/stop"))
    ok(
        client.put(
            f"/api/workflows/{workflow.id}/definition", json={"revision": 2, "definition": simple("dos")}
        )
    )
    ok(
        client.patch(
            f"/api/workflows/{workflow.id}",
            json={"name": "Bienvenida 2", "settings": {"allowStopForContact": True}},
        )
    )
    mario = make_client()
    login(mario, world.manager)
    second = ok(mario.post(f"/api/workflows/{workflow.id}/publish"))
    assert second["published_version"] == 2

    v1_again, v2 = versions_of(session, workflow.id)
    assert frozen(v1_again) == v1_row  # the version row never changes
    assert text_of(v1_again.definition) == "uno" and text_of(v2.definition) == "dos"
    assert (v2.number, v2.published_by, v2.published_at) == (2, world.manager.id, clock.now())
    assert v2.content_hash != v1_again.content_hash
    assert stored(session, workflow.id).published_version_id == v2.id

    # Nor does restoring, discarding or stopping touch it.
    ok(client.post(f"/api/workflows/{workflow.id}/stop"))
    ok(client.post(f"/api/workflows/{workflow.id}/versions/1/restore"))
    ok(client.post(f"/api/workflows/{workflow.id}/discard-draft"))
    assert [frozen(v) for v in versions_of(session, workflow.id)] == [v1_row, frozen(v2)]


def test_list_and_view_versions(
    owner: TestClient, session: Session, world: World, clock: FakeClock
) -> None:  # WF-GEN-04
    workflow = make_published(session, owner_of(world), "Bienvenida", simple("uno"))
    first_at = clock.now()
    clock.advance(hours=3)
    ok(owner.post(f"/api/workflows/{workflow.id}/stop"))
    ok(owner.post(f"/api/workflows/{workflow.id}/publish", json={"revision": 2, "definition": simple("dos")}))
    v1, v2 = versions_of(session, workflow.id)
    listed = ok(owner.get(f"/api/workflows/{workflow.id}/versions"))
    olga = {"id": world.owner.id, "name": "Olga Owner"}
    assert listed == [
        {
            "number": 2,
            "published_by": olga,
            "published_at": clock.now().isoformat().replace("+00:00", "Z"),
            "content_hash": v2.content_hash,
            "current": True,
        },
        {
            "number": 1,
            "published_by": olga,
            "published_at": first_at.isoformat().replace("+00:00", "Z"),
            "content_hash": v1.content_hash,
            "current": False,
        },
    ]
    one = ok(owner.get(f"/api/workflows/{workflow.id}/versions/1"))
    assert one == {**listed[1], "definition": v1.definition}
    assert text_of(one["definition"]) == "uno"
    assert_error(owner.get(f"/api/workflows/{workflow.id}/versions/3"), 404, "not_found")
    never = make_draft(session, owner_of(world), "Nunca")
    assert ok(owner.get(f"/api/workflows/{never.id}/versions")) == []


def test_restore_copies_a_version_into_the_draft(
    owner: TestClient, session: Session, world: World
) -> None:  # WF-GEN-04, WF-LIFE-02: restore into the draft, not while published
    workflow = make_published(session, owner_of(world), "Bienvenida", simple("uno"))
    ok(owner.post(f"/api/workflows/{workflow.id}/stop"))
    ok(owner.post(f"/api/workflows/{workflow.id}/publish", json={"revision": 2, "definition": simple("dos")}))
    before = snapshot(session, world.workspace.id)
    body = assert_error(
        owner.post(f"/api/workflows/{workflow.id}/versions/1/restore"), 409, "workflow_published"
    )
    assert body["message"] == "Stop this workflow to edit it"
    assert snapshot(session, world.workspace.id) == before

    ok(owner.post(f"/api/workflows/{workflow.id}/stop"))
    restored = ok(owner.post(f"/api/workflows/{workflow.id}/versions/1/restore"))
    assert (restored["state"], restored["revision"], restored["published_version"]) == ("stopped", 4, 2)
    assert text_of(restored["definition"]) == "uno"
    assert restored["has_unpublished_changes"] is True
    v1, _v2 = versions_of(session, workflow.id)
    assert stored(session, workflow.id).draft == v1.definition
    assert len(versions_of(session, workflow.id)) == 2  # restoring publishes nothing
    # An editor still holding revision 3 must reload.
    assert_error(
        owner.put(
            f"/api/workflows/{workflow.id}/definition", json={"revision": 3, "definition": simple("x")}
        ),
        409,
        "stale_revision",
    )
    # Publishing the restored draft makes version 3 with version 1's content.
    third = ok(owner.post(f"/api/workflows/{workflow.id}/publish"))
    assert third["published_version"] == 3
    assert versions_of(session, workflow.id)[2].content_hash == v1.content_hash
    assert_error(owner.post(f"/api/workflows/{workflow.id}/versions/9/restore"), 404, "not_found")


def test_discard_draft_goes_back_to_the_published_version(
    owner: TestClient, session: Session, world: World
) -> None:  # WF-GEN-04
    workflow = make_stopped(session, owner_of(world), "Bienvenida", simple("publicado"))
    ok(
        owner.put(
            f"/api/workflows/{workflow.id}/definition", json={"revision": 2, "definition": simple("borrador")}
        )
    )
    assert ok(owner.get(f"/api/workflows/{workflow.id}"))["has_unpublished_changes"] is True
    discarded = ok(owner.post(f"/api/workflows/{workflow.id}/discard-draft"))
    assert text_of(discarded["definition"]) == "publicado"
    assert (discarded["state"], discarded["revision"], discarded["has_unpublished_changes"]) == (
        "stopped",
        4,
        False,
    )
    [version] = versions_of(session, workflow.id)
    assert stored(session, workflow.id).draft == version.definition


def test_discard_is_refused_without_a_published_version_or_while_published(
    owner: TestClient, session: Session, world: World
) -> None:  # WF-GEN-04, WF-LIFE-02
    draft = make_draft(session, owner_of(world), "Nunca publicado", simple())
    published = make_published(session, owner_of(world), "Publicado")
    before = snapshot(session, world.workspace.id)
    body = assert_error(owner.post(f"/api/workflows/{draft.id}/discard-draft"), 409, "never_published")
    assert "never published" in body["message"]
    assert_error(owner.post(f"/api/workflows/{published.id}/discard-draft"), 409, "workflow_published")
    assert snapshot(session, world.workspace.id) == before


def test_has_unpublished_changes_compares_the_draft_with_the_published_version(
    owner: TestClient, session: Session, world: World
) -> None:  # WF-GEN-04, WF-BLD-01
    workflow = make_draft(session, owner_of(world), "Bienvenida", simple("uno"))
    assert (
        ok(owner.get(f"/api/workflows/{workflow.id}"))["has_unpublished_changes"] is True
    )  # never published
    assert ok(owner.post(f"/api/workflows/{workflow.id}/publish"))["has_unpublished_changes"] is False
    ok(owner.post(f"/api/workflows/{workflow.id}/stop"))
    # Saving the same content is no change; another text is.
    same = ok(
        owner.put(
            f"/api/workflows/{workflow.id}/definition", json={"revision": 2, "definition": simple("uno")}
        )
    )
    assert same["has_unpublished_changes"] is False
    other = ok(
        owner.put(
            f"/api/workflows/{workflow.id}/definition", json={"revision": 3, "definition": simple("dos")}
        )
    )
    assert other["has_unpublished_changes"] is True
    # Renaming or changing settings is not a definition change.
    ok(owner.post(f"/api/workflows/{workflow.id}/discard-draft"))
    renamed = ok(owner.patch(f"/api/workflows/{workflow.id}", json={"name": "Otro nombre"}))
    assert renamed["has_unpublished_changes"] is False


def test_a_restored_version_naming_deleted_objects_shows_errors(
    owner: TestClient, session: Session, world: World
) -> None:  # WF-LIFE-03, CRM-TAG-03: deleted objects are configuration errors
    tag = create_tag(session, principal(world.workspace, world.owner), name="VIP")
    session.commit()
    tagging = document(
        OPENED,
        step(
            "s1",
            "update_tag",
            name="Etiquetar",
            outputs={"next": None},
            action="remove",
            tags=[tag_ref(tag.id, "VIP")],
        ),
    )
    workflow = make_stopped(session, owner_of(world), "Etiquetar", tagging)
    ok(owner.put(f"/api/workflows/{workflow.id}/definition", json={"revision": 2, "definition": simple()}))
    delete_tag(session, principal(world.workspace, world.owner), tag_id=tag.id)
    session.commit()
    restored = ok(owner.post(f"/api/workflows/{workflow.id}/versions/1/restore"))
    assert [(p["stepKey"], p["field"], p["code"]) for p in restored["problems"]] == [
        ("s1", "config.tags[0]", "reference_missing")
    ]
    assert_error(owner.post(f"/api/workflows/{workflow.id}/publish"), 422, "workflow_invalid")
    assert len(versions_of(session, workflow.id)) == 1
