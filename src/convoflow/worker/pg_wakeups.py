"""Cross-process wake-ups on PostgreSQL: a commit that gives work NOTIFYs (events.queue.signal_work),
every engine LISTENs here; without it a worker in another process would see new work only at its next poll.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, cast

import psycopg
from sqlalchemy import Engine

from convoflow.events.queue import WORK_CHANNEL, WakeSignal

log = logging.getLogger("convoflow.engine")


def listen(engine: Engine, wake: WakeSignal, stop: threading.Event) -> None:
    """Relays notifications to `wake` until `stop` is set; reconnects after a lost connection."""
    while not stop.is_set():
        try:
            raw = engine.raw_connection()
            try:
                driver = cast("psycopg.Connection[Any]", raw.driver_connection)
                driver.autocommit = True
                driver.execute(f"LISTEN {WORK_CHANNEL}")
                while not stop.is_set():
                    for _ in driver.notifies(timeout=1.0):
                        wake.notify()
            finally:
                raw.invalidate()  # never hand a LISTENing connection back to the pool
        except Exception:
            log.exception("engine.listen.failed")
            stop.wait(1.0)
