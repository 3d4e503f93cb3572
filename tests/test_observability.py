"""Logging: JSON lines and console lines carry the request id; the app sets and echoes it."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from convoflow.observability import configure_logging, request_id


@pytest.fixture(autouse=True)
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def _json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_json_lines_carry_the_request_id(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("info", "json")
    log = logging.getLogger("convoflow.test")
    token = request_id.set("req-123")
    try:
        log.info("contact %s updated", 7, extra={"contact_id": 7})
    finally:
        request_id.reset(token)
    log.info("outside any request")

    inside, outside = _json_lines(capsys.readouterr().err)
    assert inside["event"] == "contact 7 updated"
    assert inside["request_id"] == "req-123"
    assert inside["contact_id"] == 7
    assert inside["level"] == "info" and inside["logger"] == "convoflow.test"
    assert inside["at"].endswith("+00:00")
    assert "request_id" not in outside  # no null noise outside requests


def test_json_lines_keep_exceptions_and_their_own_keys(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", "json")
    log = logging.getLogger("convoflow.test")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        log.exception("failed", extra={"event": "spoofed", "level": "debug"})
    (entry,) = _json_lines(capsys.readouterr().err)
    assert entry["event"] == "failed" and entry["level"] == "error"
    assert "RuntimeError: boom" in entry["exc"]


def test_console_lines_carry_the_request_id(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", "console")
    log = logging.getLogger("convoflow.test")
    token = request_id.set("abc123")
    try:
        log.warning("slow query")
    finally:
        request_id.reset(token)
    log.warning("no request")
    first, second = capsys.readouterr().err.splitlines()
    assert first.endswith("WARNING convoflow.test slow query [abc123]")
    assert second.endswith("WARNING convoflow.test no request")


def test_level_filters_lines(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("WARNING", "json")
    logging.getLogger("convoflow.test").info("hidden")
    logging.getLogger("convoflow.test").warning("shown")
    assert [e["event"] for e in _json_lines(capsys.readouterr().err)] == ["shown"]


def test_the_app_echoes_or_creates_a_request_id(client: TestClient) -> None:
    given = client.get("/healthz", headers={"X-Request-ID": "from-the-proxy"})
    assert given.status_code == 200 and given.json() == {"status": "ok"}
    assert given.headers["X-Request-ID"] == "from-the-proxy"
    created = client.get("/healthz")
    generated = created.headers["X-Request-ID"]
    assert len(generated) == 16 and int(generated, 16) >= 0
    assert client.get("/healthz").headers["X-Request-ID"] != generated
    assert request_id.get() is None  # nothing leaks out of the request
