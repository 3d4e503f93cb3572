"""Closing categories (CRM-CONV-04): name 1-128 unique ignoring case, description, Owner/Manager only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from convoflow.accounts.principal import Restrictions
from convoflow.bootstrap import Container
from convoflow.conversations import closing
from convoflow.conversations import service as conversations
from convoflow.conversations.models import ClosingCategory, Conversation
from convoflow.errors import Conflict, NotFound, PermissionDenied
from convoflow.events.actor import Actor
from convoflow.testing.clock import FakeClock
from convoflow.testing.factories import make_contact, make_member, principal
from tests.support import World, assert_error, events_of, login, seed_world

MakeClient = Callable[[], TestClient]


@pytest.fixture
def world(session: Session, container: Container) -> World:
    return seed_world(session, container.hasher)


@pytest.fixture
def owner(client: TestClient, world: World) -> TestClient:
    login(client, world.owner)
    return client


def _categories(session: Session, workspace_id: int) -> list[tuple[str, str, str]]:
    rows = session.execute(
        select(ClosingCategory.name, ClosingCategory.name_norm, ClosingCategory.description)
        .where(ClosingCategory.workspace_id == workspace_id)
        .order_by(ClosingCategory.id)
    ).all()
    session.commit()  # end the read: a write session holds SQLite's write lock until then
    return [(name, norm, description) for name, norm, description in rows]


def _create(client: TestClient, name: str, description: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"name": name}
    if description is not None:
        body["description"] = description
    response = client.post("/api/closing-categories", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


# Service ------------------------------------------------------------------------------------------------


def test_service_creates_and_refuses_a_name_taken_ignoring_case(
    session: Session, world: World, clock: FakeClock
) -> None:
    # CRM-CONV-04
    acting = principal(world.workspace, world.owner)
    category = closing.create_category(session, acting, name="Venta cerrada", description="Won")
    session.commit()
    assert category.created_at == clock.now()
    with pytest.raises(Conflict) as refused:
        closing.create_category(session, acting, name="VENTA CERRADA")
    assert refused.value.error == "category_name_taken"
    session.rollback()
    assert _categories(session, world.workspace.id) == [("Venta cerrada", "venta cerrada", "Won")]
    found = closing.find_category(session, workspace_id=world.workspace.id, name="venta CERRADA")
    assert found is not None and found.id == category.id


def test_service_rename_allows_own_name_and_refuses_another(session: Session, world: World) -> None:
    # CRM-CONV-04
    acting = principal(world.workspace, world.owner)
    won = closing.create_category(session, acting, name="Won")
    closing.create_category(session, acting, name="Lost")
    session.commit()
    closing.update_category(session, acting, category_id=won.id, name="WON", description="Deal")
    session.commit()
    with pytest.raises(Conflict):
        closing.update_category(session, acting, category_id=won.id, name="lost", description=None)
    session.rollback()
    assert _categories(session, world.workspace.id) == [("WON", "won", "Deal"), ("Lost", "lost", "")]


def test_service_keeps_categories_per_workspace(session: Session, container: Container, world: World) -> None:
    # CRM-WS-01
    other = seed_world(session, container.hasher, name="Other")
    theirs = closing.create_category(session, principal(other.workspace, other.owner), name="Spam")
    closing.create_category(session, principal(world.workspace, world.owner), name="spam")
    session.commit()
    mine = principal(world.workspace, world.owner)
    with pytest.raises(NotFound):
        closing.update_category(session, mine, category_id=theirs.id, name="Mine", description=None)
    with pytest.raises(NotFound):
        closing.delete_category(session, mine, category_id=theirs.id)
    session.rollback()
    assert [n for n, _, _ in _categories(session, other.workspace.id)] == ["Spam"]
    assert [c.name for c in closing.list_categories(session, workspace_id=world.workspace.id)] == ["spam"]


@pytest.mark.parametrize("role", ["agent", "restricted_manager"])
def test_service_refuses_agents_and_restricted_managers(session: Session, world: World, role: str) -> None:
    # CRM-CONV-04: categories are managed by Owner/Manager; CRM-ROLE-02 restrict_space_setting.
    won = closing.create_category(session, principal(world.workspace, world.owner), name="Won")
    session.commit()
    if role == "agent":
        caller, error = principal(world.workspace, world.agent, role="agent"), "role_required"
    else:
        restricted = Restrictions(restrict_space_setting=True)
        caller = principal(world.workspace, world.manager, role="manager", restrictions=restricted)
        error = "restricted"
    attempts: list[Callable[[], object]] = [
        lambda: closing.create_category(session, caller, name="Lost"),
        lambda: closing.update_category(session, caller, category_id=won.id, name="Lost", description=None),
        lambda: closing.delete_category(session, caller, category_id=won.id),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionDenied) as refused:
            attempt()
        assert refused.value.error == error
    session.rollback()
    assert _categories(session, world.workspace.id) == [("Won", "won", "")]


def test_deleting_a_used_category_keeps_the_closed_conversation(session: Session, world: World) -> None:
    # CRM-CONV-03/04: the conversation record stays; its category becomes empty.
    acting = principal(world.workspace, world.owner)
    won = closing.create_category(session, acting, name="Won")
    contact = make_contact(session, workspace_id=world.workspace.id)
    conversations.open_conversation(session, contact=contact, actor=Actor.user(world.owner.id))
    closed = conversations.close_conversation(
        session, contact=contact, actor=Actor.user(world.owner.id), category_id=won.id, summary="Paid"
    )
    session.commit()
    assert closed is not None and closed.closing_category_id == won.id
    events_before = [(e.id, e.type) for e in events_of(session, workspace_id=world.workspace.id)]
    closing.delete_category(session, acting, category_id=won.id)
    session.commit()
    session.expire_all()
    row = session.get(Conversation, closed.id)
    assert row is not None
    assert (row.status, row.closing_category_id, row.summary) == ("closed", None, "Paid")
    assert _categories(session, world.workspace.id) == []
    # The closing event keeps the category it was closed with; deleting emits nothing.
    events_after = events_of(session, workspace_id=world.workspace.id)
    assert [(e.id, e.type) for e in events_after] == events_before
    assert events_after[-1].payload["category"] == {"id": won.id, "name": "Won"}


# API ----------------------------------------------------------------------------------------------------


def test_create_list_update_delete_through_the_api(owner: TestClient, session: Session, world: World) -> None:
    # CRM-CONV-04
    won = _create(owner, "  Venta cerrada 🎉 ", "Won deals")
    assert won == {"id": won["id"], "name": "Venta cerrada 🎉", "description": "Won deals"}
    lost = _create(owner, "Abandono")
    assert owner.get("/api/closing-categories").json() == [
        {"id": lost["id"], "name": "Abandono", "description": ""},
        won,
    ]
    updated = owner.patch(f"/api/closing-categories/{won['id']}", json={"description": "Cerrada"})
    assert updated.status_code == 200, updated.text
    assert updated.json() == {**won, "description": "Cerrada"}
    assert owner.delete(f"/api/closing-categories/{lost['id']}").status_code == 204
    assert _categories(session, world.workspace.id) == [("Venta cerrada 🎉", "venta cerrada 🎉", "Cerrada")]
    assert_error(owner.delete(f"/api/closing-categories/{lost['id']}"), 404, "not_found")


def test_names_up_to_128_characters_and_descriptions_up_to_255_are_accepted(
    owner: TestClient, session: Session, world: World
) -> None:
    # CRM-CONV-04
    _create(owner, "n" * 128, "d" * 255)
    assert _categories(session, world.workspace.id) == [("n" * 128, "n" * 128, "d" * 255)]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "  "}, "name"),
        ({"name": "n" * 129}, "name"),
        ({"name": "n" * 10_000}, "name"),
        ({"name": "Won", "description": "d" * 256}, "description"),
        ({"name": "Won", "colour": "red"}, "colour"),
        ({}, "name"),
    ],
)
def test_invalid_category_is_422_and_nothing_is_stored(
    owner: TestClient, session: Session, world: World, body: dict[str, Any], field: str
) -> None:
    # CRM-CONV-04: name 1-128 characters, description at most 255.
    error = assert_error(owner.post("/api/closing-categories", json=body), 422, "validation_error")
    assert [d["field"] for d in error["details"]] == [field]
    assert _categories(session, world.workspace.id) == []


def test_duplicate_names_are_409_on_create_and_rename(
    owner: TestClient, session: Session, world: World
) -> None:
    # CRM-CONV-04: unique ignoring case.
    won = _create(owner, "Ganada")
    _create(owner, "Perdida")
    assert_error(owner.post("/api/closing-categories", json={"name": "GANADA"}), 409, "category_name_taken")
    rename = owner.patch(f"/api/closing-categories/{won['id']}", json={"name": "perdida"})
    assert_error(rename, 409, "category_name_taken")
    too_long = owner.patch(f"/api/closing-categories/{won['id']}", json={"name": "n" * 129})
    assert_error(too_long, 422, "validation_error")
    assert _categories(session, world.workspace.id) == [("Ganada", "ganada", ""), ("Perdida", "perdida", "")]


@pytest.mark.parametrize("role", ["agent", "restricted_manager"])
def test_agents_and_restricted_managers_get_403_but_may_list(
    owner: TestClient,
    make_client: MakeClient,
    session: Session,
    container: Container,
    world: World,
    role: str,
) -> None:
    # CRM-CONV-04 (Owner/Manager only), CRM-ROLE-02; everyone needs the list to close conversations.
    won = _create(owner, "Won")
    if role == "agent":
        user, error = world.agent, "role_required"
    else:
        user = make_member(
            session,
            container.hasher,
            workspace=world.workspace,
            role="manager",
            restrictions=Restrictions(restrict_space_setting=True),
        )
        session.commit()
        error = "restricted"
    caller = make_client()
    login(caller, user)
    assert_error(caller.post("/api/closing-categories", json={"name": "Lost"}), 403, error)
    assert_error(caller.patch(f"/api/closing-categories/{won['id']}", json={"name": "Lost"}), 403, error)
    assert_error(caller.delete(f"/api/closing-categories/{won['id']}"), 403, error)
    assert caller.get("/api/closing-categories").json() == [won]
    assert _categories(session, world.workspace.id) == [("Won", "won", "")]


def test_manager_manages_categories(make_client: MakeClient, session: Session, world: World) -> None:
    # CRM-CONV-04
    manager = make_client()
    login(manager, world.manager)
    created = _create(manager, "Won")
    assert (
        manager.patch(f"/api/closing-categories/{created['id']}", json={"name": "Won deal"}).status_code
        == 200
    )
    assert _categories(session, world.workspace.id) == [("Won deal", "won deal", "")]


def test_categories_of_another_workspace_are_invisible(
    owner: TestClient, session: Session, container: Container, world: World
) -> None:
    # CRM-WS-01
    other = seed_world(session, container.hasher, name="Other")
    theirs = closing.create_category(session, principal(other.workspace, other.owner), name="Spam")
    session.commit()
    assert owner.get("/api/closing-categories").json() == []
    assert_error(owner.patch(f"/api/closing-categories/{theirs.id}", json={"name": "Mine"}), 404, "not_found")
    assert_error(owner.delete(f"/api/closing-categories/{theirs.id}"), 404, "not_found")
    # The same name is free in this workspace.
    _create(owner, "spam")
    assert [n for n, _, _ in _categories(session, other.workspace.id)] == ["Spam"]


def test_category_ids_beyond_bigint_are_422(owner: TestClient, session: Session, world: World) -> None:
    # SQLite cannot bind an integer beyond 2**63-1 (OverflowError): the id type refuses it first.
    won = _create(owner, "Won")
    big = 2**70
    body = assert_error(owner.patch(f"/api/closing-categories/{big}", json={"name": "x"}), 422)
    assert [d["field"] for d in body["details"]] == ["path.category_id"]
    assert_error(owner.delete(f"/api/closing-categories/{big}"), 422, "validation_error")
    assert _categories(session, world.workspace.id) == [("Won", "won", "")]
    assert owner.get("/api/closing-categories").json() == [won]
