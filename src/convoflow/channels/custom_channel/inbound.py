"""Custom-channel events -> inbound messages and receipts.

The contact id is a custom id (up to 50 of `A-Z a-z 0-9 _ = + / @`) or a phone number; one that reads as a
phone number (`+`, then digits with optional spaces, dashes, dots or brackets) is kept in E.164, so the same
person sent as "+1 415-555-0100" and "+14155550100" is one contact.
"""

from __future__ import annotations

import re
from typing import Any

import phonenumbers

from convoflow.channels.base import (
    InboundItem,
    InboundMessage,
    MalformedPayload,
    SenderProfile,
    StatusReceipt,
)
from convoflow.channels.custom_channel.payloads import (
    CONTACT_ID_PATTERN,
    ContactInfo,
    MessageEvent,
    StatusEvent,
    Webhook,
)

_PHONE_LIKE = re.compile(r"^\+[0-9][0-9 ().-]{5,30}$")
_ATTACHMENT_TYPES = {"image", "video", "audio", "file"}


def e164(value: str) -> str | None:
    """The number in E.164 when `value` is a valid international phone number, else None."""
    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def contact_id(raw: str) -> str:
    """The contact's identity on the channel; MalformedPayload for an id outside the rules."""
    if _PHONE_LIKE.fullmatch(raw):
        phone = e164(raw)
        if phone is not None:
            return phone
    if not re.fullmatch(CONTACT_ID_PATTERN, raw):
        raise MalformedPayload("contactId must be a phone number or 1-50 characters of A-Z a-z 0-9 _ = + / @")
    return raw


def items_of(webhook: Webhook) -> list[InboundItem]:
    external_id = contact_id(webhook.contactId)
    profile = _profile(webhook.contact, external_id)
    items: list[InboundItem] = []
    for event in webhook.events:
        if isinstance(event, MessageEvent):
            items.append(InboundMessage(external_id, event.mId, content(event.message), profile))
        elif isinstance(event, StatusEvent):
            items.append(StatusReceipt(event.mId, event.status.value, event.status.message))
    return items


def content(message: dict[str, Any]) -> dict[str, Any]:
    """Our content shape; anything else is kept as `unsupported` by ingest (CRM-MSG-02)."""
    kind = message.get("type")
    if kind == "text":
        return {"type": "text", "text": message.get("text")}
    if kind == "attachment" and isinstance(message.get("attachment"), dict):
        attachment = message["attachment"]
        if attachment.get("type") in _ATTACHMENT_TYPES:
            wire = {"type": attachment["type"], "url": attachment.get("url")}
            if attachment.get("fileName"):
                wire["name"] = attachment["fileName"]
            result: dict[str, Any] = {"type": "attachment", "attachment": wire}
            if message.get("caption"):
                result["caption"] = message["caption"]
            return result
    if kind == "location":
        location = {key: message.get(key) for key in ("latitude", "longitude")}
        if message.get("address"):
            location["address"] = message["address"]
        return {"type": "location", **location}
    return {"type": "unsupported", "description": f"A custom-channel {str(kind)[:40]} message"}


def _profile(contact: ContactInfo | None, external_id: str) -> SenderProfile:
    phone = external_id if external_id.startswith("+") and e164(external_id) else None
    if contact is None:
        return SenderProfile(phone=phone)
    if contact.phone:
        phone = e164(contact.phone) or phone
    language = (contact.language or "").split("-")[0].lower() or None
    return SenderProfile(
        first_name=contact.firstName or None,
        last_name=contact.lastName or None,
        email=contact.email or None,
        phone=phone,
        language=language,
    )
