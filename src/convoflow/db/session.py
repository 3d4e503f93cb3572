"""Sessions: the unit of work. A session carries the Clock its services read "now" from."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, event
from sqlalchemy.orm import Session, sessionmaker

from convoflow.clock import Clock
from convoflow.db.engine import READONLY_OPTION

_CLOCK_KEY = "convoflow_clock"
_OUTERMOST_ONLY = frozenset({"before_commit", "after_commit"})


def _outermost_only(listener: Callable[..., Any]) -> Callable[..., Any]:
    def on_outermost(session: Session, *args: Any) -> Any:
        if not session.in_nested_transaction():
            return listener(session, *args)
        return None

    return on_outermost


class Database:
    """The engine plus the two session factories (read-write and read-only)."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock
        self._write = sessionmaker(engine, expire_on_commit=False, info={_CLOCK_KEY: clock})
        self._read = sessionmaker(
            engine.execution_options(**{READONLY_OPTION: True}),
            expire_on_commit=False,
            info={_CLOCK_KEY: clock},
        )

    def on_write_session(self, hook: str, listener: Callable[..., Any]) -> None:
        """Registers a session event listener (before_commit, after_commit...) on read-write sessions.

        SQLAlchemy also fires before_commit and after_commit when a savepoint is released; those hooks
        here mean the real transaction, so they skip savepoints.
        """
        if hook in _OUTERMOST_ONLY:
            event.listen(self._write, hook, _outermost_only(listener))
        else:
            event.listen(self._write, hook, listener)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self, *, readonly: bool = False) -> Iterator[Session]:
        """A session that rolls back whatever was not committed when the block ends."""
        session = (self._read if readonly else self._write)()
        try:
            yield session
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


def now(session: Session) -> datetime:
    """The current time from the session's Clock."""
    clock: Clock = session.info[_CLOCK_KEY]
    return clock.now()


def core(session: Session) -> Connection:
    """The session's connection, for Core statements on hot paths, after flushing pending ORM changes.

    Session.execute() sends a Core statement through the ORM's execution layer, about three times the
    cost of the statement itself on SQLite (docs/benchmarks.md); the connection runs it directly, in
    the same transaction. Flushing first keeps the order autoflush would give.
    """
    session.flush()
    return session.connection()
