"""FakeClock: time moves only when a test says so, and is always aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from convoflow.clock import SystemClock
from convoflow.testing.clock import FakeClock


def test_starts_at_a_fixed_moment_and_stands_still() -> None:
    clock = FakeClock()
    assert clock.now() == datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    assert clock.now() == clock.now()


def test_advance_moves_forward_and_returns_the_new_time() -> None:
    clock = FakeClock()
    assert clock.advance(days=7) == datetime(2026, 1, 12, 9, 0, tzinfo=UTC)
    assert clock.advance(hours=1, minutes=30, seconds=1.5) == datetime(
        2026, 1, 12, 10, 30, 1, 500000, tzinfo=UTC
    )
    assert clock.now() == datetime(2026, 1, 12, 10, 30, 1, 500000, tzinfo=UTC)
    assert clock.advance(days=14, seconds=-1) == datetime(2026, 1, 26, 10, 30, 0, 500000, tzinfo=UTC)


def test_advance_refuses_to_go_back() -> None:
    clock = FakeClock()
    with pytest.raises(ValueError, match="only moves forward"):
        clock.advance(minutes=-1)
    assert clock.now() == datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def test_set_jumps_to_a_moment_in_utc() -> None:
    clock = FakeClock()
    clock.set(datetime(2025, 12, 31, 23, 30, tzinfo=timezone(timedelta(hours=-5))))
    assert clock.now() == datetime(2026, 1, 1, 4, 30, tzinfo=UTC)
    assert clock.now().tzinfo is UTC
    clock.set(datetime(2020, 1, 1, tzinfo=UTC))  # backwards is allowed with set()
    assert clock.now() == datetime(2020, 1, 1, tzinfo=UTC)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        FakeClock(datetime(2026, 1, 1))  # noqa: DTZ001 - the point of the test
    clock = FakeClock()
    with pytest.raises(ValueError, match="aware"):
        clock.set(datetime(2026, 6, 1, 12, 0))  # noqa: DTZ001
    assert clock.now() == datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def test_a_start_in_another_zone_is_converted_to_utc() -> None:
    clock = FakeClock(datetime(2026, 3, 1, 10, 0, tzinfo=timezone(timedelta(hours=1))))
    assert clock.now() == datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    assert clock.now().tzinfo is UTC


def test_system_clock_is_aware_utc() -> None:
    moment = SystemClock().now()
    assert moment.tzinfo is UTC
