"""The engine's loop services in one object: contact worker, timers, outbox relay.

`start()` runs each loop in a thread that sleeps on the wake signal (in-process notify) or a short
poll; `drain()` runs them inline until nothing is left, for tests and the benchmark's bookkeeping.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import timedelta

from convoflow.channels.registry import AdapterRegistry
from convoflow.db.session import Database
from convoflow.events.queue import WakeSignal
from convoflow.worker.contact_worker import run_contacts_once
from convoflow.worker.outbox_relay import HttpExecutor, relay_once
from convoflow.worker.pg_wakeups import listen
from convoflow.worker.timers import fire_timers_once
from convoflow.workflows.engine.registry import Registry
from convoflow.workflows.triggers.index import TriggerIndex

log = logging.getLogger("convoflow.engine")
COALESCE_SECONDS = 0.01


class Engine:
    def __init__(
        self,
        db: Database,
        *,
        registry: Registry,
        adapters: AdapterRegistry,
        wake: WakeSignal,
        http: HttpExecutor | None = None,
        lease: timedelta = timedelta(seconds=30),
        poll_seconds: float = 1.0,
        name: str | None = None,
    ) -> None:
        self.db = db
        self.registry = registry
        self.adapters = adapters
        self.wake = wake
        self.http = http
        self.lease = lease
        self.poll_seconds = poll_seconds
        self.index = TriggerIndex()
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # --- one pass of each loop ---------------------------------------------------------------
    def contacts_once(self) -> int:
        return run_contacts_once(
            self.db, worker=self.name, index=self.index, registry=self.registry, lease=self.lease
        )

    def timers_once(self) -> int:
        return fire_timers_once(self.db, registry=self.registry)

    def relay_once(self) -> int:
        return asyncio.run(
            relay_once(self.db, worker=self.name, adapters=self.adapters, http=self.http, lease=self.lease)
        )

    def drain(self, *, max_rounds: int = 1000) -> int:
        """Runs every loop until none finds work; returns the rounds taken. Never sleeps."""
        for rounds in range(1, max_rounds + 1):
            did = self.timers_once() + self.contacts_once() + self.relay_once()
            if did == 0:
                return rounds
        raise RuntimeError(f"the engine did not settle after {max_rounds} rounds")

    # --- background threads ------------------------------------------------------------------
    def start(self) -> None:
        for name, once in (
            ("contacts", self.contacts_once),
            ("timers", self.timers_once),
            ("relay", self.relay_once),
        ):
            thread = threading.Thread(
                target=self._loop, args=(name, once), name=f"convoflow-{name}", daemon=True
            )
            thread.start()
            self._threads.append(thread)
        if self.db.dialect == "postgresql":
            listener = threading.Thread(
                target=listen,
                args=(self.db.engine, self.wake, self._stop),
                name="convoflow-listen",
                daemon=True,
            )
            listener.start()
            self._threads.append(listener)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self.wake.notify()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()

    def _loop(self, name: str, once: Callable[[], int]) -> None:
        seen = self.wake.serial
        while not self._stop.is_set():
            try:
                did = once()
            except Exception:
                log.exception("engine.loop.failed", extra={"loop": name})
                did = 0
            if did == 0:
                seen = self.wake.wait(seen, self.poll_seconds)
                # Work arrives in bursts (one contact's commit, then the next): a short pause lets a
                # pass take many items in one transaction instead of one transaction per item.
                self._stop.wait(COALESCE_SECONDS)
            else:
                seen = self.wake.serial
