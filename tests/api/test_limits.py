"""Request body limit: CONVOFLOW_MAX_BODY_BYTES (default 1 MiB) → 413 payload_too_large, nothing stored."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from convoflow.api.app import create_app
from convoflow.bootstrap import build_container
from convoflow.settings import Settings
from convoflow.testing.clock import FakeClock
from tests.api.conftest import team_names
from tests.support import World, assert_error, login

JSON = {"content-type": "application/json"}
SMALL_LIMIT = 2048


def _team_body(size: int, name: str = "Ventas") -> bytes:
    """A valid team body of exactly `size` bytes (JSON allows trailing whitespace)."""
    body = f'{{"name": "{name}"}}'.encode()
    assert len(body) <= size
    return body + b" " * (size - len(body))


def _chunks(body: bytes, size: int = 1000) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


@pytest.fixture
def small_limit(settings: Settings, clock: FakeClock, world: World) -> Iterator[TestClient]:
    """An app of its own over the same database, with max_body_bytes lowered to 2 KiB."""
    container = build_container(settings.model_copy(update={"max_body_bytes": SMALL_LIMIT}), clock=clock)
    with TestClient(create_app(container)) as small:
        login(small, world.owner)
        yield small
    container.close()


def test_default_limit_is_one_mebibyte(settings: Settings) -> None:
    assert settings.max_body_bytes == 1024 * 1024


def test_declared_content_length_over_the_limit_is_413(
    owner: TestClient, session: Session, world: World
) -> None:
    response = owner.post("/api/teams", content=_team_body(1024 * 1024 + 1), headers=JSON)
    body = assert_error(response, 413, "payload_too_large")
    assert body["message"] == "The request body is larger than 1048576 bytes"
    assert response.request.headers["content-length"] == str(1024 * 1024 + 1)
    assert team_names(session, world.workspace.id) == []


def test_streamed_body_without_content_length_over_the_limit_is_413(
    owner: TestClient, session: Session, world: World
) -> None:
    response = owner.post("/api/teams", content=_chunks(_team_body(1024 * 1024 + 1), 64 * 1024), headers=JSON)
    assert "content-length" not in response.request.headers  # sent chunked: only the stream tells the size
    assert_error(response, 413, "payload_too_large")
    assert team_names(session, world.workspace.id) == []


def test_a_body_within_the_default_limit_is_accepted(
    owner: TestClient, session: Session, world: World
) -> None:
    response = owner.post("/api/teams", content=_chunks(_team_body(1024 * 1024), 256 * 1024), headers=JSON)
    assert response.status_code == 201, response.text
    assert team_names(session, world.workspace.id) == ["Ventas"]


def test_a_lower_configured_limit_is_honoured(
    small_limit: TestClient, session: Session, world: World
) -> None:
    declared = small_limit.post("/api/teams", content=_team_body(SMALL_LIMIT + 1, "Declared"), headers=JSON)
    body = assert_error(declared, 413, "payload_too_large")
    assert str(SMALL_LIMIT) in body["message"]
    streamed = small_limit.post(
        "/api/teams", content=_chunks(_team_body(SMALL_LIMIT + 1, "Streamed")), headers=JSON
    )
    assert "content-length" not in streamed.request.headers
    assert_error(streamed, 413, "payload_too_large")
    assert team_names(session, world.workspace.id) == []


def test_a_body_of_exactly_the_limit_is_accepted_whole(
    small_limit: TestClient, session: Session, world: World
) -> None:
    # Declared and streamed in several chunks: the route sees the whole body, replayed intact.
    declared = small_limit.post("/api/teams", content=_team_body(SMALL_LIMIT, "Declared"), headers=JSON)
    assert declared.status_code == 201, declared.text
    streamed = small_limit.post(
        "/api/teams", content=_chunks(_team_body(SMALL_LIMIT, "Streamed"), 300), headers=JSON
    )
    assert streamed.status_code == 201, streamed.text
    assert team_names(session, world.workspace.id) == ["Declared", "Streamed"]


def test_requests_without_a_body_pass_the_limit(small_limit: TestClient) -> None:
    response = small_limit.get("/api/teams")
    assert response.status_code == 200 and response.json() == []
    assert small_limit.get("/healthz").json() == {"status": "ok"}


def test_the_limit_applies_before_authentication(client: TestClient, session: Session, world: World) -> None:
    # Nobody can make the server buffer a huge body, signed in or not.
    response = client.post("/api/auth/login", content=b"{" + b" " * (1024 * 1024) + b"}", headers=JSON)
    assert_error(response, 413, "payload_too_large")
    assert team_names(session, world.workspace.id) == []
