"""The channel webhook `POST /hooks/channels/{channel_id}/{token}` (DESIGN §1 step 1, CRM-CHAN-02).

Checks run in this order, each refusal storing nothing: 404 unknown channel or token, 410 disconnected,
413 body over 256 KB, 401 bad signature (before the body is parsed), 400 malformed body. Then one
transaction stores the messages and receipts, and the answer is 200.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from convoflow import metrics
from convoflow.api.deps import ContainerDep, SessionDep
from convoflow.channels import ingest
from convoflow.channels.base import InvalidSignature, MalformedPayload, RawRequest
from convoflow.channels.credentials import CredentialsUnreadable
from convoflow.errors import (
    ConvoflowError,
    MalformedRequest,
    NotFound,
    PayloadTooLarge,
    Unauthenticated,
)

public_router = APIRouter(tags=["webhooks"])  # at the root, beside /hooks/wf


class ChannelHookReply(BaseModel):
    status: str = "ok"
    received: int  # messages stored now
    duplicates: int  # messages an earlier delivery stored
    receipts: int  # delivery receipts that moved a status forward


async def _raw_body(request: Request) -> bytes:
    return await request.body()  # the exact bytes: signatures cover them


@public_router.post(
    "/hooks/channels/{channel_id}/{token}", response_model=ChannelHookReply, include_in_schema=False
)
def receive_channel_webhook(
    channel_id: str,
    token: str,
    request: Request,
    container: ContainerDep,
    session: SessionDep,
    body: Annotated[bytes, Depends(_raw_body)],
) -> ChannelHookReply:
    try:
        reply = _receive(channel_id, token, request, container, session, body)
    except ConvoflowError as exc:
        metrics.CHANNEL_WEBHOOK_REQUESTS.labels(status=str(exc.status)).inc()
        raise
    metrics.CHANNEL_WEBHOOK_REQUESTS.labels(status="200").inc()
    return reply


def _receive(
    channel_id: str, token: str, request: Request, container: ContainerDep, session: SessionDep, body: bytes
) -> ChannelHookReply:
    channel = ingest.webhook_channel(session, channel_id=channel_id, token=token)
    adapter = container.adapters.get(channel.kind)
    if adapter is None:
        raise NotFound("This channel takes no webhooks", error="unknown_channel")
    if len(body) > ingest.MAX_WEBHOOK_BYTES:
        raise PayloadTooLarge(f"The request body is larger than {ingest.MAX_WEBHOOK_BYTES} bytes")
    try:
        config = container.adapters.config_for(channel)
    except CredentialsUnreadable:
        # Credentials sealed under another secret key: nothing can be verified, so nothing is trusted.
        raise Unauthenticated(
            "The channel's credentials must be entered again", error="invalid_signature"
        ) from None
    raw = RawRequest(
        method=request.method,
        headers={name.lower(): value for name, value in request.headers.items()},
        body=body,
        query=dict(request.query_params),
    )
    try:
        adapter.verify(raw, config)
    except InvalidSignature as exc:
        raise Unauthenticated(str(exc), error="invalid_signature") from None
    try:
        items = adapter.parse(raw, config)
    except MalformedPayload as exc:
        raise MalformedRequest(str(exc), error="malformed_payload") from None
    result = ingest.record(session, channel=channel, items=items)
    session.commit()
    return ChannelHookReply(received=result.received, duplicates=result.duplicates, receipts=result.receipts)
