"""/api routes of conversations, messages, comments and a contact's activity."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from convoflow.accounts.principal import Restrictions
from convoflow.bootstrap import Container
from convoflow.contacts import service as contacts
from convoflow.contacts.assignment import apply_assignee
from convoflow.conversations import closing
from convoflow.conversations import service as conversations
from convoflow.conversations.content import TextContent
from convoflow.conversations.messages import create_outgoing, update_status
from convoflow.events.actor import Actor
from convoflow.testing.clock import FakeClock
from convoflow.testing.factories import make_channel, make_contact, make_member, principal
from tests.conversations.helpers import (
    ClientFactory,
    contact_events,
    conversations_of,
    counts,
    event_types,
    inbound,
    token_client,
)
from tests.support import World, assert_error, login, seed_world


@pytest.fixture
def world(session: Session, container: Container) -> World:
    return seed_world(session, container.hasher)


def _set_closing_notes(client: TestClient, rule: str) -> None:
    response = client.patch("/api/workspace", json={"settings": {"closing_notes": rule}})
    assert response.status_code == 200, response.text
    assert response.json()["settings"]["closing_notes"] == rule


def _close(client: TestClient, contact_id: int, **body: Any) -> Any:
    return client.post(f"/api/contacts/{contact_id}/conversation/close", json=body)


# Opening ---------------------------------------------------------------------------------------------


def test_open_route_opens_once_with_source_user(client: TestClient, session: Session, world: World) -> None:
    # CRM-CONV-01/02: opening an open conversation is a no-op.
    contact = make_contact(session, workspace_id=world.workspace.id)
    session.commit()
    login(client, world.agent)
    first = client.post(f"/api/contacts/{contact.id}/conversation/open")
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["status"] == "open" and body["contact_id"] == contact.id
    assert (body["opened_source"], body["opened_by"]) == ("user", world.agent.id)
    again = client.post(f"/api/contacts/{contact.id}/conversation/open")
    assert again.status_code == 200
    assert again.json()["id"] == body["id"]
    assert [c.status for c in conversations_of(session, contact.id)] == ["open"]
    opened = [e for e in contact_events(session, contact.id) if e.type == "conversation.opened"]
    assert len(opened) == 1
    assert (opened[0].source, opened[0].actor_id, opened[0].run_id) == ("user", world.agent.id, None)
    assert client.get(f"/api/contacts/{contact.id}").json()["status"] == "open"


def test_open_route_with_api_token_has_source_api(
    make_client: ClientFactory, session: Session, world: World
) -> None:
    # CRM-CONV-02, CRM-EVT-02: actor is the token; run_id None.
    contact = make_contact(session, workspace_id=world.workspace.id)
    api, token_id = token_client(make_client, session, world.workspace, world.owner)
    response = api.post(f"/api/contacts/{contact.id}/conversation/open")
    assert response.status_code == 200, response.text
    assert (response.json()["opened_source"], response.json()["opened_by"]) == ("api", None)
    event = contact_events(session, contact.id)[-1]
    assert (event.type, event.source, event.actor_id, event.run_id) == (
        "conversation.opened",
        "api",
        token_id,
        None,
    )
    assert event.payload["source"] == "api"


def test_opening_for_a_blocked_contact_is_409(client: TestClient, session: Session, world: World) -> None:
    # CRM-CONV-02, CRM-CONT-07
    contact = make_contact(session, workspace_id=world.workspace.id)
    contacts.set_blocked(session, contact=contact, blocked=True, actor=Actor.system())
    session.commit()
    before = counts(session)
    login(client, world.owner)
    assert_error(client.post(f"/api/contacts/{contact.id}/conversation/open"), 409, "contact_blocked")
    assert counts(session) == before
    assert conversations_of(session, contact.id) == []


def test_opening_a_foreign_or_invisible_contact_is_404(
    client: TestClient, session: Session, world: World, container: Container
) -> None:
    # CRM-ROLE-03: an Agent who sees only their own contacts cannot open others'.
    other = seed_world(session, container.hasher, name="Other")
    foreign = make_contact(session, workspace_id=other.workspace.id)
    mine_only = make_member(
        session,
        container.hasher,
        workspace=world.workspace,
        role="agent",
        restrictions=Restrictions(contact_visibility="mine"),
    )
    contact = make_contact(session, workspace_id=world.workspace.id)
    session.commit()
    before = counts(session)
    login(client, mine_only)
    assert_error(client.post(f"/api/contacts/{contact.id}/conversation/open"), 404, "not_found")
    assert_error(client.post(f"/api/contacts/{foreign.id}/conversation/open"), 404, "not_found")
    assert_error(_close(client, contact.id), 404, "not_found")
    assert counts(session) == before


# Closing and closing notes (CRM-CONV-04) ---------------------------------------------------------------


def test_close_route_closes_with_category_and_summary(
    client: TestClient, session: Session, world: World, clock: FakeClock
) -> None:
    # CRM-CONV-03/04
    channel = make_channel(session, workspace_id=world.workspace.id)
    contact = inbound(session, channel).contact
    session.commit()
    login(client, world.owner)
    category = client.post("/api/closing-categories", json={"name": "Resolved"}).json()
    clock.advance(minutes=30)
    response = _close(client, contact.id, category_id=category["id"], summary="Fixed")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "closed"
    assert (body["closed_source"], body["closed_by"]) == ("user", world.owner.id)
    assert (body["closing_category_id"], body["summary"]) == (category["id"], "Fixed")
    assert body["in_count"] == 1
    event = contact_events(session, contact.id)[-1]
    assert event.type == "conversation.closed"
    assert event.payload["category"] == {"id": category["id"], "name": "Resolved"}
    assert event.payload["summary"] == "Fixed"
    assert event.occurred_at == clock.now()


def test_closing_with_nothing_open_returns_null_and_emits_nothing(
    client: TestClient, session: Session, world: World
) -> None:
    # CRM-EVT-04
    contact = make_contact(session, workspace_id=world.workspace.id)
    session.commit()
    before = counts(session)
    login(client, world.owner)
    response = _close(client, contact.id)
    assert response.status_code == 200
    assert response.json() is None
    assert counts(session) == before


@pytest.mark.parametrize(
    ("rule", "body", "field"),
    [
        ("category_required", {"summary": "done"}, "category_id"),
        ("category_and_summary_required", {"summary": "done"}, "category_id"),
        ("category_and_summary_required", {"with_category": True}, "summary"),
        ("category_and_summary_required", {"with_category": True, "summary": "  "}, "summary"),
    ],
)
def test_closing_notes_required_is_422_and_keeps_it_open(
    client: TestClient, session: Session, world: World, rule: str, body: dict[str, Any], field: str
) -> None:
    # CRM-CONV-04: set via PATCH /api/workspace; missing fields refuse the close.
    contact = make_contact(session, workspace_id=world.workspace.id)
    conversations.open_conversation(session, contact=contact, actor=Actor.user(world.owner.id))
    session.commit()
    login(client, world.owner)
    _set_closing_notes(client, rule)
    category = client.post("/api/closing-categories", json={"name": "Resolved"}).json()
    if body.pop("with_category", False):
        body["category_id"] = category["id"]
    before = counts(session)
    error = assert_error(_close(client, contact.id, **body), 422, "closing_notes_required")
    assert error["details"][0]["field"] == field
    assert counts(session) == before
    assert [c.status for c in conversations_of(session, contact.id)] == ["open"]
    assert client.get(f"/api/contacts/{contact.id}").json()["status"] == "open"


def test_closing_notes_satisfied_closes(client: TestClient, session: Session, world: World) -> None:
    # CRM-CONV-04
    contact = make_contact(session, workspace_id=world.workspace.id)
    conversations.open_conversation(session, contact=contact, actor=Actor.user(world.owner.id))
    session.commit()
    login(client, world.owner)
    _set_closing_notes(client, "category_and_summary_required")
    category = client.post("/api/closing-categories", json={"name": "Resolved"}).json()
    response = _close(client, contact.id, category_id=category["id"], summary="All good")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "closed"


@pytest.mark.parametrize("rule", ["off", "optional"])
def test_closing_notes_off_or_optional_need_nothing(
    client: TestClient, session: Session, world: World, rule: str
) -> None:
    # CRM-CONV-04
    contact = make_contact(session, workspace_id=world.workspace.id)
    conversations.open_conversation(session, contact=contact, actor=Actor.user(world.owner.id))
    session.commit()
    login(client, world.owner)
    _set_closing_notes(client, rule)
    response = _close(client, contact.id)
    assert response.status_code == 200 and response.json()["status"] == "closed"


def test_unknown_closing_notes_setting_is_422(client: TestClient, session: Session, world: World) -> None:
    # CRM-CONV-04: only the four settings exist.
    login(client, world.owner)
    assert_error(
        client.patch("/api/workspace", json={"settings": {"closing_notes": "always"}}),
        422,
        "validation_error",
    )
    assert client.get("/api/workspace").json()["settings"]["closing_notes"] == "optional"


def test_summary_over_512_is_422_and_unknown_category_404(
    client: TestClient, session: Session, world: World
) -> None:
    # CRM-CONV-04
    contact = make_contact(session, workspace_id=world.workspace.id)
    conversations.open_conversation(session, contact=contact, actor=Actor.user(world.owner.id))
    session.commit()
    before = counts(session)
    login(client, world.owner)
    assert_error(_close(client, contact.id, summary="s" * 513), 422, "validation_error")
    assert_error(_close(client, contact.id, category_id=987654), 404, "not_found")
    assert counts(session) == before
    assert [c.status for c in conversations_of(session, contact.id)] == ["open"]
    ok = _close(client, contact.id, summary="s" * 512)
    assert ok.status_code == 200 and ok.json()["summary"] == "s" * 512


def test_close_by_api_token_has_source_api(
    make_client: ClientFactory, session: Session, world: World
) -> None:
    # CRM-CONV-03, CRM-EVT-02
    contact = make_contact(session, workspace_id=world.workspace.id)
    conversations.open_conversation(session, contact=contact, actor=Actor.user(world.owner.id))
    api, token_id = token_client(make_client, session, world.workspace, world.owner)
    response = _close(api, contact.id)
    assert response.status_code == 200, response.text
    assert (response.json()["closed_source"], response.json()["closed_by"]) == ("api", None)
    event = contact_events(session, contact.id)[-1]
    assert (event.type, event.source, event.actor_id, event.run_id) == (
        "conversation.closed",
        "api",
        token_id,
        None,
    )


def test_closing_by_hand_emits_only_conversation_closed(
    client: TestClient, session: Session, world: World
) -> None:
    # CRM-CONV-07: assignee and everything else stay as they were.
    channel = make_channel(session, workspace_id=world.workspace.id)
    contact = inbound(session, channel).contact
    apply_assignee(session, contact=contact, user_id=world.agent.id, actor=Actor.system())
    session.commit()
    login(client, world.agent)
    before_contact = client.get(f"/api/contacts/{contact.id}").json()
    before = len(contact_events(session, contact.id))
    assert _close(client, contact.id).status_code == 200
    assert event_types(session, contact.id)[before:] == ["conversation.closed"]
    after_contact = client.get(f"/api/contacts/{contact.id}").json()
    assert after_contact == {**before_contact, "status": "closed"}


# Reading: conversations, messages, activity ------------------------------------------------------------


def test_contact_conversations_newest_first(
    client: TestClient, session: Session, world: World, clock: FakeClock
) -> None:
    # CRM-CONV-03: the contact's conversation records.
    channel = make_channel(session, workspace_id=world.workspace.id)
    contact = inbound(session, channel).contact
    conversations.close_conversation(
        session, contact=contact, actor=Actor.user(world.owner.id), category_id=None, summary="first"
    )
    clock.advance(hours=1)
    inbound(session, channel)
    session.commit()
    login(client, world.agent)
    response = client.get(f"/api/contacts/{contact.id}/conversations")
    assert response.status_code == 200
    rows = response.json()
    assert [(r["status"], r["summary"]) for r in rows] == [("open", None), ("closed", "first")]
    assert rows[0]["opened_source"] == "contact" and rows[0]["channel_id"] == channel.id
    assert rows[1]["closed_source"] == "user" and rows[1]["closed_by"] == world.owner.id


def test_contact_messages_newest_first_with_cursor(
    client: TestClient, session: Session, world: World, clock: FakeClock
) -> None:
    # CRM-MSG-01: both directions, with status history.
    channel = make_channel(session, workspace_id=world.workspace.id)
    contact = inbound(session, channel, text="m0", provider_message_id="p0").contact
    for i in (1, 2):
        clock.advance(minutes=1)
        inbound(session, channel, text=f"m{i}")
    clock.advance(minutes=1)
    reply = create_outgoing(
        session,
        contact=contact,
        channel=channel,
        content=TextContent(text="m3"),
        actor=Actor.user(world.agent.id),
    )
    update_status(session, message=reply, status="sent", provider_message_id="out-1")
    session.commit()
    login(client, world.agent)
    page = client.get(f"/api/contacts/{contact.id}/messages", params={"limit": 2}).json()
    assert [m["content"]["text"] for m in page["items"]] == ["m3", "m2"]
    newest = page["items"][0]
    assert newest["traffic"] == "outgoing" and newest["source"] == "user"
    assert newest["user_id"] == world.agent.id
    assert newest["status"] == "sent" and newest["provider_message_id"] == "out-1"
    assert [h["status"] for h in newest["status_history"]] == ["pending", "sent"]
    rest = client.get(
        f"/api/contacts/{contact.id}/messages", params={"limit": 2, "cursor": page["next_cursor"]}
    )
    assert [m["content"]["text"] for m in rest.json()["items"]] == ["m1", "m0"]
    oldest = rest.json()["items"][-1]
    assert (oldest["traffic"], oldest["source"], oldest["status"]) == ("incoming", "contact", None)
    assert oldest["provider_message_id"] == "p0"
    last = client.get(
        f"/api/contacts/{contact.id}/messages", params={"limit": 2, "cursor": rest.json()["next_cursor"]}
    )
    assert last.json() == {"items": [], "next_cursor": None}


def test_bad_cursor_or_limit_is_a_clear_error(client: TestClient, session: Session, world: World) -> None:
    # CRM-MSG-01, CRM-MSG-07, CRM-CONT-04: bad paging input is a clear 4xx.
    contact = make_contact(session, workspace_id=world.workspace.id)
    session.commit()
    login(client, world.owner)
    for path in ("messages", "comments", "activity"):
        assert_error(client.get(f"/api/contacts/{contact.id}/{path}?cursor=abc"), 400, "invalid_cursor")
        assert_error(client.get(f"/api/contacts/{contact.id}/{path}?limit=0"), 422, "validation_error")
        assert_error(client.get(f"/api/contacts/{contact.id}/{path}?limit=101"), 422, "validation_error")


def test_activity_lists_the_contacts_events_newest_first(
    client: TestClient, session: Session, world: World, clock: FakeClock
) -> None:
    # CRM-CONT-04 (activity log), CRM-EVT-01
    channel = make_channel(session, workspace_id=world.workspace.id)
    contact = inbound(session, channel).contact
    other = inbound(session, channel, external_id="someone-else").contact
    clock.advance(minutes=1)
    apply_assignee(session, contact=contact, user_id=world.agent.id, actor=Actor.user(world.owner.id))
    clock.advance(minutes=1)
    conversations.close_conversation(
        session, contact=contact, actor=Actor.user(world.agent.id), category_id=None, summary=None
    )
    session.commit()
    login(client, world.agent)
    expected = list(reversed(contact_events(session, contact.id)))
    response = client.get(f"/api/contacts/{contact.id}/activity")
    assert response.status_code == 200
    items = response.json()["items"]
    assert [i["id"] for i in items] == [e.id for e in expected]
    assert [i["type"] for i in items] == [
        "conversation.closed",
        "contact.assignee.updated",
        "message.received",
        "conversation.opened",
        "contact.created",
    ]
    assert all(i["payload"].get("contact_id", contact.id) == contact.id for i in items)
    assert other.id not in {i["payload"].get("contact_id") for i in items}
    closed = items[0]
    assert (closed["source"], closed["actor_id"], closed["run_id"]) == ("user", world.agent.id, None)
    assert closed["occurred_at"].startswith(clock.now().isoformat()[:19])
    page = client.get(f"/api/contacts/{contact.id}/activity", params={"limit": 2}).json()
    assert [i["type"] for i in page["items"]] == ["conversation.closed", "contact.assignee.updated"]
    rest = client.get(
        f"/api/contacts/{contact.id}/activity", params={"limit": 2, "cursor": page["next_cursor"]}
    )
    assert [i["type"] for i in rest.json()["items"]] == ["message.received", "conversation.opened"]
    tail = client.get(
        f"/api/contacts/{contact.id}/activity", params={"limit": 2, "cursor": rest.json()["next_cursor"]}
    )
    assert [i["type"] for i in tail.json()["items"]] == ["contact.created"]
    assert tail.json()["next_cursor"] is None


def test_reads_of_foreign_or_invisible_contacts_are_404(
    client: TestClient, session: Session, world: World, container: Container
) -> None:
    # CRM-WS-01, CRM-ROLE-03
    other = seed_world(session, container.hasher, name="Other")
    foreign = make_contact(session, workspace_id=other.workspace.id)
    mine_only = make_member(
        session,
        container.hasher,
        workspace=world.workspace,
        role="agent",
        restrictions=Restrictions(contact_visibility="mine"),
    )
    theirs = make_contact(session, workspace_id=world.workspace.id)
    own = make_contact(session, workspace_id=world.workspace.id)
    apply_assignee(session, contact=own, user_id=mine_only.id, actor=Actor.system())
    session.commit()
    login(client, mine_only)
    for contact_id in (foreign.id, theirs.id):
        for path in ("messages", "comments", "activity", "conversations"):
            assert_error(client.get(f"/api/contacts/{contact_id}/{path}"), 404, "not_found")
    for path in ("messages", "comments", "activity", "conversations"):
        assert client.get(f"/api/contacts/{own.id}/{path}").status_code == 200


def test_closing_category_management_needs_owner_or_manager(
    client: TestClient, session: Session, world: World
) -> None:
    # CRM-CONV-04: categories are managed by Owners and Managers.
    login(client, world.agent)
    assert_error(client.post("/api/closing-categories", json={"name": "Nope"}), 403)
    assert client.get("/api/closing-categories").json() == []
    closing.create_category(session, principal(world.workspace, world.owner), name="Sale")
    session.commit()
    assert [c["name"] for c in client.get("/api/closing-categories").json()] == ["Sale"]


BEYOND_BIGINT = 2**63


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/api/contacts/{big}/conversation/open", None),
        ("post", "/api/contacts/{big}/conversation/close", {}),
        ("post", "/api/contacts/{id}/conversation/close", {"category_id": "{big}"}),
        ("get", "/api/contacts/{big}/conversations", None),
        ("get", "/api/contacts/{big}/messages", None),
        ("get", "/api/contacts/{big}/comments", None),
        ("post", "/api/contacts/{big}/comments", {"text": "hi"}),
        ("post", "/api/contacts/{id}/comments", {"text": "hi", "mentions": ["{big}"]}),
        ("get", "/api/conversations?view=team&team_id={big}", None),
        ("patch", "/api/closing-categories/{big}", {"name": "x"}),
        ("delete", "/api/closing-categories/{big}", None),
        ("post", "/api/contacts/0/conversation/open", None),
    ],
)
def test_ids_beyond_64_bits_are_422_not_500(
    client: TestClient, session: Session, world: World, method: str, path: str, body: dict[str, Any] | None
) -> None:
    # CRM-CONV-02/04/06, CRM-MSG-07: bad ids are a clear 4xx on both databases (SQLite cannot bind them).
    contact = make_contact(session, workspace_id=world.workspace.id)
    session.commit()
    before = counts(session)
    login(client, world.owner)
    url = path.format(big=BEYOND_BIGINT, id=contact.id)
    if body is not None:
        body = {
            k: ([BEYOND_BIGINT] if v == ["{big}"] else BEYOND_BIGINT if v == "{big}" else v)
            for k, v in body.items()
        }
    assert_error(client.request(method, url, json=body), 422, "validation_error")
    assert counts(session) == before


@pytest.mark.parametrize(
    "cursor",
    [
        f"1767225600000000_{BEYOND_BIGINT}",
        f"{10**30}_5",
        "-5_5",
        "2026-01-05T09:00:00+00:00_3",
        "5_",
        "_5",
        "١٢_3",
    ],
)
def test_inbox_cursor_out_of_range_is_400(
    client: TestClient, session: Session, world: World, cursor: str
) -> None:
    # CRM-CONV-06: a clear 400, never a 500.
    login(client, world.owner)
    assert_error(client.get("/api/conversations", params={"cursor": cursor}), 400, "invalid_cursor")
