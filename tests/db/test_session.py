"""Sessions: the clock they carry, and that uncommitted work never reaches the database."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from convoflow.accounts.models import User
from convoflow.bootstrap import Container
from convoflow.db.session import now
from convoflow.testing.clock import FakeClock
from convoflow.testing.factories import make_user


def test_now_is_the_fake_clocks_time(session: Session, clock: FakeClock) -> None:
    assert now(session) == datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    clock.advance(days=7, minutes=5)
    assert now(session) == datetime(2026, 1, 12, 9, 5, tzinfo=UTC)


def test_read_only_sessions_carry_the_clock_too(container: Container, clock: FakeClock) -> None:
    clock.set(datetime(2027, 3, 1, 12, 0, tzinfo=UTC))
    with container.db.session(readonly=True) as reader:
        assert now(reader) == datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


def test_services_stamp_rows_with_the_clocks_time(
    session: Session, container: Container, clock: FakeClock
) -> None:
    clock.advance(hours=3)
    user = make_user(session, container.hasher)
    session.commit()
    session.expire_all()
    stored = session.get(User, user.id)
    assert stored is not None
    assert stored.created_at == datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def test_work_not_committed_is_rolled_back_when_the_session_ends(container: Container) -> None:
    with container.db.session() as writer:
        make_user(writer, container.hasher, email="gone@example.com")
        assert writer.scalar(select(func.count()).select_from(User)) == 1
    with container.db.session(readonly=True) as reader:
        assert reader.scalar(select(func.count()).select_from(User)) == 0


def test_dialect_names_the_backend(container: Container, db_url: str) -> None:
    assert container.db.dialect == ("sqlite" if db_url.startswith("sqlite") else "postgresql")
