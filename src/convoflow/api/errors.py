"""Every error leaves the API as one JSON body: {"code", "error", "message", "details"?}."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from starlette.exceptions import HTTPException

from convoflow.errors import ConvoflowError, RateLimited
from convoflow.observability import request_id

log = logging.getLogger("convoflow.api")

REQUEST_ID_HEADER = "X-Request-ID"

_HTTP_ERROR_IDS = {
    400: "bad_request",
    401: "unauthenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def error_response(
    status: int, error: str, message: str, details: Any = None, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    body: dict[str, Any] = {"code": status, "error": error, "message": message}
    if details is not None:
        body["details"] = jsonable_encoder(details)
    return JSONResponse(body, status_code=status, headers=headers)


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = [str(part) for part in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:] if parts[0] == "body" else parts
    return ".".join(parts) or "body"


def _validation_detail(err: Mapping[str, Any]) -> dict[str, Any]:
    if err.get("type") == "json_invalid":
        # The location of a JSON syntax error is a character offset, not a field.
        reason = (err.get("ctx") or {}).get("error")
        position = err.get("loc", ("body",))[-1]
        message = f"{reason} at position {position}" if reason else err.get("msg", "")
        return {"field": "body", "message": message, "type": "json_invalid"}
    return {
        "field": _field_path(tuple(err.get("loc", ()))),
        "message": err.get("msg", ""),
        "type": err.get("type"),
    }


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [_validation_detail(err) for err in exc.errors()]


async def _convoflow_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ConvoflowError)
    headers = None
    if isinstance(exc, RateLimited) and isinstance(exc.details, dict) and "retry_after" in exc.details:
        headers = {"Retry-After": str(max(1, int(exc.details["retry_after"])))}
    return error_response(exc.status, exc.error, exc.message, exc.details, headers=headers)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = _validation_details(exc)
    if any(d["type"] == "json_invalid" for d in details):
        return error_response(400, "malformed_json", "The request body is not valid JSON", details)
    first = details[0] if details else {"field": "body", "message": "invalid request"}
    return error_response(422, "validation_error", f"{first['field']}: {first['message']}", details)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    error = _HTTP_ERROR_IDS.get(exc.status_code, "http_error")
    return error_response(exc.status_code, error, str(exc.detail), headers=exc.headers)


async def _integrity_error(_request: Request, exc: Exception) -> JSONResponse:
    # A race lost to a concurrent request: the unique index said no. Nothing was written.
    log.info("api.integrity_conflict", extra={"detail": str(exc.__cause__ or exc)[:200]})
    return error_response(409, "conflict", "The change conflicts with a concurrent change; retry")


async def _data_error(_request: Request, exc: Exception) -> JSONResponse:
    # The database refused a value the schemas let through (a NUL character in text for PostgreSQL,
    # a number beyond its column): a bad request, never a server error. Nothing was written.
    log.info("api.data_error", extra={"detail": str(getattr(exc, "orig", exc))[:200]})
    return error_response(
        422, "invalid_value", "A value contains characters or numbers the database cannot store"
    )


async def _operational_error(request: Request, exc: Exception) -> JSONResponse:
    # SQLite's single writer was busy for the whole busy timeout: the request wrote nothing and may
    # be retried. Any other operational error (a lost connection...) is a server error.
    if "database is locked" in str(getattr(exc, "orig", exc)):
        log.warning("api.database_busy")
        return error_response(
            503, "database_busy", "The database is busy; retry in a moment", headers={"Retry-After": "1"}
        )
    return await _unexpected(request, exc)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Starlette calls this outside every middleware, after the request id's context has ended:
    # take the id from the request state so the log line and the response still carry it.
    rid: str | None = getattr(request.state, "request_id", None)
    token = request_id.set(rid)
    try:
        log.exception("api.unhandled_error", exc_info=exc)
    finally:
        request_id.reset(token)
    headers = {REQUEST_ID_HEADER: rid} if rid else None
    return error_response(500, "internal_error", "Unexpected server error", headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ConvoflowError, _convoflow_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(DataError, _data_error)
    app.add_exception_handler(OperationalError, _operational_error)
    app.add_exception_handler(Exception, _unexpected)
