"""Invitations by email: shown once, stored hashed, valid 7 days, accepted once (CRM-USER-01)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from convoflow.accounts import credentials
from convoflow.accounts.models import Invitation, User
from convoflow.bootstrap import Container
from convoflow.teams.models import Team
from convoflow.testing.clock import FakeClock
from convoflow.testing.factories import DEFAULT_PASSWORD
from tests.accounts.helpers import (
    all_invitations,
    all_logins,
    all_members,
    bearer,
    count,
    create_token,
    fetch,
    invite,
    membership_of,
    rows,
)
from tests.support import assert_error, login, seed_world

NEW_PASSWORD = "a brand new secret"


def _accept(client: TestClient, token: str, **fields: Any) -> Any:
    body = {"token": token, "first_name": "Inés", "last_name": "Núñez", "password": NEW_PASSWORD, **fields}
    return client.post("/api/auth/accept-invitation", json=body)


def _team(client: TestClient, name: str = "Soporte") -> int:
    response = client.post("/api/teams", json={"name": name})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_invitation_token_is_shown_once_and_stored_hashed(
    client: TestClient, session: Session, container: Container, clock: FakeClock
) -> None:
    # CRM-USER-01
    world = seed_world(session, container.hasher)
    login(client, world.manager)
    created = invite(client, "  Ines@Example.COM ", role="manager")
    token, invitation = created["token"], created["invitation"]
    assert invitation["email"] == "ines@example.com"
    assert invitation["role"] == "manager"
    assert "token" not in invitation
    stored = all_invitations(session)
    assert len(stored) == 1
    assert stored[0].token_hash == credentials.digest(token) and token not in stored[0].token_hash
    assert stored[0].invited_by == world.manager.id
    assert stored[0].created_at == clock.now()
    assert stored[0].expires_at == clock.now() + timedelta(days=7)
    assert container.settings.invitation_days == 7
    # Listing shows the pending invitation but never its token.
    listed = client.get("/api/invitations").json()
    assert [i["id"] for i in listed] == [invitation["id"]]
    assert all("token" not in i for i in listed)
    assert token not in client.get("/api/invitations").text


def test_accepting_creates_the_account_and_membership_and_signs_in(
    client: TestClient, session: Session, container: Container
) -> None:
    # CRM-USER-01: the invited role and team are applied; the new user is signed in.
    world = seed_world(session, container.hasher)
    login(client, world.owner)
    team_id = _team(client)
    token = invite(client, "ines@example.com", role="manager", team_id=team_id)["token"]

    newcomer = TestClient(client.app)
    response = _accept(newcomer, token)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["user"]["email"] == "ines@example.com"
    assert body["user"]["first_name"] == "Inés" and body["user"]["last_name"] == "Núñez"
    assert body["workspace"]["id"] == world.workspace.id
    assert body["membership"] == {
        "role": "manager",
        "team_id": team_id,
        "restrictions": body["membership"]["restrictions"],
    }
    assert body["csrf_token"]

    user = rows(session, select(User).where(User.email == "ines@example.com"))
    assert len(user) == 1
    assert user[0].password_hash != NEW_PASSWORD and container.hasher.verify(
        user[0].password_hash, NEW_PASSWORD
    )
    membership = membership_of(session, world.workspace.id, user[0].id)
    assert membership is not None and membership.role == "manager" and membership.team_id == team_id
    invitation = all_invitations(session)[0]
    assert invitation.accepted_at is not None
    # Signed in: the cookie works and changes need the CSRF token just returned.
    newcomer.headers["X-CSRF-Token"] = body["csrf_token"]
    assert newcomer.get("/api/me").json()["user"]["id"] == user[0].id
    assert newcomer.patch("/api/workspace", json={"name": "By Inés"}).status_code == 200
    # And the new password signs in normally; the invitation is no longer pending.
    login(TestClient(client.app), "ines@example.com", NEW_PASSWORD)
    assert client.get("/api/invitations").json() == []


def test_invitation_expires_after_seven_days(
    client: TestClient, session: Session, container: Container, clock: FakeClock
) -> None:
    # CRM-USER-01: valid 7 days.
    world = seed_world(session, container.hasher)
    login(client, world.owner)
    token = invite(client, "late@example.com")["token"]
    clock.advance(days=7)
    assert_error(_accept(TestClient(client.app), token), 404, "invitation_expired")
    assert count(session, User, User.email == "late@example.com") == 0
    assert len(all_members(session, world.workspace.id)) == 3
    assert client.get("/api/invitations").json() == []


def test_invitation_is_still_valid_just_before_seven_days(
    client: TestClient, session: Session, container: Container, clock: FakeClock
) -> None:
    # CRM-USER-01
    world = seed_world(session, container.hasher)
    login(client, world.owner)
    token = invite(client, "ontime@example.com")["token"]
    clock.advance(days=6, hours=23, minutes=59)
    assert _accept(TestClient(client.app), token).status_code == 200
    assert len(all_members(session, world.workspace.id)) == 4


def test_revoked_invitation_cannot_be_accepted(
    client: TestClient, session: Session, container: Container
) -> None:
    # CRM-USER-01
    world = seed_world(session, container.hasher)
    login(client, world.owner)
    created = invite(client, "revoked@example.com")
    assert client.delete(f"/api/invitations/{created['invitation']['id']}").status_code == 204
    assert all_invitations(session)[0].revoked_at is not None
    assert client.get("/api/invitations").json() == []
    assert_error(_accept(TestClient(client.app), created["token"]), 404, "invitation_invalid")
    assert count(session, User, User.email == "revoked@example.com") == 0
    # Revoking twice is harmless; an unknown id is 404.
    assert client.delete(f"/api/invitations/{created['invitation']['id']}").status_code == 204
    assert_error(client.delete("/api/invitations/999999"), 404, "not_found")


def test_invitation_cannot_be_accepted_twice(
    client: TestClient, session: Session, container: Container
) -> None:
    # CRM-USER-01
    world = seed_world(session, container.hasher)
    login(client, world.owner)
    created = invite(client, "once@example.com")
    assert _accept(TestClient(client.app), created["token"]).status_code == 200
    assert_error(_accept(TestClient(client.app), created["token"]), 404, "invitation_invalid")
    assert count(session, User, User.email == "once@example.com") == 1
    assert len(all_logins(session)) == 2  # the owner's and the first acceptance
    # An accepted invitation cannot be revoked any more.
    assert_error(client.delete(f"/api/invitations/{created['invitation']['id']}"), 404, "not_found")


def test_unknown_or_malformed_invitation_token_is_refused(
    client: TestClient, session: Session, container: Container
) -> None:
    # CRM-USER-01
    seed_world(session, container.hasher)
    assert_error(_accept(client, "not-a-real-token"), 404, "invitation_invalid")
    assert_error(_accept(client, ""), 422, "validation_error")
    assert_error(_accept(client, "x" * 10_000), 422, "validation_error")
    assert_error(_accept(client, "abc", role="owner"), 422, "validation_error")
    assert count(session, User) == 3


def test_existing_account_must_give_its_own_password(
    client: TestClient, session: Session, container: Container, clock: FakeClock
) -> None:
    # CRM-USER-01 / CRM-WS-01: someone with an account in another workspace joins with their password.
    world = seed_world(session, container.hasher, name="Alpha")
    other = seed_world(session, container.hasher, name="Beta")
    person = other.agent
    login(client, world.owner)
    token = invite(client, person.email, role="agent")["token"]
    clock.advance(hours=1)  # Beta, their older workspace, would come first at sign-in
    guest = TestClient(client.app)

    wrong = _accept(guest, token, password="not my password")
    assert_error(wrong, 403, "wrong_password")
    assert membership_of(session, world.workspace.id, person.id) is None
    assert all_invitations(session)[0].accepted_at is None

    accepted = _accept(guest, token, password=DEFAULT_PASSWORD, first_name="Ignored")
    assert accepted.status_code == 200, accepted.text
    body = accepted.json()
    # Signed in to the workspace that invited them, which now lists both.
    assert body["workspace"]["id"] == world.workspace.id
    assert body["membership"]["role"] == "agent"
    assert {w["id"] for w in body["workspaces"]} == {world.workspace.id, other.workspace.id}
    stored = fetch(session, User, person.id)
    assert stored is not None and stored.first_name == "Aida"  # the account's own name is kept
    assert container.hasher.verify(stored.password_hash, DEFAULT_PASSWORD)
    membership = membership_of(session, world.workspace.id, person.id)
    assert membership is not None and membership.role == "agent"
    logins = all_logins(session)
    assert logins[-1].user_id == person.id and logins[-1].workspace_id == world.workspace.id


def test_accepting_with_a_too_short_password_creates_nothing(
    client: TestClient, session: Session, container: Container
) -> None:
    # CRM-USER-01
    world = seed_world(session, container.hasher)
    login(client, world.owner)
    token = invite(client, "short@example.com")["token"]
    assert_error(_accept(TestClient(client.app), token, password="short"), 422, "validation_error")
    assert_error(_accept(TestClient(client.app), token, first_name="x" * 10_000), 422, "validation_error")
    assert_error(_accept(TestClient(client.app), token, first_name="  "), 422, "validation_error")
    assert count(session, User, User.email == "short@example.com") == 0
    assert all_invitations(session)[0].accepted_at is None
    # Still usable afterwards.
    assert _accept(TestClient(client.app), token, first_name="Émile 😀").status_code == 200
    assert rows(session, select(User.first_name).where(User.email == "short@example.com")) == ["Émile 😀"]


def test_inviting_an_existing_member_is_409(
    client: TestClient, session: Session, container: Container
) -> None:
    # CRM-USER-01
    world = seed_world(session, container.hasher)
    login(client, world.owner)
    for email in (world.agent.email, world.agent.email.upper()):
        assert_error(client.post("/api/invitations", json={"email": email}), 409, "already_member")
    assert all_invitations(session) == []


def test_inviting_a_deactivated_member_is_409(
    client: TestClient, session: Session, container: Container
) -> None:
    # CRM-USER-01 / CRM-USER-03: a deactivated member is reactivated, not invited again.
    world = seed_world(session, container.hasher)
    login(client, world.owner)
    client.post(f"/api/users/{world.agent.id}/deactivate")
    assert_error(client.post("/api/invitations", json={"email": world.agent.email}), 409, "already_member")
    assert all_invitations(session) == []


def test_a_new_invitation_replaces_the_pending_one(
    client: TestClient, session: Session, container: Container
) -> None:
    # CRM-USER-01 (decisions.md: a new invitation for the same email replaces the pending one)
    world = seed_world(session, container.hasher)
    login(client, world.owner)
    first = invite(client, "twice@example.com", role="agent")
    second = invite(client, "twice@example.com", role="manager")
    stored = all_invitations(session)
    assert [i.revoked_at is not None for i in stored] == [True, False]
    assert [i["id"] for i in client.get("/api/invitations").json()] == [second["invitation"]["id"]]
    assert_error(_accept(TestClient(client.app), first["token"]), 404, "invitation_invalid")
    body = _accept(TestClient(client.app), second["token"]).json()
    assert body["membership"]["role"] == "manager"


def test_only_owners_invite_owners(client: TestClient, session: Session, container: Container) -> None:
    # CRM-USER-01 / CRM-ROLE-01: inviting an Owner needs the Owner role.
    world = seed_world(session, container.hasher)
    login(client, world.manager)
    assert_error(
        client.post("/api/invitations", json={"email": "boss@example.com", "role": "owner"}),
        403,
        "role_required",
    )
    assert all_invitations(session) == []
    owner = TestClient(client.app)
    login(owner, world.owner)
    token = invite(owner, "boss@example.com", role="owner")["token"]
    assert _accept(TestClient(client.app), token).json()["membership"]["role"] == "owner"


def test_invalid_invitations_are_422_and_store_nothing(
    client: TestClient, session: Session, container: Container
) -> None:
    # CRM-USER-01
    world = seed_world(session, container.hasher)
    login(client, world.owner)
    for body in (
        {"email": "not an email"},
        {"email": ""},
        {"email": "a@" + "x" * 10_000 + ".com"},
        {"email": "ok@example.com", "role": "admin"},
        {"email": "ok@example.com", "team_id": "sales"},
        {"email": "ok@example.com", "message": "hi"},
        {},
    ):
        assert_error(client.post("/api/invitations", json=body), 422, "validation_error")
    assert_error(client.post("/api/invitations", json={"email": "ok@example.com", "team_id": 999999}), 404)
    assert all_invitations(session) == []


def test_team_of_another_workspace_cannot_be_used(
    client: TestClient, session: Session, container: Container
) -> None:
    # CRM-USER-01 with CRM-WS-01
    world = seed_world(session, container.hasher)
    other = seed_world(session, container.hasher, name="Other")
    other_client = TestClient(client.app)
    login(other_client, other.owner)
    foreign_team = _team(other_client, "Foreign")
    login(client, world.owner)
    response = client.post("/api/invitations", json={"email": "x@example.com", "team_id": foreign_team})
    assert_error(response, 404, "not_found")
    assert all_invitations(session) == []
    assert count(session, Team) == 1


def test_api_token_cannot_manage_invitations(
    client: TestClient, session: Session, container: Container
) -> None:
    # decisions.md: managing invitations needs a signed-in user, not an API token.
    world = seed_world(session, container.hasher)
    login(client, world.owner)
    pending = invite(client, "pending@example.com")["invitation"]["id"]
    _token_id, secret = create_token(client)
    api = TestClient(client.app)
    headers = bearer(secret)
    assert_error(
        api.post("/api/invitations", json={"email": "a@example.com"}, headers=headers), 403, "user_required"
    )
    assert_error(api.get("/api/invitations", headers=headers), 403, "user_required")
    assert_error(api.delete(f"/api/invitations/{pending}", headers=headers), 403, "user_required")
    stored = all_invitations(session)
    assert [(i.email, i.revoked_at) for i in stored] == [("pending@example.com", None)]


def test_team_deleted_after_inviting_leaves_the_member_without_team(
    client: TestClient, session: Session, container: Container
) -> None:
    # CRM-USER-01: the invitation outlives its team (team_id is cleared).
    world = seed_world(session, container.hasher)
    login(client, world.owner)
    team_id = _team(client)
    token = invite(client, "teamless@example.com", team_id=team_id)["token"]
    assert client.delete(f"/api/teams/{team_id}").status_code == 204
    assert fetch(session, Invitation, all_invitations(session)[0].id).team_id is None  # type: ignore[union-attr]
    body = _accept(TestClient(client.app), token).json()
    assert body["membership"]["team_id"] is None
