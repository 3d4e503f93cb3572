"""Per-process limits on what anonymous widget users may do: new visitors, messages and uploads."""

from __future__ import annotations

import threading
from collections import deque
from datetime import datetime, timedelta

from convoflow.clock import Clock
from convoflow.errors import RateLimited


class Throttle:
    """At most `limit` hits per key within `per`; the next is refused with 429 and a Retry-After."""

    def __init__(self, clock: Clock, *, limit: int, per: timedelta, what: str) -> None:
        self._clock = clock
        self._limit = limit
        self._per = per
        self._what = what
        self._hits: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> None:
        with self._lock:
            at = self._clock.now()
            horizon = at - self._per
            if len(self._hits) > 10_000:  # forget keys that went quiet
                self._hits = {k: v for k, v in self._hits.items() if v and v[-1] > horizon}
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= horizon:
                hits.popleft()
            if len(hits) >= self._limit:
                wait = (hits[0] + self._per - at).total_seconds()
                raise RateLimited(
                    f"Too many {self._what}; try again in a moment",
                    details={"retry_after": max(1, int(wait) + 1)},
                )
            hits.append(at)


class WebchatThrottles:
    """The limits one process applies (several processes each apply their own)."""

    def __init__(self, clock: Clock) -> None:
        self.visitors = Throttle(
            clock, limit=30, per=timedelta(minutes=1), what="new chats from this address"
        )
        self.messages = Throttle(clock, limit=60, per=timedelta(minutes=1), what="messages")
        self.uploads = Throttle(clock, limit=20, per=timedelta(minutes=10), what="files")
