"""GET /metrics: the Prometheus text format, behind a bearer token or for loopback clients only."""

from __future__ import annotations

import hmac
import ipaddress

from fastapi import APIRouter, Request, Response

from convoflow import metrics
from convoflow.api.deps import ContainerDep
from convoflow.errors import PermissionDenied, Unauthenticated

router = APIRouter()

_PROXY_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")


def _is_loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_access(request: Request, token: str | None) -> None:
    """With a token: `Authorization: Bearer <token>`. Without: a direct loopback connection only, since a
    reverse proxy on the same host makes every public request look local (but adds its headers)."""
    if token is not None:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
            raise Unauthenticated(
                "Use 'Authorization: Bearer <CONVOFLOW_METRICS_TOKEN>'", error="invalid_token"
            )
        return
    client = request.client.host if request.client else None
    if not _is_loopback(client) or any(h in request.headers for h in _PROXY_HEADERS):
        raise PermissionDenied(
            "Set CONVOFLOW_METRICS_TOKEN to scrape /metrics from another host", error="metrics_forbidden"
        )


@router.get("/metrics", include_in_schema=False)
def prometheus_metrics(request: Request, container: ContainerDep) -> Response:
    secret = container.settings.metrics_token
    _check_access(request, None if secret is None else secret.get_secret_value())
    with container.db.session(readonly=True) as session:
        body = metrics.exposition(session)
    return Response(body, media_type=metrics.CONTENT_TYPE)
