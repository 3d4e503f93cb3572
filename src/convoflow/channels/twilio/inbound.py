"""Twilio webhooks (form fields) -> inbound messages and status receipts.

One URL takes both kinds: a status callback carries `MessageStatus`, an incoming message does not (or
says `received`). An MMS with several media becomes one attachment message per medium, since a message
holds one attachment; the first keeps the `MessageSid` and the text as caption, the others get
`"{MessageSid}/{n}"`, so a redelivery is still stored once. Senders are kept in E.164.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from convoflow.channels.base import (
    InboundItem,
    InboundMessage,
    MalformedPayload,
    ReceiptStatus,
    SenderProfile,
    StatusReceipt,
)
from convoflow.channels.twilio.payloads import Media
from convoflow.channels.twilio.phones import e164

MAX_MEDIA = 10  # Twilio's limit per MMS
MAX_CAPTION = 1024

_RECEIPTS: dict[str, ReceiptStatus] = {
    "sent": "sent",
    "delivered": "delivered",
    "read": "read",
    "undelivered": "failed",
    "failed": "failed",
    "canceled": "failed",
}

# The delivery errors a status callback reports most (https://www.twilio.com/docs/api/errors).
ERROR_CODES = {
    "30001": "Queue overflow",
    "30002": "Account suspended",
    "30003": "Unreachable destination handset",
    "30004": "Message blocked",
    "30005": "Unknown destination handset",
    "30006": "Landline or unreachable carrier",
    "30007": "Message filtered by the carrier",
    "30008": "Unknown error",
    "30034": "Message from an unregistered number (A2P 10DLC)",
}


def items_of(form: Mapping[str, str], *, account_sid: str) -> list[InboundItem]:
    if form.get("AccountSid") not in (None, account_sid):
        return []  # another account's number pointed at this URL
    sid = form.get("MessageSid") or form.get("SmsSid")
    if not sid:
        raise MalformedPayload("The form has no MessageSid")
    status = form.get("MessageStatus")
    if status is not None and status != "received":
        return _receipt(sid, status, form.get("ErrorCode"))
    return _message(sid, form)


def _receipt(sid: str, status: str, error_code: str | None) -> list[InboundItem]:
    mapped = _RECEIPTS.get(status)
    if mapped is None:
        return []  # queued, accepted, sending, scheduled: nothing beyond `sent` yet
    reason = None
    if mapped == "failed":
        reason = f"Twilio: message {status}"
        if error_code:
            reason = (
                f"Twilio error {error_code}: {ERROR_CODES.get(error_code, 'see the Twilio error reference')}"
            )
    return [StatusReceipt(sid, mapped, reason)]


def _message(sid: str, form: Mapping[str, str]) -> list[InboundItem]:
    sender = form.get("From")
    if not sender:
        raise MalformedPayload("The form has no From")
    if ":" in sender:
        return []  # whatsapp:+1..., messenger:...: other Twilio channels, not read here
    external_id = e164(sender) or sender  # short codes and alphanumeric senders stay as they are
    profile = SenderProfile(phone=e164(sender), first_name=form.get("ProfileName") or None)
    body = form.get("Body", "")
    media = _media(form)
    if not media:
        content: dict[str, Any] = (
            {"type": "text", "text": body}
            if body
            else {"type": "unsupported", "description": "An empty Twilio message"}
        )
        return [InboundMessage(external_id, sid, content, profile)]
    items: list[InboundItem] = []
    caption = body if len(body) <= MAX_CAPTION else None
    if body and caption is None:
        items.append(InboundMessage(external_id, f"{sid}/text", {"type": "text", "text": body}, profile))
    for index, medium in enumerate(media):
        content = {
            "type": "attachment",
            "attachment": {"type": _kind(medium.content_type), "url": medium.url},
        }
        if index == 0 and caption:
            content["caption"] = caption
        items.append(InboundMessage(external_id, sid if index == 0 else f"{sid}/{index}", content, profile))
    return items


def _media(form: Mapping[str, str]) -> list[Media]:
    raw = form.get("NumMedia", "0") or "0"
    if not raw.isdigit():
        raise MalformedPayload("NumMedia is not a number")
    count = min(int(raw), MAX_MEDIA)
    media = []
    for index in range(count):
        url = form.get(f"MediaUrl{index}")
        if not url:
            raise MalformedPayload(f"MediaUrl{index} is missing")
        media.append(Media(url=url, content_type=form.get(f"MediaContentType{index}", "")))
    return media


def _kind(content_type: str) -> str:
    major = content_type.split("/")[0].lower()
    return major if major in ("image", "video", "audio") else "file"
