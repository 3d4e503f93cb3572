"""Shared column types and table conventions: UTCDateTime, ids that are never reused, JSON columns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from convoflow.accounts.models import User, Workspace
from convoflow.bootstrap import Container
from convoflow.db.base import UTCDateTime
from convoflow.db.models import Base
from convoflow.testing.factories import make_user, make_workspace


def test_every_single_key_table_uses_sqlite_autoincrement() -> None:
    single_key = [t for t in Base.metadata.sorted_tables if len(t.primary_key.columns) == 1]
    assert len(single_key) >= 15
    for table in single_key:
        assert table.dialect_kwargs.get("sqlite_autoincrement") is True, table.name


def test_ids_are_never_reused_after_deleting_the_newest_row(session: Session, container: Container) -> None:
    # Ids are public and webhook consumers de-duplicate by event id (CRM-EVT-03).
    first = make_user(session, container.hasher)
    newest = make_user(session, container.hasher)
    session.commit()
    newest_id = newest.id
    session.delete(newest)
    session.commit()

    again = make_user(session, container.hasher)
    session.commit()

    assert again.id > newest_id > first.id
    assert session.scalar(select(func.count()).select_from(User)) == 2


def test_utc_datetime_round_trips_as_aware_utc(session: Session, container: Container) -> None:
    user = make_user(session, container.hasher)
    madrid_summer = timezone(timedelta(hours=2))
    user.last_seen_at = datetime(2026, 7, 1, 14, 30, 15, 123456, tzinfo=madrid_summer)
    session.commit()
    session.expire_all()

    stored = session.get(User, user.id)
    assert stored is not None and stored.last_seen_at is not None
    assert stored.last_seen_at == datetime(2026, 7, 1, 12, 30, 15, 123456, tzinfo=UTC)
    assert stored.last_seen_at.tzinfo is UTC
    assert stored.created_at.tzinfo is UTC


def test_utc_datetime_is_stored_as_utc_so_text_order_is_time_order(
    session: Session, container: Container
) -> None:
    user = make_user(session, container.hasher)
    user.last_seen_at = datetime(2026, 7, 1, 0, 30, tzinfo=timezone(timedelta(hours=2)))
    session.commit()
    raw = session.execute(text("SELECT last_seen_at FROM users WHERE id = :id"), {"id": user.id}).scalar_one()
    if session.get_bind().dialect.name == "sqlite":
        assert raw == "2026-06-30 22:30:00.000000"
    else:
        assert raw == datetime(2026, 6, 30, 22, 30, tzinfo=UTC)


def test_utc_datetime_refuses_naive_datetimes(session: Session, container: Container) -> None:
    user = make_user(session, container.hasher)
    session.commit()
    user.last_seen_at = datetime(2026, 7, 1, 12, 0)  # noqa: DTZ001 - the point of the test
    with pytest.raises(StatementError, match="naive datetime"):
        session.flush()
    session.rollback()
    session.expire_all()
    stored = session.get(User, user.id)
    assert stored is not None and stored.last_seen_at is None


def test_utc_datetime_type_converts_on_both_sides() -> None:
    column_type = UTCDateTime()
    sqlite_dialect = create_engine("sqlite://").dialect
    postgres = create_engine("postgresql+psycopg://").dialect  # never connects
    aware = datetime(2026, 1, 5, 10, 0, tzinfo=timezone(timedelta(hours=1)))
    assert column_type.process_bind_param(aware, sqlite_dialect) == datetime(2026, 1, 5, 9, 0)  # noqa: DTZ001
    assert column_type.process_bind_param(aware, postgres) == datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    assert column_type.process_bind_param(None, sqlite_dialect) is None
    assert column_type.process_result_value(None, sqlite_dialect) is None
    with pytest.raises(ValueError, match="naive"):
        column_type.process_bind_param(datetime(2026, 1, 5), postgres)  # noqa: DTZ001


def test_json_columns_round_trip_nested_values(session: Session, container: Container) -> None:
    owner = make_user(session, container.hasher)
    workspace = make_workspace(session, owner=owner)
    workspace.settings = {**workspace.settings, "extra": {"list": [1, "dos", None, True], "ñ": "ü"}}
    session.commit()
    session.expire_all()
    stored = session.get(Workspace, workspace.id)
    assert stored is not None
    assert stored.settings["extra"] == {"list": [1, "dos", None, True], "ñ": "ü"}
