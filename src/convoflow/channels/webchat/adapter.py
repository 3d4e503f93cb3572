"""The Web Chat channel adapter. The widget is the provider's side, so:

- `verify` checks the visitor token (`Authorization: Bearer <token>`) the widget shows with each frame;
- `parse` reads one widget frame: a message, or an acknowledgement that marks our messages delivered;
- `send` has nothing to call: the message is already stored, and the widget is told after the outbox
  relay commits (live hints), or finds it when it next polls. It only checks that the widget can show
  the content and returns our own provider message id.
"""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar

from pydantic import BaseModel, ValidationError

from convoflow.channels.base import (
    Capabilities,
    ChannelConfig,
    InboundItem,
    InboundMessage,
    MalformedPayload,
    NoCredentials,
    OutboundMessage,
    RawRequest,
    SendFailed,
    SendResult,
    StatusReceipt,
)
from convoflow.channels.webchat.frames import (
    FRAME,
    MAX_TEXT,
    AckFrame,
    AttachmentFrame,
    ButtonFrame,
    TextFrame,
    VisitorFrame,
)
from convoflow.channels.webchat.uploads import UploadStore
from convoflow.channels.webchat.visitors import VisitorKeys, bearer

SHOWN_TYPES = ("text", "quick_reply", "attachment", "location")  # what the widget can render
OUT_MARK = ":out:"


def inbound_id(visitor_id: str, client_id: str) -> str:
    return f"{visitor_id}:{client_id}"


def outbound_id(visitor_id: str, idempotency_key: str) -> str:
    """Derived from the outbox key, so a delivery repeated after a crash gets the same id; it starts
    with the visitor id, so a visitor can acknowledge only its own messages."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
    return f"{visitor_id}{OUT_MARK}{digest}"


def file_path(file_id: str) -> str:
    """Where an uploaded file is served (channels/webchat_routes.py)."""
    return f"/webchat/files/{file_id}"


class WebchatAdapter:
    kind: ClassVar[str] = "webchat"
    capabilities: ClassVar[Capabilities] = Capabilities(
        media=True, quick_replies=True, location=True, max_text_length=MAX_TEXT
    )
    credentials_model: ClassVar[type[BaseModel]] = NoCredentials

    def __init__(self, *, keys: VisitorKeys, uploads: UploadStore, public_base_url: str) -> None:
        self.keys = keys
        self.uploads = uploads
        self.public_base_url = public_base_url.rstrip("/")

    def visitor(self, request: RawRequest, config: ChannelConfig) -> str:
        """The visitor the request's token names; InvalidSignature when it names none."""
        return self.keys.visitor_of(config.channel_id, bearer(request.header("authorization")))

    # --- inbound -----------------------------------------------------------------------------
    def verify(self, request: RawRequest, config: ChannelConfig) -> None:
        self.visitor(request, config)

    def parse(self, request: RawRequest, config: ChannelConfig) -> list[InboundItem]:
        visitor_id = self.visitor(request, config)
        try:
            frame = FRAME.validate_python(request.json())
        except ValidationError as exc:
            raise MalformedPayload(_problem(exc)) from None
        return self._items(frame, visitor_id, config)

    def _items(self, frame: VisitorFrame, visitor_id: str, config: ChannelConfig) -> list[InboundItem]:
        if isinstance(frame, AckFrame):
            own = visitor_id + OUT_MARK
            return [
                StatusReceipt(ref, "delivered") for ref in dict.fromkeys(frame.refs) if ref.startswith(own)
            ]
        content: dict[str, Any]
        if isinstance(frame, TextFrame | ButtonFrame):
            content = {"type": "text", "text": frame.text}
        else:
            content = self._attachment(frame, visitor_id, config)
        return [InboundMessage(visitor_id, inbound_id(visitor_id, frame.client_id), content)]

    def _attachment(self, frame: AttachmentFrame, visitor_id: str, config: ChannelConfig) -> dict[str, Any]:
        stored = self.uploads.find(frame.file_id)
        if stored is None or (stored.channel_id, stored.visitor_id) != (config.channel_id, visitor_id):
            raise MalformedPayload("No file with this id was uploaded by this visitor")
        attachment = {"type": stored.kind, "url": self.public_base_url + file_path(stored.file_id)}
        attachment["name"] = stored.name
        content: dict[str, Any] = {"type": "attachment", "attachment": attachment}
        if frame.caption:
            content["caption"] = frame.caption
        return content

    # --- outbound ----------------------------------------------------------------------------
    async def send(
        self, message: OutboundMessage, *, config: ChannelConfig, idempotency_key: str
    ) -> SendResult:
        if not message.external_id:
            raise SendFailed("The contact has never written on this web chat")
        kind = message.content.get("type")
        if kind not in SHOWN_TYPES:
            raise SendFailed(f"Web Chat cannot show {kind} messages")
        return SendResult(outbound_id(message.external_id, idempotency_key))

    # --- connection --------------------------------------------------------------------------
    async def connect(self, config: ChannelConfig, *, webhook_url: str) -> dict[str, Any]:
        """Nothing to register: the settings hold the snippet that embeds the widget on a page."""
        key = webhook_url.rstrip("/").rsplit("/", 1)[-1]  # the channel's token names it publicly
        return {"embed_code": embed_code(self.public_base_url, key)}

    async def disconnect(self, config: ChannelConfig) -> None:
        return None


def embed_code(base_url: str, key: str) -> str:
    return f'<script src="{base_url}/widget/webchat.js" data-channel="{key}" async></script>'


def _problem(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "frame"
    if first["type"] == "string_too_long" and first["loc"][-1:] == ("text",):
        limit = (first.get("ctx") or {}).get("max_length")
        return f"The text is longer than {limit:,} characters"
    return f"Not a web chat frame: {where}: {first['msg']}"
