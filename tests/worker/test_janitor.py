"""Housekeeping: expired login sessions and old invitations are purged."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from convoflow.accounts import invitations
from convoflow.accounts.models import Invitation, LoginSession
from convoflow.bootstrap import Container
from convoflow.contacts.models import Contact
from convoflow.db.engine import reclaim_free_pages
from convoflow.events.models import Event
from convoflow.testing.clock import FakeClock
from convoflow.testing.factories import make_contact, principal
from convoflow.worker.janitor import INVITATION_KEEP, _purge_once, purge_expired
from tests.support import login, seed_world


def _sessions(session: Session) -> list[int]:
    ids = list(session.scalars(select(LoginSession.user_id).order_by(LoginSession.id)))
    session.commit()
    return ids


def _invitations(session: Session) -> list[str]:
    emails = list(session.scalars(select(Invitation.email).order_by(Invitation.id)))
    session.commit()
    return emails


def test_expired_login_sessions_are_deleted(
    client: TestClient, session: Session, container: Container, clock: FakeClock
) -> None:
    world = seed_world(session, container.hasher)
    login(client, world.owner)
    clock.advance(days=10)
    active = TestClient(client.app)
    login(active, world.agent)
    assert purge_expired(session) == {"login_sessions": 0, "invitations": 0}
    session.commit()

    clock.advance(days=container.settings.session_days - 10)  # the owner's session just expired
    assert purge_expired(session) == {"login_sessions": 1, "invitations": 0}
    session.commit()
    assert _sessions(session) == [world.agent.id]
    assert active.get("/api/me").status_code == 200


def test_old_invitations_are_deleted_after_the_keep_period(
    session: Session, container: Container, clock: FakeClock
) -> None:
    world = seed_world(session, container.hasher)
    acting = principal(world.workspace, world.owner)
    days = container.settings.invitation_days
    start = clock.now()
    invitations.create_invitation(
        session, acting, email="old@example.com", role="agent", team_id=None, valid_days=days
    )
    accepted = invitations.create_invitation(
        session, acting, email="used@example.com", role="agent", team_id=None, valid_days=days
    )
    accepted.invitation.accepted_at = clock.now()
    session.commit()
    clock.advance(days=20)
    invitations.create_invitation(
        session, acting, email="new@example.com", role="agent", team_id=None, valid_days=days
    )
    session.commit()

    # Expired but still inside the keep period: kept (visible as expired).
    clock.set(start + timedelta(days=days) + INVITATION_KEEP - timedelta(seconds=1))
    assert purge_expired(session)["invitations"] == 0
    session.commit()
    clock.advance(seconds=1)
    assert purge_expired(session) == {"login_sessions": 0, "invitations": 2}
    session.commit()
    assert _invitations(session) == ["new@example.com"]


def test_purge_once_commits(session: Session, container: Container, clock: FakeClock) -> None:
    world = seed_world(session, container.hasher)
    acting = principal(world.workspace, world.owner)
    invitations.create_invitation(
        session, acting, email="gone@example.com", role="agent", team_id=None, valid_days=7
    )
    session.commit()
    clock.advance(days=7 + INVITATION_KEEP.days)
    assert _purge_once(container.db) == {"login_sessions": 0, "invitations": 1, "free_pages_left": 0}
    assert _invitations(session) == []


def test_sqlite_free_pages_go_back_to_the_file_system(session: Session, container: Container) -> None:
    if container.db.dialect != "sqlite":
        # PostgreSQL's autovacuum reclaims space; the janitor only acts on SQLite.
        assert reclaim_free_pages(container.db.engine) == 0
        return
    world = seed_world(session, container.hasher)
    for index in range(300):
        make_contact(
            session,
            workspace_id=world.workspace.id,
            first_name="x" * 100,
            last_name="y" * 100,
            email=f"c{index}@example.com",
        )
    session.commit()
    session.execute(delete(Contact))
    session.execute(delete(Event))
    session.commit()
    raw = container.db.engine.raw_connection()
    try:
        free_before = raw.cursor().execute("PRAGMA freelist_count").fetchone()[0]
    finally:
        raw.close()
    assert free_before > 20
    assert reclaim_free_pages(container.db.engine) == 0
