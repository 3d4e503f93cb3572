"""A clock that only moves when told to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class FakeClock:
    def __init__(self, start: datetime | None = None) -> None:
        self._now = _aware_utc(start or datetime(2026, 1, 5, 9, 0, tzinfo=UTC))

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> datetime:
        """Moves time forward, e.g. advance(days=7)."""
        step = timedelta(**delta)
        if step < timedelta(0):
            raise ValueError("FakeClock only moves forward; use set() to go back in time")
        self._now += step
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = _aware_utc(moment)


def _aware_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("FakeClock needs an aware datetime")
    return moment.astimezone(UTC)
