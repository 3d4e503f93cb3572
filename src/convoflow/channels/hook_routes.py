"""The channel webhook `POST /hooks/channels/{channel_id}/{token}` (DESIGN §1 step 1, CRM-CHAN-02).

Checks run in this order, each refusal storing nothing: 404 unknown channel or token, 410 disconnected,
413 body over 256 KB, 401 bad signature (before the body is parsed), 400 malformed body. Then one
transaction stores the messages and receipts, and the answer is 200: our JSON counts, or the body the
provider expects (Twilio's empty TwiML). `GET` on the same URL answers a provider's subscription check
(Meta's `hub.challenge`) for adapters that take one.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel

from convoflow import metrics
from convoflow.api.deps import ContainerDep, SessionDep
from convoflow.channels import ingest
from convoflow.channels.base import (
    Acknowledges,
    AnswersChallenge,
    ChannelAdapter,
    ChannelConfig,
    InvalidSignature,
    MalformedPayload,
    RawRequest,
)
from convoflow.channels.credentials import CredentialsUnreadable
from convoflow.channels.models import Channel
from convoflow.errors import (
    ConvoflowError,
    MalformedRequest,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
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
) -> ChannelHookReply | Response:
    try:
        reply = _receive(channel_id, token, request, container, session, body)
    except ConvoflowError as exc:
        metrics.CHANNEL_WEBHOOK_REQUESTS.labels(status=str(exc.status)).inc()
        raise
    metrics.CHANNEL_WEBHOOK_REQUESTS.labels(status="200").inc()
    return reply


@public_router.get("/hooks/channels/{channel_id}/{token}", include_in_schema=False)
def answer_channel_challenge(
    channel_id: str, token: str, request: Request, container: ContainerDep, session: SessionDep
) -> Response:
    """A provider checking our webhook URL before it posts to it; 403 when the check does not match."""
    channel, adapter = _channel(channel_id, token, container, session)
    config = _config(container, channel)
    if not isinstance(adapter, AnswersChallenge):
        raise NotFound("This channel takes no subscription checks", error="unknown_channel")
    try:
        reply = adapter.challenge(_raw(request, b""), config)
    except InvalidSignature as exc:
        raise PermissionDenied(str(exc), error="invalid_verify_token") from None
    return Response(reply.body, media_type=reply.media_type)


def _channel(
    channel_id: str, token: str, container: ContainerDep, session: SessionDep
) -> tuple[Channel, ChannelAdapter]:
    channel = ingest.webhook_channel(session, channel_id=channel_id, token=token)
    adapter = container.adapters.get(channel.kind)
    if adapter is None:
        raise NotFound("This channel takes no webhooks", error="unknown_channel")
    return channel, adapter


def _config(container: ContainerDep, channel: Channel) -> ChannelConfig:
    try:
        return container.adapters.config_for(channel)
    except CredentialsUnreadable:
        # Credentials sealed under another secret key: nothing can be verified, so nothing is trusted.
        raise Unauthenticated(
            "The channel's credentials must be entered again", error="invalid_signature"
        ) from None


def _raw(request: Request, body: bytes) -> RawRequest:
    return RawRequest(
        method=request.method,
        headers={name.lower(): value for name, value in request.headers.items()},
        body=body,
        query=dict(request.query_params),
    )


def _receive(
    channel_id: str, token: str, request: Request, container: ContainerDep, session: SessionDep, body: bytes
) -> ChannelHookReply | Response:
    channel, adapter = _channel(channel_id, token, container, session)
    if len(body) > ingest.MAX_WEBHOOK_BYTES:
        raise PayloadTooLarge(f"The request body is larger than {ingest.MAX_WEBHOOK_BYTES} bytes")
    config = _config(container, channel)
    raw = _raw(request, body)
    try:
        adapter.verify(raw, config)
    except InvalidSignature as exc:
        raise Unauthenticated(str(exc), error="invalid_signature") from None
    except MalformedPayload as exc:  # a provider that signs parsed fields (Twilio) reads them first
        raise MalformedRequest(str(exc), error="malformed_payload") from None
    try:
        items = adapter.parse(raw, config)
    except MalformedPayload as exc:
        raise MalformedRequest(str(exc), error="malformed_payload") from None
    result = ingest.record(session, channel=channel, items=items)
    session.commit()
    if isinstance(adapter, Acknowledges):
        reply = adapter.acknowledge(raw)
        return Response(reply.body, media_type=reply.media_type)
    return ChannelHookReply(received=result.received, duplicates=result.duplicates, receipts=result.receipts)
