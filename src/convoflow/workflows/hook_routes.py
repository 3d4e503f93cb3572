"""The Incoming Webhook receiver `POST /hooks/wf/{token}` (WF-TRG-HOOK-01..04, unauthenticated) and
the trigger's URL and signing secret under /api."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from convoflow import metrics
from convoflow.api.deps import ContainerDep, PrincipalDep, SessionDep
from convoflow.api.ids import Id
from convoflow.errors import ConvoflowError, NotFound
from convoflow.workflows import hooks
from convoflow.workflows.hooks import HookRateLimiter, HookReply, WebhookInfo

router = APIRouter(tags=["webhooks"])  # under /api
public_router = APIRouter(tags=["webhooks"])  # at the root, beside /healthz

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@router.get("/workflows/{workflow_id}/webhook", response_model=WebhookInfo)
def webhook_info(
    workflow_id: Id, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> WebhookInfo:
    """The trigger's URL and the secret for `X-Convoflow-Signature: sha256=<hex HMAC of the raw body>`."""
    return hooks.webhook_info(
        session,
        principal,
        workflow_id=workflow_id,
        secret_key=container.settings.resolved_secret_key().get_secret_value(),
        base_url=container.settings.public_base_url,
    )


@router.post("/workflows/{workflow_id}/webhook/listen", response_model=WebhookInfo)
def listen_for_test_event(
    workflow_id: Id, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> WebhookInfo:
    """WF-TRG-HOOK-03: capture the next request (within 10 minutes) without enrolling anybody."""
    info = hooks.listen_for_test_event(
        session,
        principal,
        workflow_id=workflow_id,
        secret_key=container.settings.resolved_secret_key().get_secret_value(),
        base_url=container.settings.public_base_url,
    )
    session.commit()
    return info


async def _raw_body(request: Request) -> bytes:
    return await request.body()  # the exact bytes: the signature covers them


@public_router.post("/hooks/wf/{token}", response_model=HookReply, include_in_schema=False)
def receive_webhook(
    token: str,
    request: Request,
    container: ContainerDep,
    session: SessionDep,
    body: Annotated[bytes, Depends(_raw_body)],
) -> HookReply:
    limiter: HookRateLimiter = request.app.state.hook_limiter
    try:
        if not _TOKEN.match(token):
            raise NotFound("Unknown webhook", error="unknown_webhook")
        reply = hooks.receive(
            session,
            token=token,
            body=body,
            signature=request.headers.get(hooks.SIGNATURE_HEADER),
            secret_key=container.settings.resolved_secret_key().get_secret_value(),
            limiter=limiter,
        )
        session.commit()
    except ConvoflowError as exc:
        metrics.WEBHOOK_REQUESTS.labels(status=str(exc.status)).inc()
        raise
    metrics.WEBHOOK_REQUESTS.labels(status=reply.status).inc()
    return reply
