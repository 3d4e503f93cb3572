"""Login rate limiting: after 10 failures in 15 minutes for one address and email, wait."""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from datetime import datetime, timedelta

from convoflow.clock import Clock
from convoflow.errors import RateLimited

MAX_FAILURES = 10
WINDOW = timedelta(minutes=15)


class LoginThrottle:
    """Per-process memory; each API process limits on its own, which still caps guessing."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._failures: dict[tuple[str, str], deque[datetime]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str]) -> deque[datetime]:
        failures = self._failures[key]
        horizon = self._clock.now() - WINDOW
        while failures and failures[0] <= horizon:
            failures.popleft()
        return failures

    def check(self, key: tuple[str, str]) -> None:
        with self._lock:
            failures = self._recent(key)
            if len(failures) >= MAX_FAILURES:
                wait = int((failures[0] + WINDOW - self._clock.now()).total_seconds()) + 1
                raise RateLimited(
                    f"Too many failed sign-ins; try again in {wait} seconds", details={"retry_after": wait}
                )

    def failed(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._recent(key).append(self._clock.now())

    def succeeded(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._failures.pop(key, None)
