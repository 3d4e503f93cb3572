"""Every error leaves the API as JSON {"code", "error", "message", "details"?} (API-ERR-01, decisions.md)."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException

from convoflow.api.errors import install_error_handlers
from convoflow.bootstrap import Container
from convoflow.errors import Conflict, ContactBusy, RateLimited, field_error
from convoflow.teams import service as teams_service
from tests.api.conftest import team_names
from tests.support import World, assert_error, login, seed_world

JSON = {"content-type": "application/json"}


@pytest.mark.parametrize("path", ["/api/nope", "/nope", "/api/teams/1/nope", "/api"])
def test_unknown_route_is_json_404(owner: TestClient, path: str) -> None:
    response = owner.get(path)
    assert_error(response, 404, "not_found")
    assert response.headers["content-type"] == "application/json"
    assert set(response.json()) == {"code", "error", "message"}


def test_unknown_route_is_404_even_unauthenticated(client: TestClient) -> None:
    assert_error(client.post("/api/nope", json={}), 404, "not_found")


def test_wrong_method_is_json_405_with_an_allow_header(
    owner: TestClient, session: Session, world: World
) -> None:
    response = owner.put("/api/teams", json={"name": "Ventas"})
    assert_error(response, 405, "method_not_allowed")
    assert response.headers["allow"]
    assert_error(owner.post("/healthz"), 405, "method_not_allowed")
    assert team_names(session, world.workspace.id) == []


@pytest.mark.parametrize(
    "raw",
    [
        b"{bad",
        b'{"name": "Ventas"',
        b'{"name": Ventas}',
        b"\xff\xfe{}",
        b"{'name': 'Ventas'}",
        b'{"name": "Ventas"}}',
    ],
)
def test_malformed_json_is_400_and_nothing_is_stored(
    owner: TestClient, session: Session, world: World, raw: bytes
) -> None:
    body = assert_error(owner.post("/api/teams", content=raw, headers=JSON), 400, "malformed_json")
    # The location of a syntax error is a character offset, reported in the message, not as a field.
    assert [d["field"] for d in body["details"]] == ["body"]
    assert "position" in body["details"][0]["message"]
    assert team_names(session, world.workspace.id) == []


@pytest.mark.parametrize("raw", [b"[]", b'[{"name": "Ventas"}]', b'"Ventas"', b"42", b"null"])
def test_json_that_is_not_an_object_is_422(
    owner: TestClient, session: Session, world: World, raw: bytes
) -> None:
    body = assert_error(owner.post("/api/teams", content=raw, headers=JSON), 422, "validation_error")
    assert [d["field"] for d in body["details"]] == ["body"]
    assert team_names(session, world.workspace.id) == []


def test_empty_json_body_is_422_body_required(owner: TestClient, session: Session, world: World) -> None:
    body = assert_error(owner.post("/api/teams", content=b"", headers=JSON), 422, "validation_error")
    assert body["details"][0]["field"] == "body" and body["details"][0]["type"] == "missing"
    assert team_names(session, world.workspace.id) == []


def test_wrong_field_types_and_unknown_fields_are_listed_one_by_one(
    owner: TestClient, session: Session, world: World
) -> None:
    response = owner.post("/api/teams", json={"name": 5, "description": ["x"], "colour": "red", "icon": None})
    body = assert_error(response, 422, "validation_error")
    details = {d["field"]: d["type"] for d in body["details"]}
    assert details == {
        "name": "string_type",
        "description": "string_type",
        "colour": "extra_forbidden",
        "icon": "extra_forbidden",
    }
    assert all(isinstance(d["message"], str) and d["message"] for d in body["details"])
    assert body["message"] == f"name: {body['details'][0]['message']}"
    assert team_names(session, world.workspace.id) == []


def test_invalid_query_and_path_values_name_their_location(owner: TestClient) -> None:
    body = assert_error(owner.get("/api/teams/abc"), 422, "validation_error")
    assert [d["field"] for d in body["details"]] == ["path.team_id"]
    body = assert_error(owner.get("/api/contacts?limit=lots"), 422, "validation_error")
    assert [d["field"] for d in body["details"]] == ["query.limit"]


def test_unauthenticated_requests_are_401(client: TestClient, session: Session, world: World) -> None:
    # CRM-TOKEN-01: a cookie session or a Bearer token.
    assert_error(client.get("/api/teams"), 401, "unauthenticated")
    assert_error(client.post("/api/teams", json={"name": "Ventas"}), 401, "unauthenticated")
    assert_error(
        client.get("/api/teams", headers={"Authorization": "Basic dXNlcjpwdw=="}), 401, "invalid_token"
    )
    assert_error(client.get("/api/teams", headers={"Authorization": "Bearer "}), 401, "invalid_token")
    assert_error(
        client.get("/api/teams", headers={"Authorization": "Bearer cfk_nope_nope"}), 401, "invalid_token"
    )
    client.cookies.set("convoflow_session", "forged")
    assert_error(client.get("/api/teams"), 401, "session_expired")
    assert team_names(session, world.workspace.id) == []


def test_a_lost_unique_index_race_is_409_and_writes_nothing(
    owner: TestClient, session: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As if a concurrent request created the same name between the check and the insert.
    assert owner.post("/api/teams", json={"name": "Ventas"}).status_code == 201
    monkeypatch.setattr(teams_service, "_check_name_free", lambda *args, **kwargs: None)
    response = owner.post("/api/teams", json={"name": "VENTAS"})
    body = assert_error(response, 409, "conflict")
    assert "details" not in body and "IntegrityError" not in response.text and "teams" not in body["message"]
    assert team_names(session, world.workspace.id) == ["Ventas"]
    # The API keeps working after the failed transaction.
    assert owner.post("/api/teams", json={"name": "Soporte"}).status_code == 201


# The handlers on a small app of our own ----------------------------------------------------------------


def _app_raising(exc: BaseException) -> TestClient:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    def boom() -> dict[str, Any]:
        raise exc

    return TestClient(app, raise_server_exceptions=False)


def test_unexpected_exception_is_500_without_traceback(caplog: pytest.LogCaptureFixture) -> None:
    secret = "password=hunter2 at /srv/convoflow/secret.py line 42"
    response = _app_raising(RuntimeError(secret)).get("/boom")
    body = assert_error(response, 500, "internal_error")
    assert body == {"code": 500, "error": "internal_error", "message": "Unexpected server error"}
    assert (
        "hunter2" not in response.text
        and "Traceback" not in response.text
        and "RuntimeError" not in response.text
    )
    # The details go to the log instead.
    logged = [r for r in caplog.records if r.getMessage() == "api.unhandled_error"]
    assert len(logged) == 1 and logged[0].exc_info is not None and logged[0].exc_info[1] is not None
    assert secret in str(logged[0].exc_info[1])


def test_integrity_error_handler_is_409_conflict() -> None:
    exc = IntegrityError("INSERT INTO teams ...", {}, Exception("UNIQUE constraint failed: teams.name_norm"))
    response = _app_raising(exc).get("/boom")
    body = assert_error(response, 409, "conflict")
    assert "UNIQUE" not in response.text and "INSERT" not in response.text
    assert set(body) == {"code", "error", "message"}


def test_a_busy_sqlite_writer_is_503_with_retry_after() -> None:
    # SQLite's single writer stayed busy for the whole busy timeout: nothing was written, retry later
    exc = OperationalError("BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked"))
    response = _app_raising(exc).get("/boom")
    body = assert_error(response, 503, "database_busy")
    assert response.headers["Retry-After"] == "1"
    assert set(body) == {"code", "error", "message"} and "BEGIN" not in response.text


def test_other_operational_errors_stay_500() -> None:
    exc = OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))
    response = _app_raising(exc).get("/boom")
    assert_error(response, 500, "internal_error")
    assert "server closed" not in response.text


@pytest.mark.parametrize(
    ("exc", "status", "error", "details"),
    [
        (
            Conflict("Taken", error="team_name_taken", details={"team": {"id": 1}}),
            409,
            "team_name_taken",
            {"team": {"id": 1}},
        ),
        (
            field_error("name", "name is bad"),
            422,
            "validation_error",
            [{"field": "name", "message": "name is bad"}],
        ),
        (RateLimited("Slow down"), 429, "rate_limited", None),
        (ContactBusy("Busy"), 449, "contact_busy", None),
    ],
)
def test_domain_errors_keep_status_id_and_details(
    exc: Exception, status: int, error: str, details: Any
) -> None:
    body = assert_error(_app_raising(exc).get("/boom"), status, error)
    assert body.get("details") == details
    assert body["message"] == str(exc)


@pytest.mark.parametrize(
    ("status", "error"), [(404, "not_found"), (418, "http_error"), (415, "unsupported_media_type")]
)
def test_http_exceptions_get_the_json_body(status: int, error: str) -> None:
    response = _app_raising(HTTPException(status, "Nope", headers={"X-Extra": "1"})).get("/boom")
    body = assert_error(response, status, error)
    assert body["message"] == "Nope" and response.headers["x-extra"] == "1"


def test_error_bodies_are_plain_json_objects(owner: TestClient) -> None:
    # The 413 is written by a raw ASGI middleware; it must be the same shape as the others.
    raw = owner.post("/api/teams", content=b"x" * (2 * 1024 * 1024), headers=JSON)
    parsed = json.loads(raw.content)
    assert set(parsed) == {"code", "error", "message"} and parsed["code"] == 413


def test_text_the_database_cannot_store_is_422_not_500(
    client: TestClient, session: Session, container: Container
) -> None:
    # A NUL character is valid JSON but PostgreSQL text refuses it; SQLite stores it. Either way no 500.
    world = seed_world(session, container.hasher)
    login(client, world.owner)
    response = client.get("/api/contacts", params={"search": "a\x00b"})
    if container.db.dialect == "postgresql":
        assert_error(response, 422, "invalid_value")
    else:
        assert response.status_code == 200 and response.json()["items"] == []
    refused = client.post("/api/teams", json={"name": "Ventas", "description": "x\x00y"})
    assert_error(refused, 422, "validation_error")
