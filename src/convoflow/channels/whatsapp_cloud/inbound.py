"""Cloud API notifications -> inbound messages and status receipts.

Only changes of field `messages` for the channel's own phone-number id are read: one Meta app posts every
number's events to one callback URL. The contact identity is the sender's WhatsApp id as E.164 (`+` and
digits). Media stay at Meta: attachments keep `whatsapp-media:<media id>` as URL, which can be sent again.
Button and list replies read as the contact typing the option's title.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from convoflow.channels.base import (
    InboundItem,
    InboundMessage,
    MalformedPayload,
    ReceiptStatus,
    SenderProfile,
    StatusReceipt,
)
from convoflow.channels.whatsapp_cloud.payloads import Message, Notification, Status, Value

MEDIA_URL_PREFIX = "whatsapp-media:"
_RECEIPTS: dict[str, ReceiptStatus] = {
    "sent": "sent",
    "delivered": "delivered",
    "read": "read",
    "failed": "failed",
}
_MEDIA = {"image": "image", "video": "video", "audio": "audio", "document": "file"}


def items_of(notification: Notification, *, phone_number_id: str) -> list[InboundItem]:
    items: list[InboundItem] = []
    for entry in notification.entry:
        for change in entry.changes:
            if change.field != "messages":
                continue
            try:
                value = Value.model_validate(change.value)
            except ValidationError:
                raise MalformedPayload("A messages change is not the Cloud API's shape") from None
            if value.metadata.phone_number_id != phone_number_id:
                continue  # another number of the same Meta app
            names = {
                contact.wa_id: contact.profile.name if contact.profile else None for contact in value.contacts
            }
            items.extend(_message(message, names.get(message.sender)) for message in value.messages)
            items.extend(_receipt(status) for status in value.statuses if status.status in _RECEIPTS)
    return items


def wa_id_to_e164(wa_id: str) -> str:
    return "+" + wa_id.lstrip("+")


def _message(message: Message, name: str | None) -> InboundItem:
    external_id = wa_id_to_e164(message.sender)
    first, _, last = (name or "").strip().partition(" ")
    profile = SenderProfile(first_name=first or None, last_name=last.strip() or None, phone=external_id)
    return InboundMessage(external_id, message.id, _content(message), profile)


def _content(message: Message) -> dict[str, Any]:
    body: dict[str, Any] = (message.model_extra or {}).get(message.type) or {}
    if message.type == "text":
        return {"type": "text", "text": body.get("body")}
    if message.type in _MEDIA and body.get("id"):
        attachment: dict[str, Any] = {"type": _MEDIA[message.type], "url": MEDIA_URL_PREFIX + str(body["id"])}
        if body.get("filename"):
            attachment["name"] = str(body["filename"])[:255]
        content: dict[str, Any] = {"type": "attachment", "attachment": attachment}
        if body.get("caption"):
            content["caption"] = body["caption"]
        return content
    if message.type == "interactive":
        reply = body.get("button_reply") or body.get("list_reply") or {}
        return {"type": "text", "text": reply.get("title")}
    if message.type == "button":  # a template's quick-reply button
        return {"type": "text", "text": body.get("text")}
    if message.type == "location":
        location = {"latitude": body.get("latitude"), "longitude": body.get("longitude")}
        address = ", ".join(str(part) for part in (body.get("name"), body.get("address")) if part)
        return {"type": "location", **location, **({"address": address} if address else {})}
    return {"type": "unsupported", "description": f"A WhatsApp {message.type[:40]} message"}


def _receipt(status: Status) -> StatusReceipt:
    reason = None
    if status.status == "failed":
        reason = "WhatsApp: the message failed"
        if status.errors:
            error = status.errors[0]
            details = (error.error_data or {}).get("details")
            reason = f"WhatsApp error {error.code}: {error.title or error.message or 'failed'}"
            reason += f" ({details})" if details else ""
    return StatusReceipt(status.id, _RECEIPTS[status.status], reason)
