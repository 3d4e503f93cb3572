"""Login rate limiting: after 10 failures in 15 minutes for one address and email, wait."""

from __future__ import annotations

import threading
from collections import deque
from datetime import datetime, timedelta

from convoflow.clock import Clock
from convoflow.errors import RateLimited

MAX_FAILURES = 10
WINDOW = timedelta(minutes=15)

Key = tuple[str, str]  # (client address, normalised email)


class LoginThrottle:
    """Per-process memory; each API process limits on its own, which still caps guessing.

    Only keys with failures inside the window are kept: a sweep drops the others at most once per
    window, so guessing many different emails cannot grow the memory without bound.
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._failures: dict[Key, deque[datetime]] = {}
        self._lock = threading.Lock()
        self._last_sweep = clock.now()

    def __len__(self) -> int:
        """How many (address, email) keys are remembered."""
        with self._lock:
            return len(self._failures)

    def _recent(self, key: Key, at: datetime) -> deque[datetime]:
        failures = self._failures.get(key)
        if failures is None:
            return deque()
        horizon = at - WINDOW
        while failures and failures[0] <= horizon:
            failures.popleft()
        if not failures:
            del self._failures[key]
        return failures

    def _sweep(self, at: datetime) -> None:
        if at - self._last_sweep < WINDOW:
            return
        self._last_sweep = at
        horizon = at - WINDOW
        for key in [k for k, failures in self._failures.items() if not failures or failures[-1] <= horizon]:
            del self._failures[key]

    def check(self, key: Key) -> None:
        with self._lock:
            at = self._clock.now()
            failures = self._recent(key, at)
            if len(failures) >= MAX_FAILURES:
                wait = int((failures[0] + WINDOW - at).total_seconds()) + 1
                raise RateLimited(
                    f"Too many failed sign-ins; try again in {wait} seconds", details={"retry_after": wait}
                )

    def failed(self, key: Key) -> None:
        with self._lock:
            at = self._clock.now()
            self._sweep(at)
            self._recent(key, at)
            self._failures.setdefault(key, deque()).append(at)

    def succeeded(self, key: Key) -> None:
        with self._lock:
            self._failures.pop(key, None)
