"""Engine creation: SQLite pragmas and write locking, PostgreSQL pooling."""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import OperationalError

from convoflow.db.text_ops import sql_casefold

READONLY_OPTION = "convoflow_readonly"
_HOLDS_WRITER = "convoflow_holds_writer_lock"


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def build_engine(url: str, *, sqlite_synchronous: str = "normal", echo: bool = False) -> Engine:
    """Create the engine for `url`.

    On SQLite every write transaction opens with BEGIN IMMEDIATE, so two writers queue on the busy
    timeout instead of deadlocking on a lock upgrade; read-only sessions use a deferred BEGIN and,
    thanks to WAL, never wait for writers.
    """
    if not is_sqlite(url):
        return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20)

    engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False, "timeout": 5.0})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module; the "begin" hook below issues BEGIN.
        dbapi_connection.isolation_level = None
        dbapi_connection.create_function("casefold", 1, sql_casefold, deterministic=True)
        cursor = dbapi_connection.cursor()
        if cursor.execute("PRAGMA page_count").fetchone()[0] == 0:
            # Only possible on a new, empty file, and before journal_mode=WAL writes its first page.
            cursor.execute("PRAGMA auto_vacuum=INCREMENTAL")
        for pragma in (
            "journal_mode=WAL",
            f"synchronous={sqlite_synchronous.upper()}",
            "foreign_keys=ON",
            "busy_timeout=5000",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    # SQLite has one writer. Threads of this process queue on a lock before BEGIN IMMEDIATE instead of
    # polling in SQLite's busy handler, where a thread committing back to back starves the others.
    writer = threading.Lock()
    busy_seconds = 5.0

    def _release(info: dict[str, Any]) -> None:
        if info.pop(_HOLDS_WRITER, False):
            writer.release()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get(READONLY_OPTION, False):
            conn.exec_driver_sql("BEGIN")
            return
        if not writer.acquire(timeout=busy_seconds):
            raise OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked"))
        conn.info[_HOLDS_WRITER] = True
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _release(conn.info)
            raise

    for name in ("commit", "rollback"):
        event.listen(engine, name, lambda conn: _release(conn.info))
    # a connection going back to the pool never keeps the lock, whatever happened to its transaction
    event.listen(engine, "checkin", lambda _dbapi, record: _release(record.info))

    return engine


def checkpoint(engine: Engine) -> None:
    """Folds the WAL into the main file, so the file alone is a complete copy of the database."""
    raw = engine.raw_connection()
    try:
        raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
    finally:
        raw.close()


def reclaim_free_pages(engine: Engine, pages: int = 1000) -> int:
    """SQLite only: returns up to `pages` free pages to the file system (auto_vacuum=INCREMENTAL).

    Returns how many free pages remain; on PostgreSQL (autovacuum does this) it does nothing.
    """
    if engine.dialect.name != "sqlite":
        return 0
    raw = engine.raw_connection()  # outside the BEGIN hook: the pragma works on committed pages
    try:
        cursor = raw.cursor()
        # executescript steps the pragma to completion; a plain execute frees a single page.
        cursor.executescript(f"PRAGMA incremental_vacuum({int(pages)});")
        remaining = int(cursor.execute("PRAGMA freelist_count").fetchone()[0])
        cursor.close()
        return remaining
    finally:
        raw.close()
