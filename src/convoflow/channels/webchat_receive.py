"""One frame from a widget (REST or WebSocket) -> stored, exactly like a provider's webhook.

The adapter checks the visitor token before anything is parsed (401 `invalid_visitor_token`), then
reads the frame (400 `malformed_payload`); `ingest.record` stores it in the caller's transaction, once
per client message id (CRM-CHAN-02).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from convoflow.channels import ingest
from convoflow.channels.base import ChannelConfig, InvalidSignature, MalformedPayload, RawRequest
from convoflow.channels.models import Channel
from convoflow.channels.webchat.adapter import WebchatAdapter
from convoflow.channels.webchat_throttle import Throttle
from convoflow.errors import MalformedRequest, Unauthenticated


def config_of(channel: Channel) -> ChannelConfig:
    """Web Chat keeps no credentials: its settings are all the adapter needs."""
    return ChannelConfig(channel_id=channel.id, settings=dict(channel.config))


def visitor_of(adapter: WebchatAdapter, channel: Channel, token: str | None) -> str:
    try:
        return adapter.keys.visitor_of(channel.id, token)
    except InvalidSignature as exc:
        raise Unauthenticated(str(exc), error="invalid_visitor_token") from None


def receive(
    session: Session,
    *,
    channel: Channel,
    adapter: WebchatAdapter,
    token: str | None,
    body: bytes,
    throttle: Throttle,
) -> ingest.IngestResult:
    visitor_id = visitor_of(adapter, channel, token)
    throttle.hit(f"{channel.id}:{visitor_id}")
    raw = RawRequest(method="POST", headers={"authorization": f"Bearer {token}"}, body=body)
    try:
        items = adapter.parse(raw, config_of(channel))
    except InvalidSignature as exc:
        raise Unauthenticated(str(exc), error="invalid_visitor_token") from None
    except MalformedPayload as exc:
        raise MalformedRequest(str(exc), error="malformed_payload") from None
    return ingest.record(session, channel=channel, items=items)
