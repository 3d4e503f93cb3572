"""SQLite engine: pragmas, write locking, the casefold function; the container's data directory."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from convoflow.accounts.models import User
from convoflow.bootstrap import build_container
from convoflow.db import migrate
from convoflow.db.engine import build_engine, is_sqlite
from convoflow.db.session import Database
from convoflow.settings import PasswordHashing, Settings
from convoflow.testing.clock import FakeClock

FAST_HASHING = PasswordHashing(time_cost=1, memory_kib=8, parallelism=1)


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    path = tmp_path / "engine.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def engine(sqlite_url: str) -> Iterator[Engine]:
    built = build_engine(sqlite_url)
    yield built
    built.dispose()


@pytest.fixture
def impatient(sqlite_url: str) -> Iterator[Database]:
    """A second process's view of the same file that gives up at once instead of waiting for a lock."""
    built = build_engine(sqlite_url)

    @event.listens_for(built, "connect")
    def _no_wait(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=0")

    yield Database(built, FakeClock())
    built.dispose()


def _pragma(engine: Engine, name: str) -> Any:
    with engine.connect() as conn:
        return conn.exec_driver_sql(f"PRAGMA {name}").scalar()


def _add_user(db: Database, email: str) -> None:
    with db.session() as session:
        session.execute(
            text(
                "INSERT INTO users (email, first_name, last_name, password_hash, presence, created_at) "
                "VALUES (:email, 'A', '', 'x', 'offline', '2026-01-05 09:00:00')"
            ),
            {"email": email},
        )
        session.commit()


def _count_users(session: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(User)))


def test_is_sqlite_tells_the_backends_apart() -> None:
    assert is_sqlite("sqlite:///x.db")
    assert is_sqlite("sqlite+pysqlite:///:memory:")
    assert not is_sqlite("postgresql+psycopg://u@h/db")


def test_every_connection_gets_the_pragmas(engine: Engine) -> None:
    assert _pragma(engine, "journal_mode") == "wal"
    assert _pragma(engine, "foreign_keys") == 1
    assert _pragma(engine, "busy_timeout") == 5000
    assert _pragma(engine, "synchronous") == 1  # NORMAL, the default setting


def test_synchronous_follows_the_setting(tmp_path: Path) -> None:
    container = build_container(
        Settings(data_dir=tmp_path / "data", sqlite_synchronous="full", password_hashing=FAST_HASHING)
    )
    try:
        assert _pragma(container.db.engine, "synchronous") == 2  # FULL
    finally:
        container.close()


def test_new_database_file_uses_incremental_auto_vacuum(tmp_path: Path) -> None:
    container = build_container(Settings(data_dir=tmp_path / "data", password_hashing=FAST_HASHING))
    try:
        migrate.upgrade(container.db.engine)
        assert _pragma(container.db.engine, "auto_vacuum") == 2  # INCREMENTAL
        assert _pragma(container.db.engine, "journal_mode") == "wal"
    finally:
        container.close()


def test_foreign_keys_are_enforced(engine: Engine) -> None:
    with pytest.raises(IntegrityError, match="FOREIGN KEY"), engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO teams (workspace_id, name, name_norm, description, created_at) "
                "VALUES (999, 'x', 'x', '', '2026-01-05 09:00:00')"
            )
        )
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM teams")).scalar_one() == 0


def test_writes_begin_immediate_and_reads_begin_deferred(engine: Engine) -> None:
    statements: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    db = Database(engine, FakeClock())
    with db.session() as session:
        session.execute(text("SELECT 1"))
    with db.session(readonly=True) as session:
        session.execute(text("SELECT 2"))
    assert statements == ["BEGIN IMMEDIATE", "SELECT 1", "BEGIN", "SELECT 2"]


def test_open_write_session_holds_the_write_lock_until_it_ends(engine: Engine, impatient: Database) -> None:
    db = Database(engine, FakeClock())
    with db.session() as writer:
        writer.execute(text("SELECT 1"))  # only a read so far, yet the write lock is taken at BEGIN
        with pytest.raises(OperationalError, match="database is locked"), impatient.session() as other:
            other.execute(text("SELECT 1"))
        writer.execute(
            text(
                "INSERT INTO users (email, first_name, last_name, password_hash, presence, created_at) "
                "VALUES ('first@example.com', 'A', '', 'x', 'offline', '2026-01-05 09:00:00')"
            )
        )
        writer.commit()
    # The second writer gets its turn once the first one has committed: the two serialise.
    _add_user(impatient, "second@example.com")
    with db.session(readonly=True) as session:
        emails = session.scalars(select(User.email).order_by(User.id)).all()
    assert emails == ["first@example.com", "second@example.com"]


def test_schema_revision_is_read_without_waiting_for_a_writer(engine: Engine, impatient: Database) -> None:
    db = Database(engine, FakeClock())
    with db.session() as writer:
        writer.execute(text("SELECT 1"))  # holds the write lock
        assert migrate.current_revision(impatient.engine) == migrate.head_revision(impatient.engine)
        assert migrate.is_current(impatient.engine)


def test_read_only_session_does_not_block_a_writer(engine: Engine, impatient: Database) -> None:
    db = Database(engine, FakeClock())
    _add_user(db, "before@example.com")
    with db.session(readonly=True) as reader:
        assert _count_users(reader) == 1
        _add_user(impatient, "during@example.com")  # would raise "database is locked" if blocked
        assert _count_users(reader) == 1  # the reader keeps its snapshot until its transaction ends
    with db.session(readonly=True) as reader:
        assert _count_users(reader) == 2


def test_casefold_function_folds_beyond_ascii(engine: Engine) -> None:
    with engine.connect() as conn:
        assert conn.execute(text("SELECT casefold('PÉREZ Straße')")).scalar_one() == "pérez strasse"
        assert conn.execute(text("SELECT lower('PÉREZ')")).scalar_one() == "pÉrez"  # why we need it
        assert conn.execute(text("SELECT casefold(NULL)")).scalar_one() is None


def test_data_directory_is_created_on_first_start(tmp_path: Path) -> None:
    data_dir = tmp_path / "nested" / "data"
    container = build_container(Settings(data_dir=data_dir, password_hashing=FAST_HASHING))
    try:
        assert data_dir.is_dir()
        assert (
            container.settings.resolved_database_url() == f"sqlite:///{(data_dir / 'convoflow.db').resolve()}"
        )
        migrate.upgrade(container.db.engine)
        assert (data_dir / "convoflow.db").is_file()
    finally:
        container.close()
