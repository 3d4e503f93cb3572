"""GET /openapi.json documents the /api routes with unique "{tag}-{name}" operation ids."""

from __future__ import annotations

import re
from typing import Any

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from convoflow.api.router import FEATURE_ROUTERS

METHODS = {"get", "post", "put", "patch", "delete"}


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in doc["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def test_openapi_lists_every_api_route(client: TestClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["info"]["title"] == "convoflow"
    documented = {(method, path) for method, path, _ in _operations(doc)}
    expected = {
        (method.lower(), f"/api{route.path}")
        for feature in FEATURE_ROUTERS
        for route in feature.routes
        if isinstance(route, APIRoute) and route.include_in_schema
        for method in route.methods or ()
    }
    assert len(expected) > 50
    assert expected <= documented
    for route in [
        ("get", "/api/teams"),
        ("post", "/api/teams/{team_id}/members"),
        ("get", "/api/channels"),
        ("post", "/api/closing-categories"),
        ("get", "/api/workflows"),
        ("post", "/api/workflows/{workflow_id}/publish"),
        ("get", "/api/workflow-templates"),
        ("get", "/healthz"),
    ]:
        assert route in documented
    # Only /api routes and the health check are documented (not "/" nor the docs pages).
    assert {path for _, path in documented} - {"/healthz"} == {
        p for _, p in documented if p.startswith("/api/")
    }


def test_operation_ids_are_unique_and_tag_dash_name(client: TestClient) -> None:
    operations = _operations(client.get("/openapi.json").json())
    ids = [operation["operationId"] for _, _, operation in operations]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    for method, path, operation in operations:
        tags = operation.get("tags")
        assert tags and len(tags) == 1, (method, path)
        assert re.fullmatch(rf"{re.escape(tags[0])}-[a-z][a-z0-9_]*", operation["operationId"]), (
            method,
            path,
        )
    by_id = {operation["operationId"]: (method, path) for method, path, operation in operations}
    assert by_id["teams-create_team"] == ("post", "/api/teams")
    assert by_id["channels-list_channels"] == ("get", "/api/channels")
    assert by_id["health-healthz"] == ("get", "/healthz")
    assert by_id["workflows-publish_workflow"] == ("post", "/api/workflows/{workflow_id}/publish")


def test_error_responses_and_id_bounds_are_documented(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    get_team = doc["paths"]["/api/teams/{team_id}"]["get"]
    team_id = next(p for p in get_team["parameters"] if p["name"] == "team_id")
    assert team_id["schema"]["minimum"] == 1 and team_id["schema"]["maximum"] == 2**63 - 1
    assert "422" in get_team["responses"]


def test_the_workflow_import_documents_its_raw_json_body(client: TestClient) -> None:
    # POST /api/workflows/import reads the exported file as the raw body (WF-IO-04).
    doc = client.get("/openapi.json").json()
    body = doc["paths"]["/api/workflows/import"]["post"]["requestBody"]
    assert body["required"] is True
    assert body["content"]["application/json"]["schema"] == {"type": "object"}
