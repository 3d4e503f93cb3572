"""Comments: internal notes on a contact with mentions of active members (CRM-MSG-07)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from convoflow.accounts import users
from convoflow.bootstrap import Container
from convoflow.conversations.comments import add_comment
from convoflow.conversations.models import Comment
from convoflow.errors import InvalidInput
from convoflow.events.actor import Actor
from convoflow.testing.clock import FakeClock
from convoflow.testing.factories import make_contact, make_member, principal
from tests.conversations.helpers import ClientFactory, contact_events, counts, fresh, token_client
from tests.support import World, assert_error, login, seed_world


@pytest.fixture
def world(session: Session, container: Container) -> World:
    return seed_world(session, container.hasher)


def _comments(session: Session, contact_id: int) -> list[Comment]:
    return fresh(session, select(Comment).where(Comment.contact_id == contact_id).order_by(Comment.id))


# Service ---------------------------------------------------------------------------------------------


def test_comment_is_stored_and_emits_comment_created(
    session: Session, world: World, clock: FakeClock
) -> None:
    # CRM-MSG-07, CRM-EVT-01/02
    contact = make_contact(session, workspace_id=world.workspace.id)
    comment = add_comment(
        session,
        contact=contact,
        text="  Call her back, @Aida  ",
        mentions=[world.agent.id, world.manager.id, world.agent.id],
        actor=Actor.user(world.owner.id),
    )
    session.commit()
    [row] = _comments(session, contact.id)
    assert row.id == comment.id
    assert row.text == "Call her back, @Aida"
    assert row.mentions == [world.agent.id, world.manager.id]
    assert (row.source, row.user_id, row.run_id) == ("user", world.owner.id, None)
    assert row.created_at == clock.now()
    event = contact_events(session, contact.id)[-1]
    assert event.type == "comment.created"
    assert event.payload == {
        "comment": {
            "id": comment.id,
            "contact_id": contact.id,
            "text": "Call her back, @Aida",
            "mentions": [world.agent.id, world.manager.id],
        }
    }
    assert (event.source, event.actor_id, event.run_id) == ("user", world.owner.id, None)


def test_workflow_comment_records_the_run(session: Session, world: World) -> None:
    # CRM-MSG-07, CRM-EVT-02: a run's comment carries its run id.
    contact = make_contact(session, workspace_id=world.workspace.id)
    add_comment(session, contact=contact, text="Entered flow", mentions=[], actor=Actor.workflow(12))
    session.commit()
    [row] = _comments(session, contact.id)
    assert (row.source, row.user_id, row.run_id) == ("workflow", None, 12)
    event = contact_events(session, contact.id)[-1]
    assert (event.type, event.source, event.actor_id, event.run_id) == ("comment.created", "workflow", 12, 12)


@pytest.mark.parametrize("text", ["", "   ", "x" * 1001])
def test_comment_text_must_have_1_to_1000_characters(session: Session, world: World, text: str) -> None:
    # CRM-MSG-07
    contact = make_contact(session, workspace_id=world.workspace.id)
    with pytest.raises(InvalidInput) as refused:
        add_comment(session, contact=contact, text=text, mentions=[], actor=Actor.user(world.owner.id))
    assert refused.value.details[0]["field"] == "text"
    assert _comments(session, contact.id) == []
    assert [e.type for e in contact_events(session, contact.id)] == ["contact.created"]


def test_comment_of_exactly_1000_characters_is_accepted(session: Session, world: World) -> None:
    # CRM-MSG-07
    contact = make_contact(session, workspace_id=world.workspace.id)
    add_comment(session, contact=contact, text="x" * 1000, mentions=[], actor=Actor.user(world.owner.id))
    assert [len(c.text) for c in _comments(session, contact.id)] == [1000]


def test_mentions_must_be_active_members_of_the_workspace(
    session: Session, world: World, container: Container
) -> None:
    # CRM-MSG-07: deactivated members, other workspaces' users and unknown ids are refused.
    other = seed_world(session, container.hasher, name="Other")
    leaver = make_member(session, container.hasher, workspace=world.workspace, role="agent", first_name="Leo")
    users.deactivate_member(session, principal(world.workspace, world.owner), user_id=leaver.id)
    contact = make_contact(session, workspace_id=world.workspace.id)
    session.commit()
    for mentions in ([leaver.id], [other.agent.id], [world.agent.id, 999_999]):
        with pytest.raises(InvalidInput) as refused:
            add_comment(
                session, contact=contact, text="hi", mentions=mentions, actor=Actor.user(world.owner.id)
            )
        assert refused.value.details[0]["field"] == "mentions"
    assert _comments(session, contact.id) == []
    assert "comment.created" not in [e.type for e in contact_events(session, contact.id)]


# API -------------------------------------------------------------------------------------------------


def test_post_comment_returns_201_and_lists_newest_first(
    client: TestClient, session: Session, world: World
) -> None:
    # CRM-MSG-07
    contact = make_contact(session, workspace_id=world.workspace.id)
    session.commit()
    login(client, world.agent)
    first = client.post(f"/api/contacts/{contact.id}/comments", json={"text": "first"})
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["text"] == "first" and body["mentions"] == []
    assert (body["source"], body["user_id"], body["run_id"]) == ("user", world.agent.id, None)
    second = client.post(
        f"/api/contacts/{contact.id}/comments", json={"text": "second", "mentions": [world.owner.id]}
    )
    assert second.status_code == 201
    assert second.json()["mentions"] == [world.owner.id]
    listed = client.get(f"/api/contacts/{contact.id}/comments")
    assert listed.status_code == 200
    assert [c["text"] for c in listed.json()["items"]] == ["second", "first"]
    assert listed.json()["next_cursor"] is None
    events = [e for e in contact_events(session, contact.id) if e.type == "comment.created"]
    assert [(e.source, e.actor_id, e.payload["comment"]["mentions"]) for e in events] == [
        ("user", world.agent.id, []),
        ("user", world.agent.id, [world.owner.id]),
    ]


def test_comments_are_paginated_by_cursor(client: TestClient, session: Session, world: World) -> None:
    # CRM-MSG-07, CRM-CONT-04: the contact page lists comments newest first, page by page.
    contact = make_contact(session, workspace_id=world.workspace.id)
    for i in range(5):
        add_comment(session, contact=contact, text=f"c{i}", mentions=[], actor=Actor.user(world.owner.id))
    session.commit()
    login(client, world.owner)
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2} if cursor is None else {"limit": 2, "cursor": cursor}
        page = client.get(f"/api/contacts/{contact.id}/comments", params=params).json()
        seen += [c["text"] for c in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["c4", "c3", "c2", "c1", "c0"]
    assert pages == 3


def test_comment_from_an_api_token_has_source_api(
    make_client: ClientFactory, session: Session, world: World
) -> None:
    # CRM-MSG-07, CRM-EVT-02: actor is the token id.
    contact = make_contact(session, workspace_id=world.workspace.id)
    api, token_id = token_client(make_client, session, world.workspace, world.owner)
    response = api.post(f"/api/contacts/{contact.id}/comments", json={"text": "from CRM sync"})
    assert response.status_code == 201, response.text
    assert (response.json()["source"], response.json()["user_id"]) == ("api", None)
    event = contact_events(session, contact.id)[-1]
    assert (event.type, event.source, event.actor_id, event.run_id) == (
        "comment.created",
        "api",
        token_id,
        None,
    )


@pytest.mark.parametrize(
    "body",
    [
        {"text": ""},
        {"text": "   "},
        {"text": "x" * 1001},
        {},
        {"text": "hi", "extra": 1},
        {"text": "hi", "mentions": ["abc"]},
    ],
)
def test_invalid_comment_body_is_422_and_stores_nothing(
    client: TestClient, session: Session, world: World, body: dict[str, Any]
) -> None:
    # CRM-MSG-07
    contact = make_contact(session, workspace_id=world.workspace.id)
    session.commit()
    before = counts(session)
    login(client, world.owner)
    assert_error(client.post(f"/api/contacts/{contact.id}/comments", json=body), 422, "validation_error")
    assert counts(session) == before


def test_mentioning_an_inactive_or_foreign_user_is_422(
    client: TestClient, session: Session, world: World, container: Container
) -> None:
    # CRM-MSG-07
    other = seed_world(session, container.hasher, name="Other")
    contact = make_contact(session, workspace_id=world.workspace.id)
    session.commit()
    before = counts(session)
    login(client, world.owner)
    response = client.post(
        f"/api/contacts/{contact.id}/comments", json={"text": "hi", "mentions": [other.owner.id]}
    )
    body = assert_error(response, 422, "validation_error")
    assert body["details"][0]["field"] == "mentions"
    assert counts(session) == before


def test_comment_on_an_invisible_or_foreign_contact_is_404(
    client: TestClient, session: Session, world: World, container: Container
) -> None:
    # CRM-WS-01, CRM-MSG-07
    other = seed_world(session, container.hasher, name="Other")
    foreign = make_contact(session, workspace_id=other.workspace.id)
    session.commit()
    before = counts(session)
    login(client, world.owner)
    assert_error(client.post(f"/api/contacts/{foreign.id}/comments", json={"text": "hi"}), 404, "not_found")
    assert_error(client.get(f"/api/contacts/{foreign.id}/comments"), 404, "not_found")
    assert counts(session) == before
