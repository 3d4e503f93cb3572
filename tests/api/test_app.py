"""The application shell: request ids, health check, the root redirect, background loops."""

from __future__ import annotations

import asyncio
import logging
import re

import pytest
from fastapi.testclient import TestClient

from convoflow.api.app import create_app
from convoflow.bootstrap import Container
from convoflow.observability import request_id
from tests.support import assert_error

GENERATED = re.compile(r"^[0-9a-f]{16}$")


def test_request_id_is_echoed(client: TestClient) -> None:
    for rid in ["abc-123", "3f2c9a1e-7b4d-4c11-9a0e-2b6d8f1c0e55", "trace.id:1/2+3=4_5"]:
        response = client.get("/healthz", headers={"X-Request-ID": rid})
        assert response.headers["x-request-id"] == rid


def test_request_id_is_generated_when_missing(client: TestClient) -> None:
    first = client.get("/healthz").headers["x-request-id"]
    second = client.get("/healthz").headers["x-request-id"]
    assert GENERATED.match(first) and GENERATED.match(second) and first != second


@pytest.mark.parametrize("sent", ["x" * 129, "two words", "semi;colon", 'quote"d'])
def test_unsafe_request_id_is_replaced(client: TestClient, sent: str) -> None:
    # The id lands in every log line: only short plain ids are kept.
    received = client.get("/healthz", headers={"X-Request-ID": sent}).headers["x-request-id"]
    assert received != sent and GENERATED.match(received)


def test_error_responses_carry_the_request_id(client: TestClient) -> None:
    headers = {"X-Request-ID": "req-1", "content-type": "application/json"}
    not_found = client.get("/api/nope", headers=headers)
    assert_error(not_found, 404, "not_found")
    assert not_found.headers["x-request-id"] == "req-1"
    unauthenticated = client.get("/api/teams", headers=headers)
    assert_error(unauthenticated, 401, "unauthenticated")
    assert unauthenticated.headers["x-request-id"] == "req-1"
    too_large = client.post("/api/teams", content=b" " * (2 * 1024 * 1024), headers=headers)
    assert_error(too_large, 413, "payload_too_large")
    assert too_large.headers["x-request-id"] == "req-1"


def test_unexpected_errors_carry_the_request_id_in_response_and_log(
    container: Container, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(container)

    def boom() -> None:
        raise RuntimeError("kaboom")

    app.add_api_route("/boom", boom, methods=["GET"])
    seen: list[str | None] = []

    def remember(record: logging.LogRecord) -> bool:
        if record.getMessage() == "api.unhandled_error":
            seen.append(request_id.get())
        return True

    caplog.handler.addFilter(remember)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom", headers={"X-Request-ID": "req-500"})
    body = assert_error(response, 500, "internal_error")
    assert "kaboom" not in response.text and body["message"] == "Unexpected server error"
    assert response.headers["x-request-id"] == "req-500"
    assert seen == ["req-500"]


def test_healthz_checks_the_database_and_needs_no_sign_in(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_root_redirects_to_the_api_docs(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code in (302, 307)
    assert response.headers["location"] == "/docs"
    docs = client.get("/")
    assert docs.status_code == 200 and "text/html" in docs.headers["content-type"]
    assert "/openapi.json" in docs.text


def test_background_loops_run_while_serving_and_stop_after(container: Container) -> None:
    started = 0
    cancelled = 0

    async def loop() -> None:
        nonlocal started, cancelled
        started += 1
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled += 1
            raise

    with TestClient(create_app(container, background=[loop, loop])) as client:
        assert client.get("/healthz").status_code == 200
        assert started == 2 and cancelled == 0
    assert cancelled == 2
