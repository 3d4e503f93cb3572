"""Inbox views (CRM-CONV-06): All, Mine, Unassigned, a team, Closed; visibility; pagination by activity."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from convoflow.accounts.principal import Restrictions
from convoflow.bootstrap import Container
from convoflow.channels.models import Channel
from convoflow.contacts.assignment import apply_assignee
from convoflow.contacts.models import Contact
from convoflow.conversations import inbox
from convoflow.conversations import service as conversations
from convoflow.conversations.content import TextContent
from convoflow.conversations.messages import create_outgoing
from convoflow.events.actor import Actor
from convoflow.teams import service as teams
from convoflow.testing.clock import FakeClock
from convoflow.testing.factories import make_channel, make_contact, make_member, principal
from tests.conversations.helpers import ClientFactory, inbound, token_client
from tests.support import World, assert_error, login, seed_world


@dataclass
class Inbox:
    world: World
    channel: Channel
    team_id: int
    agent_contact: Contact  # assigned to the Agent (in team Ventas)
    manager_contact: Contact  # assigned to the Manager (no team)
    unassigned: Contact
    closed: Contact  # latest conversation closed
    reopened: Contact  # closed once, open again, unassigned


def _names(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["contact"]["first_name"] for item in response.json()["items"]]


@pytest.fixture
def box(session: Session, container: Container, clock: FakeClock) -> Inbox:
    """Five contacts, by last activity oldest first: reopened, closed, unassigned, manager's, agent's."""
    world = seed_world(session, container.hasher)
    owner = principal(world.workspace, world.owner)
    team = teams.create_team(session, owner, name="Ventas")
    teams.add_member(session, owner, team_id=team.id, user_id=world.agent.id, move=False)
    channel = make_channel(session, workspace_id=world.workspace.id)

    def contact(name: str) -> Contact:
        made = make_contact(session, workspace_id=world.workspace.id, first_name=name)
        conversations.open_conversation(session, contact=made, actor=Actor.user(world.owner.id))
        clock.advance(minutes=1)
        return made

    reopened = contact("Reopened")
    conversations.close_conversation(
        session, contact=reopened, actor=Actor.user(world.owner.id), category_id=None, summary=None
    )
    conversations.open_conversation(session, contact=reopened, actor=Actor.user(world.owner.id))
    closed = contact("Closed")
    conversations.close_conversation(
        session, contact=closed, actor=Actor.user(world.owner.id), category_id=None, summary=None
    )
    unassigned = contact("Unassigned")
    manager_contact = contact("ManagerOwn")
    apply_assignee(session, contact=manager_contact, user_id=world.manager.id, actor=Actor.system())
    agent_contact = contact("AgentOwn")
    apply_assignee(session, contact=agent_contact, user_id=world.agent.id, actor=Actor.system())
    session.commit()
    return Inbox(world, channel, team.id, agent_contact, manager_contact, unassigned, closed, reopened)


def test_all_view_lists_open_conversations_by_latest_activity(client: TestClient, box: Inbox) -> None:
    # CRM-CONV-06
    login(client, box.world.owner)
    assert _names(client.get("/api/conversations")) == ["AgentOwn", "ManagerOwn", "Unassigned", "Reopened"]
    assert _names(client.get("/api/conversations", params={"view": "all"})) == [
        "AgentOwn",
        "ManagerOwn",
        "Unassigned",
        "Reopened",
    ]


def test_new_activity_moves_a_conversation_to_the_top(
    client: TestClient, session: Session, box: Inbox, clock: FakeClock
) -> None:
    # CRM-CONV-06: ordered by last activity, incoming or outgoing.
    clock.advance(minutes=5)
    create_outgoing(
        session,
        contact=box.reopened,
        channel=box.channel,
        content=TextContent(text="ping"),
        actor=Actor.user(box.world.owner.id),
    )
    session.commit()
    login(client, box.world.owner)
    response = client.get("/api/conversations")
    assert _names(response) == ["Reopened", "AgentOwn", "ManagerOwn", "Unassigned"]
    top = response.json()["items"][0]
    assert top["last_message"]["content"] == {"type": "text", "text": "ping"}
    assert top["conversation"]["out_count"] == 1
    assert response.json()["items"][1]["last_message"] is None


def test_mine_view_lists_the_callers_contacts(client: TestClient, box: Inbox) -> None:
    # CRM-CONV-06
    login(client, box.world.agent)
    assert _names(client.get("/api/conversations", params={"view": "mine"})) == ["AgentOwn"]


def test_unassigned_view(client: TestClient, box: Inbox) -> None:
    # CRM-CONV-06
    login(client, box.world.manager)
    assert _names(client.get("/api/conversations", params={"view": "unassigned"})) == [
        "Unassigned",
        "Reopened",
    ]


def test_team_view_lists_contacts_of_the_teams_members(client: TestClient, box: Inbox) -> None:
    # CRM-CONV-06, CRM-TEAM-03
    login(client, box.world.owner)
    assert _names(client.get("/api/conversations", params={"view": "team", "team_id": box.team_id})) == [
        "AgentOwn"
    ]


def test_team_view_needs_a_team_of_this_workspace(
    client: TestClient, session: Session, box: Inbox, container: Container
) -> None:
    # CRM-CONV-06
    other = seed_world(session, container.hasher, name="Other")
    foreign = teams.create_team(session, principal(other.workspace, other.owner), name="Theirs")
    session.commit()
    login(client, box.world.owner)
    body = assert_error(client.get("/api/conversations", params={"view": "team"}), 422, "validation_error")
    assert body["details"][0]["field"] == "team_id"
    assert_error(
        client.get("/api/conversations", params={"view": "team", "team_id": foreign.id}), 404, "not_found"
    )


def test_closed_view_lists_contacts_whose_latest_conversation_is_closed(
    client: TestClient, box: Inbox
) -> None:
    # CRM-CONV-06 (decisions.md): a reopened contact is not "closed".
    login(client, box.world.owner)
    response = client.get("/api/conversations", params={"view": "closed"})
    assert _names(response) == ["Closed"]
    assert response.json()["items"][0]["conversation"]["status"] == "closed"


def test_unknown_view_is_422(client: TestClient, box: Inbox) -> None:
    # CRM-CONV-06: only the five views exist.
    login(client, box.world.owner)
    assert_error(client.get("/api/conversations", params={"view": "starred"}), 422, "validation_error")


def test_agent_visibility_mine_limits_every_view(
    client: TestClient, session: Session, box: Inbox, container: Container
) -> None:
    # CRM-CONV-06 + CRM-ROLE-03: an Agent who sees only their own contacts.
    limited = make_member(
        session,
        container.hasher,
        workspace=box.world.workspace,
        role="agent",
        first_name="Lim",
        restrictions=Restrictions(contact_visibility="mine"),
    )
    apply_assignee(session, contact=box.unassigned, user_id=limited.id, actor=Actor.system())
    session.commit()
    login(client, limited)
    assert _names(client.get("/api/conversations")) == ["Unassigned"]
    assert _names(client.get("/api/conversations", params={"view": "unassigned"})) == []
    assert _names(client.get("/api/conversations", params={"view": "closed"})) == []
    assert _names(client.get("/api/conversations", params={"view": "team", "team_id": box.team_id})) == []


def test_agent_visibility_team_sees_team_unassigned_and_own(
    client: TestClient, session: Session, box: Inbox, container: Container
) -> None:
    # CRM-CONV-06 + CRM-ROLE-03: show_team_contacts hides the Manager's (teamless) contact.
    teammate = make_member(
        session,
        container.hasher,
        workspace=box.world.workspace,
        role="agent",
        first_name="Tea",
        team_id=box.team_id,
        restrictions=Restrictions(contact_visibility="team"),
    )
    session.commit()
    login(client, teammate)
    assert _names(client.get("/api/conversations")) == ["AgentOwn", "Unassigned", "Reopened"]
    assert _names(client.get("/api/conversations", params={"view": "closed"})) == ["Closed"]


def test_mine_view_needs_a_user(make_client: ClientFactory, session: Session, box: Inbox) -> None:
    # CRM-CONV-06: an API token has no "mine".
    api, _token_id = token_client(make_client, session, box.world.workspace, box.world.owner)
    assert _names(api.get("/api/conversations")) == ["AgentOwn", "ManagerOwn", "Unassigned", "Reopened"]
    assert_error(api.get("/api/conversations", params={"view": "mine"}), 403, "user_required")


def test_other_workspaces_conversations_never_show(
    client: TestClient, session: Session, box: Inbox, container: Container
) -> None:
    # CRM-WS-01
    other = seed_world(session, container.hasher, name="Other")
    stranger = make_contact(session, workspace_id=other.workspace.id, first_name="Stranger")
    conversations.open_conversation(session, contact=stranger, actor=Actor.system())
    session.commit()
    login(client, box.world.owner)
    assert "Stranger" not in _names(client.get("/api/conversations"))
    other_client = TestClient(client.app)
    login(other_client, other.owner)
    assert _names(other_client.get("/api/conversations")) == ["Stranger"]


def test_pagination_follows_next_cursor_through_all_items(client: TestClient, box: Inbox) -> None:
    # CRM-CONV-06: cursor pagination by last activity; no item twice, none lost.
    login(client, box.world.owner)
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(5):
        params: dict[str, Any] = {"limit": 2}
        if cursor is not None:
            params["cursor"] = cursor
        page = client.get("/api/conversations", params=params).json()
        seen += [item["contact"]["first_name"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["AgentOwn", "ManagerOwn", "Unassigned", "Reopened"]


def test_next_cursor_works_when_pasted_into_the_url(client: TestClient, box: Inbox) -> None:
    # CRM-CONV-06: cursors are opaque (decisions.md); pasting next_cursor into the URL as is must work.
    login(client, box.world.owner)
    first = client.get("/api/conversations?limit=3").json()
    cursor = first["next_cursor"]
    assert cursor is not None
    second = client.get(f"/api/conversations?limit=3&cursor={cursor}")
    assert _names(second) == ["Reopened"]


def test_pagination_breaks_ties_of_equal_activity_by_id(
    client: TestClient, session: Session, container: Container
) -> None:
    # CRM-CONV-06: conversations with the same last activity are neither repeated nor skipped.
    world = seed_world(session, container.hasher)
    made = []
    for i in range(5):
        contact = make_contact(session, workspace_id=world.workspace.id, first_name=f"Same{i}")
        conversations.open_conversation(session, contact=contact, actor=Actor.system())
        made.append(contact.first_name)
    session.commit()
    login(client, world.owner)
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2} if cursor is None else {"limit": 2, "cursor": cursor}
        page = client.get("/api/conversations", params=params).json()
        seen += [item["contact"]["first_name"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(made))


def test_malformed_cursor_is_400(client: TestClient, box: Inbox) -> None:
    # CRM-CONV-06: a clear 400, never a 500.
    login(client, box.world.owner)
    assert_error(client.get("/api/conversations", params={"cursor": "yesterday"}), 400, "invalid_cursor")
    assert_error(
        client.get("/api/conversations", params={"cursor": "2026-01-01T00:00:00_x"}), 400, "invalid_cursor"
    )


def test_inbox_item_shape(client: TestClient, session: Session, box: Inbox) -> None:
    # CRM-CONV-06: the conversation, the contact and its last message.
    received = inbound(session, box.channel, external_id="fresh", text="¿Hola?")
    session.commit()
    login(client, box.world.owner)
    item = client.get("/api/conversations", params={"limit": 1}).json()["items"][0]
    assert item["contact"] == {
        "id": received.contact.id,
        "first_name": "Unknown",
        "last_name": received.contact.last_name,
        "assignee_user_id": None,
        "blocked": False,
    }
    assert item["conversation"]["opened_source"] == "contact"
    assert item["conversation"]["in_count"] == 1
    assert item["last_message"]["id"] == received.message.id
    assert item["last_message"]["content"] == {"type": "text", "text": "¿Hola?"}


def test_list_inbox_service_scopes_to_the_principal(session: Session, box: Inbox) -> None:
    # CRM-CONV-06 at the service level: the same rules without HTTP.
    agent = principal(box.world.workspace, box.world.agent, role="agent")
    rows = inbox.list_inbox(session, agent, view="mine")
    assert [row.contact.id for row in rows] == [box.agent_contact.id]
    rows = inbox.list_inbox(session, agent, view="all", limit=2)
    assert [row.contact.id for row in rows] == [box.agent_contact.id, box.manager_contact.id]
    last = rows[-1].conversation
    after = inbox.InboxCursor(last.last_message_at, last.id)
    rest = inbox.list_inbox(session, agent, view="all", after=after)
    assert [row.contact.id for row in rest] == [box.unassigned.id, box.reopened.id]
