"""The ASGI application: /api routes, error bodies, body limit, request ids, health."""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from sqlalchemy import text

import convoflow
from convoflow.api.errors import REQUEST_ID_HEADER, install_error_handlers
from convoflow.api.limits import BodySizeLimit
from convoflow.api.metrics import router as metrics_router
from convoflow.api.router import api_router
from convoflow.bootstrap import Container
from convoflow.channels.hook_routes import public_router as channel_hooks_router
from convoflow.channels.webchat_routes import router as webchat_router
from convoflow.channels.webchat_socket_routes import router as webchat_socket_router
from convoflow.observability import request_id
from convoflow.workflows.hook_routes import public_router as workflow_hooks_router
from convoflow.workflows.hooks import HookRateLimiter

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:/+=-]{1,128}$")


def _client_request_id(value: str | None) -> str | None:
    """A caller's X-Request-ID, kept only when short and plain (it lands in every log line)."""
    return value if value is not None and _REQUEST_ID.match(value) else None


def _operation_id(route: APIRoute) -> str:
    tag = route.tags[0] if route.tags else "default"
    return f"{tag}-{route.name}"


BackgroundLoop = Callable[[], Coroutine[Any, Any, None]]


def create_app(
    container: Container, *, background: Sequence[BackgroundLoop] = (), demo_widget_key: str | None = None
) -> FastAPI:
    """The app; `background` loops (from the composition root) run for as long as it serves.

    With `demo_widget_key` (`convoflow demo`), `/demo` serves a sample page embedding that web chat.
    """

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(loop()) for loop in background]
        yield
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app = FastAPI(
        lifespan=lifespan,
        title="convoflow",
        version=convoflow.__version__,
        description="Internal API of the convoflow web app (cookie session + CSRF, or a Bearer API token).",
        generate_unique_id_function=_operation_id,
    )
    app.state.container = container
    app.state.demo_widget_key = demo_widget_key
    app.state.hook_limiter = HookRateLimiter(container.clock)  # per process (WF-TRG-HOOK-04)
    install_error_handlers(app)
    app.include_router(api_router)
    app.include_router(workflow_hooks_router)
    app.include_router(channel_hooks_router)
    app.include_router(webchat_router)
    app.include_router(webchat_socket_router)
    app.include_router(metrics_router)

    # The middleware added last runs first: the request id wraps everything, the 413 included.
    app.add_middleware(BodySizeLimit, max_bytes=container.settings.max_body_bytes)

    @app.middleware("http")
    async def _request_id(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        rid = _client_request_id(request.headers.get(REQUEST_ID_HEADER)) or secrets.token_hex(8)
        request.state.request_id = rid  # for the 500 handler, which runs outside this middleware
        token = request_id.set(rid)
        try:
            response = await call_next(request)
        finally:
            request_id.reset(token)
        response.headers[REQUEST_ID_HEADER] = rid
        return response

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        with container.db.session(readonly=True) as session:
            session.execute(text("SELECT 1"))
        return {"status": "ok"}

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/docs")

    return app
