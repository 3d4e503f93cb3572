"""The Cloud API webhook shapes we read (https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks).

Only the fields convoflow uses are declared; a message's type-specific object (`text`, `image`...) is
read by `inbound.py` from the raw dict, so new message types arrive as `unsupported`, not as errors.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Wire(BaseModel):
    model_config = ConfigDict(extra="allow")


class Profile(_Wire):
    name: str | None = None


class Contact(_Wire):
    wa_id: str
    profile: Profile | None = None


class Metadata(_Wire):
    phone_number_id: str
    display_phone_number: str | None = None


class Message(_Wire):
    sender: str = Field(alias="from")
    id: str = Field(min_length=1, max_length=255)
    timestamp: str | None = None
    type: str


class StatusError(_Wire):
    code: int | None = None
    title: str | None = None
    message: str | None = None
    error_data: dict[str, Any] | None = None


class Status(_Wire):
    id: str = Field(min_length=1, max_length=255)
    status: str
    recipient_id: str | None = None
    errors: list[StatusError] = Field(default_factory=list)


class Value(_Wire):
    metadata: Metadata
    contacts: list[Contact] = Field(default_factory=list)
    messages: list[Message] = Field(default_factory=list)
    statuses: list[Status] = Field(default_factory=list)


class Change(_Wire):
    field: str
    value: dict[str, Any]


class Entry(_Wire):
    id: str
    changes: list[Change] = Field(default_factory=list)


class Notification(_Wire):
    object: str
    entry: list[Entry]


class ErrorBody(_Wire):
    message: str | None = None
    code: int | None = None
    error_subcode: int | None = None
    error_data: dict[str, Any] | None = None


class GraphError(_Wire):
    """Every Graph API refusal: `{"error": {"message", "type", "code", "error_data": {"details"}}}`."""

    error: ErrorBody


class SentMessage(_Wire):
    id: str


class SendAnswer(_Wire):
    messages: list[SentMessage] = Field(default_factory=list)
