"""Twilio's shapes: the webhook form fields we read and the REST API's JSON answers.

Webhooks: https://www.twilio.com/docs/messaging/guides/webhook-request (incoming messages) and the
status callback parameters of https://www.twilio.com/docs/messaging/api/message-resource.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class Media(_Wire):
    url: str
    content_type: str


class MessageResource(_Wire):
    """The answer to creating a message (HTTP 201)."""

    sid: str
    status: str | None = None


class ApiError(_Wire):
    """Every REST API refusal: `{"code": 21211, "message": "...", "more_info": "...", "status": 400}`."""

    code: int | None = None
    message: str | None = None
    status: int | None = None


class IncomingPhoneNumber(_Wire):
    sid: str
    phone_number: str
    sms_url: str | None = None


class IncomingPhoneNumbers(_Wire):
    numbers: list[IncomingPhoneNumber] = Field(default_factory=list, alias="incoming_phone_numbers")
