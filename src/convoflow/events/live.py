"""Live hints: which contacts changed, told after commit to whoever holds a live connection.

A hint carries no data: a listener reads what it shows from the database, which stays the only source
of truth (DESIGN §5, "Live inbox hints"). Hints cross threads, since the engine's loops run in their
own threads, but not processes: a listener in another process than the writer learns of a change by
polling on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterable

from sqlalchemy.orm import Session

_CHANGED = "convoflow_changed_contacts"


def note(session: Session, contact_id: int) -> None:
    """Remembers that this transaction changed the contact, to hint listeners once it commits."""
    changed: set[int] = session.info.setdefault(_CHANGED, set())
    changed.add(contact_id)


def forget(session: Session) -> None:
    """after_rollback hook: nothing changed."""
    session.info.pop(_CHANGED, None)


class Listener:
    """One live connection's wake-up: set from any thread, awaited in the connection's event loop."""

    def __init__(self, hints: ContactHints, loop: asyncio.AbstractEventLoop) -> None:
        self._hints = hints
        self._loop = loop
        self._event = asyncio.Event()
        self.contact_id: int | None = None

    def follow(self, contact_id: int | None) -> None:
        """Listens to this contact's changes from now on (and to no other)."""
        if contact_id != self.contact_id:
            self._hints._move(self, self.contact_id, contact_id)
            self.contact_id = contact_id

    def poke(self) -> None:
        """Wakes the listener from any thread; a wake-up for a loop already closed is dropped."""
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._event.set)

    def arm(self) -> None:
        """Forgets earlier pokes; call it just before reading, so a change committed during the read
        still wakes the next `wait` (clearing after the wait could drop a poke that came meanwhile)."""
        self._event.clear()

    async def wait(self, timeout: float) -> bool:
        """True when poked since `arm()`, False when `timeout` seconds passed first."""
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except TimeoutError:
            return False
        return True

    def close(self) -> None:
        self.follow(None)


class ContactHints:
    """The process's listeners by contact id; `after_commit` is a session hook (see bootstrap)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: dict[int, set[Listener]] = {}

    def listener(self) -> Listener:
        """A listener bound to the running event loop."""
        return Listener(self, asyncio.get_running_loop())

    def publish(self, contact_ids: Iterable[int]) -> None:
        with self._lock:
            woken = [listener for cid in contact_ids for listener in self._listeners.get(cid, ())]
        for listener in woken:
            listener.poke()

    def after_commit(self, session: Session) -> None:
        """Registered through Database.on_write_session, which skips savepoint releases: the changes
        are visible to others only once the outer transaction commits."""
        changed: set[int] | None = session.info.pop(_CHANGED, None)
        if changed:
            self.publish(changed)

    def _move(self, listener: Listener, old: int | None, new: int | None) -> None:
        with self._lock:
            if old is not None:
                remaining = self._listeners.get(old, set())
                remaining.discard(listener)
                if not remaining:
                    self._listeners.pop(old, None)
            if new is not None:
                self._listeners.setdefault(new, set()).add(listener)
