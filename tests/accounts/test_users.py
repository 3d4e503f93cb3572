"""Members of a workspace: roles, restrictions, last Owner, deactivation, availability.

CRM-ROLE-01, CRM-ROLE-02, CRM-ROLE-04, CRM-USER-02, CRM-USER-03.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from convoflow.accounts import users
from convoflow.accounts.models import Membership
from convoflow.accounts.principal import Restrictions
from convoflow.bootstrap import Container
from convoflow.contacts import assignment
from convoflow.contacts.models import Contact
from convoflow.errors import Conflict
from convoflow.events.actor import Actor
from convoflow.testing.clock import FakeClock
from convoflow.testing.factories import make_contact, make_member, principal
from tests.accounts.helpers import (
    all_invitations,
    all_logins,
    all_members,
    all_tokens,
    events,
    fetch,
    membership_of,
    rows,
    workspace_row,
)
from tests.support import World, assert_error, login, seed_world


def _restricted_manager(session: Session, container: Container, world: World, **flags: bool) -> Any:
    return make_member(
        session,
        container.hasher,
        workspace=world.workspace,
        role="manager",
        first_name="Rita",
        restrictions=Restrictions(**flags),
    )


# --- CRM-ROLE-01: Agents are refused Manager-only endpoints --------------------------------------


MANAGER_ONLY: list[tuple[str, str, dict[str, Any] | None]] = [
    ("PATCH", "/api/workspace", {"name": "Hijacked"}),
    ("POST", "/api/invitations", {"email": "friend@example.com"}),
    ("POST", "/api/api-tokens", {"name": "Mine"}),
    ("GET", "/api/invitations", None),
    ("GET", "/api/api-tokens", None),
    ("PATCH", "/api/users/{manager}", {"role": "agent"}),
    ("POST", "/api/users/{manager}/deactivate", None),
    ("DELETE", "/api/users/{manager}", None),
    ("DELETE", "/api/workspace", None),
]


def test_agent_is_refused_manager_endpoints_and_nothing_is_stored(
    client: TestClient, session: Session, container: Container
) -> None:
    # CRM-ROLE-01
    world = seed_world(session, container.hasher)
    before = workspace_row(session, world.workspace.id)
    login(client, world.agent)
    for method, path, body in MANAGER_ONLY:
        response = client.request(method, path.format(manager=world.manager.id), json=body)
        assert_error(response, 403, "role_required")
    assert workspace_row(session, world.workspace.id) == before
    assert all_invitations(session) == []
    assert all_tokens(session) == []
    assert [(m.user_id, m.role, m.deactivated_at) for m in all_members(session, world.workspace.id)] == [
        (world.owner.id, "owner", None),
        (world.manager.id, "manager", None),
        (world.agent.id, "agent", None),
    ]


def test_agent_may_list_and_read_colleagues(
    client: TestClient, session: Session, container: Container
) -> None:
    # CRM-ROLE-01 / CRM-USER-02: colleagues (and their availability) are visible to everyone.
    world = seed_world(session, container.hasher)
    login(client, world.agent)
    listed = client.get("/api/users")
    assert listed.status_code == 200
    assert [(u["id"], u["role"]) for u in listed.json()] == [
        (world.owner.id, "owner"),
        (world.manager.id, "manager"),
        (world.agent.id, "agent"),
    ]
    one = client.get(f"/api/users/{world.owner.id}").json()
    assert one["email"] == world.owner.email and one["deactivated"] is False
    assert_error(client.get("/api/users/999999"), 404, "not_found")


# --- CRM-ROLE-02: Manager restriction flags -------------------------------------------------------


SPACE_SETTINGS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("PATCH", "/api/workspace", {"name": "Hijacked"}),
    ("POST", "/api/invitations", {"email": "friend@example.com"}),
    ("GET", "/api/invitations", None),
    ("PATCH", "/api/users/{agent}", {"role": "manager"}),
    ("POST", "/api/users/{agent}/deactivate", None),
    ("POST", "/api/users/{agent}/activate", None),
    ("DELETE", "/api/users/{agent}", None),
]


def test_manager_restricted_from_space_settings_is_refused(
    client: TestClient, session: Session, container: Container
) -> None:
    # CRM-ROLE-02: restrict_space_setting
    world = seed_world(session, container.hasher)
    rita = _restricted_manager(session, container, world, restrict_space_setting=True)
    session.commit()
    before = workspace_row(session, world.workspace.id)
    login(client, rita)
    for method, path, body in SPACE_SETTINGS:
        assert_error(client.request(method, path.format(agent=world.agent.id), json=body), 403, "restricted")
    assert workspace_row(session, world.workspace.id) == before
    assert all_invitations(session) == []
    agent = membership_of(session, world.workspace.id, world.agent.id)
    assert agent is not None and agent.role == "agent" and agent.deactivated_at is None
    # Integrations stay open to her: the flag is about settings only.
    assert client.post("/api/api-tokens", json={"name": "Rita's"}).status_code == 201


def test_manager_restricted_from_integrations_is_refused_tokens(
    client: TestClient, session: Session, container: Container
) -> None:
    # CRM-ROLE-02: restrict_space_integration (CRM-TOKEN-01: unrestricted Managers only)
    world = seed_world(session, container.hasher)
    rita = _restricted_manager(session, container, world, restrict_space_integration=True)
    session.commit()
    login(client, rita)
    assert_error(client.post("/api/api-tokens", json={"name": "Mine"}), 403, "restricted")
    assert_error(client.get("/api/api-tokens"), 403, "restricted")
    assert all_tokens(session) == []
    # Settings stay open to her.
    assert client.patch("/api/workspace", json={"name": "Renamed"}).status_code == 200
    assert workspace_row(session, world.workspace.id)["name"] == "Renamed"


def test_manager_restricted_from_integrations_cannot_revoke_tokens(
    client: TestClient, make_client: Any, session: Session, container: Container
) -> None:
    # CRM-ROLE-02
    world = seed_world(session, container.hasher)
    rita = _restricted_manager(session, container, world, restrict_space_integration=True)
    session.commit()
    owner = make_client()
    login(owner, world.owner)
    token_id = owner.post("/api/api-tokens", json={"name": "Zapier"}).json()["token"]["id"]
    login(client, rita)
    assert_error(client.delete(f"/api/api-tokens/{token_id}"), 403, "restricted")
    assert [t.revoked_at for t in all_tokens(session)] == [None]


def test_unrestricted_manager_may_change_settings_invite_and_create_tokens(
    client: TestClient, session: Session, container: Container
) -> None:
    # CRM-ROLE-02: without flags a Manager has these rights.
    world = seed_world(session, container.hasher)
    login(client, world.manager)
    assert client.patch("/api/workspace", json={"name": "Managed"}).status_code == 200
    assert client.post("/api/invitations", json={"email": "friend@example.com"}).status_code == 201
    assert client.post("/api/api-tokens", json={"name": "Mine"}).status_code == 201
    assert workspace_row(session, world.workspace.id)["name"] == "Managed"
    assert [i.email for i in all_invitations(session)] == ["friend@example.com"]
    assert [t.name for t in all_tokens(session)] == ["Mine"]


def test_owner_sets_restriction_flags(client: TestClient, session: Session, container: Container) -> None:
    # CRM-ROLE-02 / CRM-ROLE-03: flags are stored on the membership and shown.
    world = seed_world(session, container.hasher)
    login(client, world.owner)
    response = client.patch(
        f"/api/users/{world.manager.id}",
        json={"restrictions": {"restrict_space_setting": True, "restrict_data_export": True}},
    )
    assert response.status_code == 200, response.text
    assert response.json()["restrictions"]["restrict_space_setting"] is True
    stored = membership_of(session, world.workspace.id, world.manager.id)
    assert stored is not None
    assert stored.restrictions["restrict_space_setting"] is True
    assert stored.restrictions["restrict_data_export"] is True
    assert stored.restrictions["restrict_contact_deletion"] is False
    # An unknown flag or a bad value is refused and changes nothing.
    for bad in (
        {"restrictions": {"restrict_everything": True}},
        {"restrictions": {"contact_visibility": "x"}},
    ):
        assert_error(client.patch(f"/api/users/{world.manager.id}", json=bad), 422, "validation_error")
    again = membership_of(session, world.workspace.id, world.manager.id)
    assert again is not None and again.restrictions == stored.restrictions


def test_restricted_manager_takes_effect_on_an_open_session(
    client: TestClient, make_client: Any, session: Session, container: Container
) -> None:
    # CRM-ROLE-02: the flag applies at once, without signing in again.
    world = seed_world(session, container.hasher)
    login(client, world.manager)
    owner = make_client()
    login(owner, world.owner)
    owner.patch(f"/api/users/{world.manager.id}", json={"restrictions": {"restrict_space_setting": True}})
    assert_error(client.patch("/api/workspace", json={"name": "Nope"}), 403, "restricted")
    assert workspace_row(session, world.workspace.id)["name"] == "Acme"


# --- CRM-ROLE-04: the last Owner ------------------------------------------------------------------


def test_last_owner_cannot_be_demoted_deactivated_or_removed(
    client: TestClient, session: Session, container: Container
) -> None:
    # CRM-ROLE-04
    world = seed_world(session, container.hasher)
    login(client, world.owner)
    owner = world.owner.id
    assert_error(client.patch(f"/api/users/{owner}", json={"role": "manager"}), 409, "last_owner")
    assert_error(client.patch(f"/api/users/{owner}", json={"role": "agent"}), 409, "last_owner")
    assert_error(client.post(f"/api/users/{owner}/deactivate"), 409, "last_owner")
    assert_error(client.delete(f"/api/users/{owner}"), 409, "last_owner")
    stored = membership_of(session, world.workspace.id, owner)
    assert stored is not None and stored.role == "owner" and stored.deactivated_at is None
    assert client.get("/api/me").json()["membership"]["role"] == "owner"


def test_with_two_owners_one_can_be_demoted_then_the_other_is_protected(
    client: TestClient, session: Session, container: Container
) -> None:
    # CRM-ROLE-04
    world = seed_world(session, container.hasher)
    second = make_member(
        session, container.hasher, workspace=world.workspace, role="owner", first_name="Otto"
    )
    session.commit()
    login(client, world.owner)
    demoted = client.patch(f"/api/users/{second.id}", json={"role": "manager"})
    assert demoted.status_code == 200 and demoted.json()["role"] == "manager"
    assert_error(client.patch(f"/api/users/{world.owner.id}", json={"role": "manager"}), 409, "last_owner")
    # Promote back, then the first Owner may step down themselves.
    assert client.patch(f"/api/users/{second.id}", json={"role": "owner"}).json()["role"] == "owner"
    stepped = client.patch(f"/api/users/{world.owner.id}", json={"role": "manager"})
    assert stepped.status_code == 200
    assert membership_of(session, world.workspace.id, world.owner.id).role == "manager"  # type: ignore[union-attr]
    assert membership_of(session, world.workspace.id, second.id).role == "owner"  # type: ignore[union-attr]


def test_with_two_owners_one_can_be_deactivated_and_removed(
    client: TestClient, session: Session, container: Container
) -> None:
    # CRM-ROLE-04
    world = seed_world(session, container.hasher)
    second = make_member(
        session, container.hasher, workspace=world.workspace, role="owner", first_name="Otto"
    )
    session.commit()
    login(client, world.owner)
    assert client.post(f"/api/users/{second.id}/deactivate").status_code == 200
    # The deactivated Owner does not count: the remaining active Owner is the last one.
    assert_error(client.post(f"/api/users/{world.owner.id}/deactivate"), 409, "last_owner")
    assert client.delete(f"/api/users/{second.id}").status_code == 204
    assert membership_of(session, world.workspace.id, second.id) is None
    assert_error(client.delete(f"/api/users/{world.owner.id}"), 409, "last_owner")
    owner = membership_of(session, world.workspace.id, world.owner.id)
    assert owner is not None and owner.deactivated_at is None


def test_managers_cannot_change_owners(client: TestClient, session: Session, container: Container) -> None:
    # CRM-ROLE-04 / CRM-ROLE-01: Managers cannot change, deactivate or remove an Owner.
    world = seed_world(session, container.hasher)
    make_member(session, container.hasher, workspace=world.workspace, role="owner", first_name="Otto")
    session.commit()
    login(client, world.manager)
    owner = world.owner.id
    assert_error(client.patch(f"/api/users/{owner}", json={"role": "agent"}), 403, "role_required")
    assert_error(
        client.patch(f"/api/users/{owner}", json={"restrictions": {"restrict_space_setting": True}}),
        403,
        "role_required",
    )
    assert_error(client.post(f"/api/users/{owner}/deactivate"), 403, "role_required")
    assert_error(client.delete(f"/api/users/{owner}"), 403, "role_required")
    stored = membership_of(session, world.workspace.id, owner)
    assert stored is not None and stored.role == "owner" and stored.deactivated_at is None
    assert stored.restrictions["restrict_space_setting"] is False


def test_only_owners_grant_the_owner_role(client: TestClient, session: Session, container: Container) -> None:
    # CRM-ROLE-04 / CRM-ROLE-01
    world = seed_world(session, container.hasher)
    login(client, world.manager)
    assert_error(client.patch(f"/api/users/{world.agent.id}", json={"role": "owner"}), 403, "role_required")
    assert_error(client.patch(f"/api/users/{world.manager.id}", json={"role": "owner"}), 403, "role_required")
    assert membership_of(session, world.workspace.id, world.agent.id).role == "agent"  # type: ignore[union-attr]
    assert membership_of(session, world.workspace.id, world.manager.id).role == "manager"  # type: ignore[union-attr]
    # A Manager may still move people between Agent and Manager.
    promoted = client.patch(f"/api/users/{world.agent.id}", json={"role": "manager"})
    assert promoted.status_code == 200 and promoted.json()["role"] == "manager"

    owner = TestClient(client.app)
    login(owner, world.owner)
    granted = owner.patch(f"/api/users/{world.agent.id}", json={"role": "owner"})
    assert granted.status_code == 200 and granted.json()["role"] == "owner"
    assert membership_of(session, world.workspace.id, world.agent.id).role == "owner"  # type: ignore[union-attr]


def test_invalid_role_is_422(client: TestClient, session: Session, container: Container) -> None:
    world = seed_world(session, container.hasher)
    login(client, world.owner)
    for body in ({"role": "admin"}, {"role": "agent", "team": 1}, {"email": "new@example.com"}):
        assert_error(client.patch(f"/api/users/{world.agent.id}", json=body), 422, "validation_error")
    stored = membership_of(session, world.workspace.id, world.agent.id)
    assert stored is not None and stored.role == "agent"


def test_last_owner_guard_in_the_service(session: Session, container: Container) -> None:
    # CRM-ROLE-04 at the service level (also what the API relies on).
    world = seed_world(session, container.hasher)
    acting = principal(world.workspace, world.owner)
    with pytest.raises(Conflict) as refused:
        users.update_member(session, acting, user_id=world.owner.id, role="agent", restrictions=None)
    assert refused.value.error == "last_owner"
    with pytest.raises(Conflict):
        users.deactivate_member(session, acting, user_id=world.owner.id)
    with pytest.raises(Conflict):
        users.remove_member(session, acting, user_id=world.owner.id)
    session.rollback()
    stored = fetch(session, Membership, (world.workspace.id, world.owner.id))
    assert stored is not None and stored.role == "owner" and stored.deactivated_at is None


# --- CRM-USER-03: deactivation ----------------------------------------------------------------------


def _assign(session: Session, world: World, user_id: int, count: int) -> list[int]:
    ids = []
    for _ in range(count):
        contact = make_contact(session, workspace_id=world.workspace.id)
        assignment.apply_assignee(session, contact=contact, user_id=user_id, actor=Actor.system())
        ids.append(contact.id)
    session.commit()
    return ids


def test_deactivating_unassigns_contacts_with_one_event_each(
    client: TestClient, session: Session, container: Container
) -> None:
    # CRM-USER-03
    world = seed_world(session, container.hasher)
    agents_contacts = _assign(session, world, world.agent.id, 3)
    managers_contact = _assign(session, world, world.manager.id, 1)
    before = len(events(session, world.workspace.id, "contact.assignee.updated"))
    login(client, world.owner)
    response = client.post(f"/api/users/{world.agent.id}/deactivate")
    assert response.status_code == 200, response.text
    assert response.json()["deactivated"] is True
    membership = membership_of(session, world.workspace.id, world.agent.id)
    assert membership is not None and membership.deactivated_at == container.clock.now()

    contacts = rows(session, select(Contact).order_by(Contact.id))
    assert {c.id: c.assignee_user_id for c in contacts} == {
        **dict.fromkeys(agents_contacts),
        managers_contact[0]: world.manager.id,
    }
    changed = events(session, world.workspace.id, "contact.assignee.updated")[before:]
    assert [e.contact_id for e in changed] == agents_contacts
    for event in changed:
        assert event.source == "user" and event.actor_id == world.owner.id
        assert event.payload["previous"]["id"] == world.agent.id
        assert event.payload["assignee"] is None
    # Not listed by default; listed with include_deactivated.
    assert world.agent.id not in [u["id"] for u in client.get("/api/users").json()]
    listed = client.get("/api/users", params={"include_deactivated": "true"}).json()
    assert [u["deactivated"] for u in listed if u["id"] == world.agent.id] == [True]

    # Deactivating again changes nothing and writes no event.
    again = client.post(f"/api/users/{world.agent.id}/deactivate")
    assert again.status_code == 200
    assert len(events(session, world.workspace.id, "contact.assignee.updated")) == before + 3


def test_deactivated_user_cannot_sign_in_and_open_session_is_refused(
    client: TestClient, make_client: Any, session: Session, container: Container
) -> None:
    # CRM-USER-03
    world = seed_world(session, container.hasher)
    agent = make_client()
    login(agent, world.agent)
    login(client, world.owner)
    client.post(f"/api/users/{world.agent.id}/deactivate")

    assert_error(agent.get("/api/users"), 403, "no_workspace")
    assert_error(agent.post("/api/teams", json={"name": "Sneaky"}), 403, "no_workspace")
    assert agent.get("/api/me").json()["workspace"] is None
    fresh = make_client()
    response = fresh.post(
        "/api/auth/login", json={"email": world.agent.email, "password": "correct horse battery"}
    )
    assert_error(response, 403, "account_deactivated")
    assert len(all_logins(session)) == 2  # the agent's old one and the owner's; none added

    # Reactivation restores access, on the open session and for new sign-ins.
    reactivated = client.post(f"/api/users/{world.agent.id}/activate")
    assert reactivated.status_code == 200 and reactivated.json()["deactivated"] is False
    membership = membership_of(session, world.workspace.id, world.agent.id)
    assert membership is not None and membership.deactivated_at is None and membership.role == "agent"
    assert agent.get("/api/users").status_code == 200
    login(fresh, world.agent)


def test_deactivated_in_one_workspace_signs_in_to_another(
    client: TestClient, session: Session, container: Container
) -> None:
    # CRM-USER-03 with CRM-WS-01: deactivation is per membership.
    world_a = seed_world(session, container.hasher, name="Alpha")
    world_b = seed_world(session, container.hasher, name="Beta")
    users.add_member(session, workspace_id=world_b.workspace.id, user_id=world_a.agent.id, role="agent")
    membership = session.get(Membership, (world_a.workspace.id, world_a.agent.id))
    assert membership is not None
    membership.deactivated_at = container.clock.now()
    session.commit()
    body = login(client, world_a.agent)
    assert body["workspace"]["id"] == world_b.workspace.id
    assert [w["id"] for w in body["workspaces"]] == [world_b.workspace.id]


def test_removing_a_member_unassigns_and_detaches_sessions(
    client: TestClient, make_client: Any, session: Session, container: Container
) -> None:
    # CRM-USER-03 (removal behaves like deactivation for contacts)
    world = seed_world(session, container.hasher)
    contact_ids = _assign(session, world, world.agent.id, 2)
    agent = make_client()
    login(agent, world.agent)
    login(client, world.manager)
    assert client.delete(f"/api/users/{world.agent.id}").status_code == 204
    assert membership_of(session, world.workspace.id, world.agent.id) is None
    contacts = rows(session, select(Contact).order_by(Contact.id))
    assert [c.assignee_user_id for c in contacts] == [None, None]
    changed = events(session, world.workspace.id, "contact.assignee.updated")[-2:]
    assert [(e.contact_id, e.source, e.actor_id) for e in changed] == [
        (contact_ids[0], "user", world.manager.id),
        (contact_ids[1], "user", world.manager.id),
    ]
    assert_error(agent.get("/api/users"), 403, "no_workspace")
    assert_error(client.get(f"/api/users/{world.agent.id}"), 404, "not_found")


# --- CRM-USER-02: availability ------------------------------------------------------------------------


def test_availability_online_then_offline_after_ten_minutes_unseen(
    client: TestClient, make_client: Any, session: Session, container: Container, clock: FakeClock
) -> None:
    # CRM-USER-02
    world = seed_world(session, container.hasher)
    agent = make_client()
    login(agent, world.agent)
    login(client, world.owner)

    def shown() -> str:
        listed = client.get("/api/users").json()
        return str(next(u["availability"] for u in listed if u["id"] == world.agent.id))

    assert shown() == "offline"  # signed in but never chose Online
    response = agent.put("/api/me/availability", json={"availability": "online"})
    assert response.status_code == 200 and response.json()["availability"] == "online"
    assert shown() == "online"
    assert client.get(f"/api/users/{world.agent.id}").json()["availability"] == "online"

    clock.advance(minutes=9, seconds=59)
    assert shown() == "online"
    clock.advance(seconds=1)
    assert shown() == "offline"  # 10 minutes unseen

    # Seen again (any request) brings them back, as they chose Online.
    assert agent.get("/api/users").status_code == 200
    assert shown() == "online"
    assert agent.get("/api/me").json()["availability"] == "online"

    # Choosing Offline is immediate.
    assert (
        agent.put("/api/me/availability", json={"availability": "offline"}).json()["availability"]
        == "offline"
    )
    assert shown() == "offline"


def test_availability_accepts_only_online_or_offline(
    client: TestClient, session: Session, container: Container
) -> None:
    # CRM-USER-02
    world = seed_world(session, container.hasher)
    login(client, world.agent)
    for body in ({"availability": "away"}, {"availability": None}, {}, {"availability": "online", "x": 1}):
        assert_error(client.put("/api/me/availability", json=body), 422, "validation_error")
    assert fetch(session, type(world.agent), world.agent.id).presence == "offline"  # type: ignore[union-attr]


def test_me_shows_online_again_after_a_long_idle(
    client: TestClient, session: Session, container: Container, clock: FakeClock
) -> None:
    # CRM-USER-02: a request after 10 idle minutes counts as being seen, so /api/me shows Online.
    world = seed_world(session, container.hasher)
    login(client, world.agent)
    client.put("/api/me/availability", json={"availability": "online"})
    clock.advance(minutes=30)
    assert client.get("/api/me").json()["availability"] == "online"


@pytest.mark.committing
def test_two_owners_deactivating_each_other_at_once_leave_one_owner(
    session: Session, container: Container
) -> None:
    # CRM-ROLE-04 under concurrency: the second change waits for the first and then sees the last Owner.
    world = seed_world(session, container.hasher)
    second = make_member(
        session, container.hasher, workspace=world.workspace, role="owner", first_name="Otto"
    )
    session.commit()
    first_owner, second_owner = principal(world.workspace, world.owner), principal(world.workspace, second)
    outcome: dict[str, object] = {}

    def other_transaction() -> None:
        with container.db.session() as other:
            try:
                users.deactivate_member(other, second_owner, user_id=world.owner.id)
                other.commit()
                outcome["result"] = "deactivated"
            except Conflict as exc:
                outcome["result"] = exc.error

    with container.db.session() as mine:
        users.deactivate_member(mine, first_owner, user_id=second.id)
        worker = threading.Thread(target=other_transaction)
        worker.start()
        worker.join(timeout=0.5)  # it must be waiting for this transaction
        assert worker.is_alive()
        mine.commit()
    worker.join(timeout=10)
    assert outcome == {"result": "last_owner"}
    active_owners = [
        m.user_id
        for m in all_members(session, world.workspace.id)
        if m.role == "owner" and m.deactivated_at is None
    ]
    assert active_owners == [world.owner.id]


def test_restricted_manager_cannot_lift_their_own_restrictions(
    client: TestClient, session: Session, container: Container
) -> None:
    # CRM-ROLE-02: a flag set by an Owner cannot be removed by the Manager it restricts.
    world = seed_world(session, container.hasher)
    rita = _restricted_manager(session, container, world, restrict_contact_deletion=True)
    session.commit()
    login(client, rita)
    response = client.patch(f"/api/users/{rita.id}", json={"restrictions": {}})
    assert_error(response, 403, "restricted")
    stored = membership_of(session, world.workspace.id, rita.id)
    assert stored is not None and stored.restrictions["restrict_contact_deletion"] is True
    # Nor through an accomplice: promoting an Agent to an unrestricted Manager is refused too...
    promote = client.patch(f"/api/users/{world.agent.id}", json={"role": "manager"})
    assert_error(promote, 403, "restricted")
    assert membership_of(session, world.workspace.id, world.agent.id).role == "agent"  # type: ignore[union-attr]
    # ...but promoting with her own restriction carried over is fine, as are Agent-only flags.
    carried = client.patch(
        f"/api/users/{world.agent.id}",
        json={"role": "manager", "restrictions": {"restrict_contact_deletion": True}},
    )
    assert carried.status_code == 200, carried.text
    stored = membership_of(session, world.workspace.id, world.agent.id)
    assert stored is not None and stored.role == "manager"
    assert stored.restrictions["restrict_contact_deletion"] is True
    # Other flags of an existing Manager, which she does not hold herself, she may still change.
    other = client.patch(
        f"/api/users/{world.manager.id}", json={"restrictions": {"restrict_data_export": True}}
    )
    assert other.status_code == 200, other.text


def test_owner_lifts_a_manager_restriction(
    client: TestClient, session: Session, container: Container
) -> None:
    # CRM-ROLE-02
    world = seed_world(session, container.hasher)
    rita = _restricted_manager(session, container, world, restrict_space_integration=True)
    session.commit()
    login(client, world.owner)
    assert client.patch(f"/api/users/{rita.id}", json={"restrictions": {}}).status_code == 200
    stored = membership_of(session, world.workspace.id, rita.id)
    assert stored is not None and stored.restrictions["restrict_space_integration"] is False


def test_ids_out_of_range_are_422_not_500(client: TestClient, session: Session, container: Container) -> None:
    # Bad input: ids beyond BIGINT (or below 1) are refused before reaching the database.
    world = seed_world(session, container.hasher)
    login(client, world.owner)
    huge = 2**64
    for method, path, body in (
        ("GET", f"/api/users/{huge}", None),
        ("PATCH", f"/api/users/{huge}", {"role": "agent"}),
        ("POST", f"/api/users/{huge}/deactivate", None),
        ("POST", "/api/users/0/activate", None),
        ("DELETE", f"/api/users/{huge}", None),
        ("DELETE", f"/api/invitations/{huge}", None),
        ("DELETE", f"/api/api-tokens/{huge}", None),
        ("GET", f"/api/users?team_id={huge}", None),
        ("PUT", "/api/me/workspace", {"workspace_id": huge}),
        ("PUT", "/api/me/workspace", {"workspace_id": -1}),
        ("POST", "/api/invitations", {"email": "x@example.com", "team_id": huge}),
    ):
        assert_error(client.request(method, path, json=body), 422, "validation_error")
    assert all_invitations(session) == []
    assert [login.workspace_id for login in all_logins(session)] == [world.workspace.id]
