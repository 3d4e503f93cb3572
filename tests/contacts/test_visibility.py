"""Agent contact visibility (CRM-ROLE-03): all, team (with unassigned and own) or only their own."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from convoflow.bootstrap import Container
from convoflow.teams import service as teams
from convoflow.testing.factories import make_contact, make_member, principal
from tests.contacts.helpers import ClientFor, contact_row, ids_of, set_restrictions, set_team
from tests.support import World, assert_error


class Cast:
    """Contacts assigned to: the agent, a teammate, an outsider, nobody."""

    def __init__(self, session: Session, container: Container, world: World) -> None:
        team = teams.create_team(session, principal(world.workspace, world.owner), name="Ventas")
        self.teammate = make_member(session, container.hasher, workspace=world.workspace, first_name="Tina")
        self.outsider = make_member(session, container.hasher, workspace=world.workspace, first_name="Otto")
        session.flush()
        set_team(session, world.workspace, world.agent, team.id)
        set_team(session, world.workspace, self.teammate, team.id)

        def contact(name: str, assignee_id: int | None) -> int:
            row = make_contact(session, workspace_id=world.workspace.id, first_name=name)
            row.assignee_user_id = assignee_id
            session.commit()
            return row.id

        self.own = contact("Own", world.agent.id)
        self.teammates = contact("Teammate's", self.teammate.id)
        self.outsiders = contact("Outsider's", self.outsider.id)
        self.unassigned = contact("Unassigned", None)
        self.managers = contact("Manager's", world.manager.id)

    @property
    def everyone(self) -> list[int]:
        return sorted(
            [self.own, self.teammates, self.outsiders, self.unassigned, self.managers], reverse=True
        )


def _visible(client: TestClient) -> list[int]:
    response = client.get("/api/contacts")
    assert response.status_code == 200, response.text
    return ids_of(response.json())


def test_agent_sees_all_contacts_by_default(
    session: Session, container: Container, world: World, client_for: ClientFor
) -> None:
    # CRM-ROLE-03: visibility "all" is the default
    cast = Cast(session, container, world)
    agent = client_for(world.agent)
    assert _visible(agent) == cast.everyone
    assert agent.get(f"/api/contacts/{cast.outsiders}").status_code == 200


def test_team_visibility_shows_team_unassigned_and_own(
    session: Session, container: Container, world: World, client_for: ClientFor
) -> None:
    # CRM-ROLE-03: show_team_contacts
    cast = Cast(session, container, world)
    set_restrictions(session, world.workspace, world.agent, contact_visibility="team")
    agent = client_for(world.agent)
    assert _visible(agent) == sorted([cast.own, cast.teammates, cast.unassigned], reverse=True)
    for hidden in (cast.outsiders, cast.managers):
        assert_error(agent.get(f"/api/contacts/{hidden}"), 404, "not_found")
        assert_error(agent.patch(f"/api/contacts/{hidden}", json={"first_name": "Seen"}), 404)
        assert_error(agent.patch(f"/api/contacts/{hidden}/tags", json={"add": ["x"]}), 404)
        assert_error(agent.get(f"/api/contacts/{hidden}/activity"), 404)
    assert contact_row(session, cast.outsiders).first_name == "Outsider's"
    assert agent.get(f"/api/contacts/{cast.teammates}").status_code == 200
    query = agent.post("/api/contacts/query", json={"search": "'s"})
    assert ids_of(query.json()) == [cast.teammates]


def test_team_visibility_without_a_team_shows_unassigned_and_own(
    session: Session, container: Container, world: World, client_for: ClientFor
) -> None:
    # CRM-ROLE-03, decision: an Agent without a team sees unassigned and own
    cast = Cast(session, container, world)
    set_team(session, world.workspace, world.agent, None)
    set_restrictions(session, world.workspace, world.agent, contact_visibility="team")
    agent = client_for(world.agent)
    assert _visible(agent) == sorted([cast.own, cast.unassigned], reverse=True)
    assert_error(agent.get(f"/api/contacts/{cast.teammates}"), 404)


def test_mine_visibility_shows_only_own(
    session: Session, container: Container, world: World, client_for: ClientFor
) -> None:
    # CRM-ROLE-03: show_only_mine
    cast = Cast(session, container, world)
    set_restrictions(session, world.workspace, world.agent, contact_visibility="mine")
    agent = client_for(world.agent)
    assert _visible(agent) == [cast.own]
    for hidden in (cast.teammates, cast.unassigned, cast.outsiders):
        assert_error(agent.get(f"/api/contacts/{hidden}"), 404)
    # Releasing the contact hides it from the agent.
    assert agent.put(f"/api/contacts/{cast.own}/assignee", json={"user_id": None}).status_code == 200
    assert _visible(agent) == []
    assert_error(agent.get(f"/api/contacts/{cast.own}"), 404)


def test_agent_restrictions_do_not_limit_managers(
    session: Session, container: Container, world: World, client_for: ClientFor
) -> None:
    # CRM-ROLE-03 flags are Agent flags only
    cast = Cast(session, container, world)
    set_restrictions(session, world.workspace, world.manager, contact_visibility="mine")
    assert _visible(client_for(world.manager)) == cast.everyone
