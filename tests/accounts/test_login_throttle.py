"""Login throttling: 10 failed sign-ins per address and email in 15 minutes, then 429."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from convoflow.accounts.login_throttle import MAX_FAILURES, WINDOW, LoginThrottle
from convoflow.bootstrap import Container
from convoflow.errors import RateLimited
from convoflow.testing.clock import FakeClock
from convoflow.testing.factories import DEFAULT_PASSWORD
from tests.accounts.helpers import all_logins
from tests.support import assert_error, login, seed_world

KEY = ("10.0.0.1", "ana@example.com")


def _fail(client: TestClient, email: str, times: int) -> None:
    for _ in range(times):
        response = client.post("/api/auth/login", json={"email": email, "password": "wrong password"})
        assert_error(response, 401, "invalid_credentials")


def test_eleventh_attempt_within_15_minutes_is_429_then_passes_after_the_window(
    client: TestClient, session: Session, container: Container, clock: FakeClock
) -> None:
    world = seed_world(session, container.hasher)
    _fail(client, world.owner.email, 10)
    # Even the right password is refused now, and no session is opened.
    right = {"email": world.owner.email, "password": DEFAULT_PASSWORD}
    refused = client.post("/api/auth/login", json=right)
    body = assert_error(refused, 429, "rate_limited")
    assert body["details"]["retry_after"] == 15 * 60 + 1
    assert refused.headers["Retry-After"] == str(15 * 60 + 1)
    assert all_logins(session) == []
    clock.advance(minutes=14, seconds=59)
    assert_error(client.post("/api/auth/login", json=right), 429, "rate_limited")
    clock.advance(seconds=1)
    response = client.post("/api/auth/login", json=right)
    assert response.status_code == 200, response.text
    assert len(all_logins(session)) == 1


def test_throttle_is_per_email_and_ignores_case(
    client: TestClient, session: Session, container: Container
) -> None:
    world = seed_world(session, container.hasher)
    _fail(client, world.owner.email.upper(), 10)
    assert_error(
        client.post(
            "/api/auth/login", json={"email": f" {world.owner.email} ", "password": DEFAULT_PASSWORD}
        ),
        429,
        "rate_limited",
    )
    # Another account from the same address is not affected.
    login(client, world.manager)
    assert [login.user_id for login in all_logins(session)] == [world.manager.id]


def test_unknown_emails_are_throttled_too(client: TestClient, session: Session, container: Container) -> None:
    seed_world(session, container.hasher)
    _fail(client, "nobody@example.com", 10)
    response = client.post("/api/auth/login", json={"email": "nobody@example.com", "password": "x" * 8})
    assert_error(response, 429, "rate_limited")


def test_a_successful_sign_in_resets_the_count(
    client: TestClient, session: Session, container: Container
) -> None:
    world = seed_world(session, container.hasher)
    _fail(client, world.owner.email, 9)
    login(client, world.owner)
    _fail(client, world.owner.email, 9)
    login(client, world.owner)
    assert len(all_logins(session)) == 2


def test_failures_slide_out_of_the_window(clock: FakeClock) -> None:
    throttle = LoginThrottle(clock)
    for _ in range(MAX_FAILURES - 1):
        throttle.failed(KEY)
    clock.advance(minutes=10)
    throttle.failed(KEY)
    with pytest.raises(RateLimited) as limited:
        throttle.check(KEY)
    assert limited.value.details == {"retry_after": 5 * 60 + 1}
    clock.advance(minutes=5)  # the first nine are now 15 minutes old
    throttle.check(KEY)
    throttle.failed(KEY)
    throttle.check(KEY)  # two recent failures only


def test_keys_are_independent_and_success_forgets(clock: FakeClock) -> None:
    throttle = LoginThrottle(clock)
    for _ in range(MAX_FAILURES):
        throttle.failed(KEY)
    with pytest.raises(RateLimited):
        throttle.check(KEY)
    throttle.check(("10.0.0.2", KEY[1]))
    throttle.check((KEY[0], "other@example.com"))
    throttle.succeeded(KEY)
    throttle.check(KEY)


def test_memory_holds_only_keys_with_recent_failures(clock: FakeClock) -> None:
    # Checking never remembers a key; failures older than the window are swept away.
    throttle = LoginThrottle(clock)
    for n in range(200):
        throttle.check(("10.0.0.1", f"probe{n}@example.com"))
    assert len(throttle) == 0
    for n in range(200):
        throttle.failed(("10.0.0.1", f"guess{n}@example.com"))
    assert len(throttle) == 200
    clock.advance(seconds=WINDOW.total_seconds())
    throttle.failed(KEY)
    assert len(throttle) == 1
    throttle.succeeded(KEY)
    assert len(throttle) == 0
