"""The custom channel's JSON, modelled on respond.io's custom channel so existing connectors fit.

Inbound (the external system -> our webhook):

    {"contactId": "+60177872890",
     "events": [{"type": "message", "mId": "m-1", "timestamp": 1790000000000,
                 "message": {"type": "text", "text": "Hello"}},
                {"type": "message_status", "mId": "our-id", "timestamp": 1790000000000,
                 "status": {"value": "delivered"}}],
     "contact": {"firstName": "John", "lastName": "Doe", "email": "...", "phone": "...", "language": "en"}}

Outbound (convoflow -> `outbound_url`): `{"channelId", "contactId", "message": {...}, "contact": {...}}`,
answered with `{"mId": "..."}`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from convoflow.channels.base import ReceiptStatus

CONTACT_ID_PATTERN = r"^[A-Za-z0-9_=+/@]{1,50}$"


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ContactInfo(_Wire):
    firstName: str | None = Field(None, max_length=255)
    lastName: str | None = Field(None, max_length=255)
    email: str | None = Field(None, max_length=320)
    phone: str | None = Field(None, max_length=32)
    language: str | None = Field(None, max_length=16)


class MessageEvent(_Wire):
    type: Literal["message"]
    mId: str = Field(min_length=1, max_length=255)
    timestamp: int
    message: dict[str, Any]


class EchoEvent(_Wire):
    """A message sent from the external system's own app: not stored yet (docs/subsystems/channels.md)."""

    type: Literal["message_echo"]
    mId: str = Field(min_length=1, max_length=255)


class Status(_Wire):
    value: ReceiptStatus
    message: str | None = Field(None, max_length=1024)


class StatusEvent(_Wire):
    type: Literal["message_status"]
    mId: str = Field(min_length=1, max_length=255)
    timestamp: int
    status: Status


Event = Annotated[MessageEvent | EchoEvent | StatusEvent, Field(discriminator="type")]


class Webhook(_Wire):
    contactId: str = Field(min_length=1, max_length=64)
    events: list[Event] = Field(min_length=1, max_length=100)
    contact: ContactInfo | None = None


class SendAnswer(_Wire):
    """The external system's 2xx answer to an outgoing message."""

    mId: str | None = Field(None, min_length=1, max_length=255)
