"""Message content -> the Cloud API's message objects, the 24-hour window, and Graph errors.

The customer-service window (CRM-CHAN-03): a free-form message only within 24 hours of the contact's
last message on this number; outside it only an approved template. The relay tells how long ago the
contact wrote (`OutboundMessage.since_last_inbound`), so the check is made at every attempt: a retry
after the window closed fails too, as Meta would refuse it (error 131047).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from pydantic import ValidationError

from convoflow.channels.base import SendFailed, TransientSendFailure
from convoflow.channels.whatsapp_cloud.inbound import MEDIA_URL_PREFIX
from convoflow.channels.whatsapp_cloud.payloads import GraphError

WINDOW = timedelta(hours=24)
WINDOW_CLOSED = "WhatsApp 24-hour window closed: only a template can be sent"
MAX_TEXT = 4096
MAX_INTERACTIVE_BODY = 1024
MAX_BUTTONS = 3  # reply buttons; up to 10 options go in a list
MAX_BUTTON_TITLE = 20
MAX_ROW_TITLE = 24
# Rate limits and Meta's own temporary failures (https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes)
TRANSIENT_CODES = {1, 2, 4, 80007, 130429, 131000, 131016, 131048, 131056, 133004}
_MEDIA = {"image": "image", "video": "video", "audio": "audio", "file": "document"}


def check_window(content: dict[str, Any], since_last_inbound: timedelta | None) -> None:
    if content.get("type") == "whatsapp_template":
        return
    if since_last_inbound is None or since_last_inbound >= WINDOW:
        raise SendFailed(WINDOW_CLOSED)


def message_of(content: dict[str, Any]) -> dict[str, Any]:
    """The type-specific part of a send (`{"type": "text", "text": {...}}`); SendFailed when unsendable."""
    kind = content.get("type")
    if kind == "text":
        return {"type": "text", "text": {"preview_url": False, "body": _bounded(content["text"], MAX_TEXT)}}
    if kind == "attachment":
        return _media(content)
    if kind == "quick_reply":
        return {"type": "interactive", "interactive": _interactive(content["title"], content["replies"])}
    if kind == "location":
        location = {key: content[key] for key in ("latitude", "longitude", "address") if key in content}
        return {"type": "location", "location": location}
    if kind == "whatsapp_template":
        template = content["template"]
        wire = {"name": template["name"], "language": {"code": template["languageCode"]}}
        if template.get("components"):
            wire["components"] = template["components"]
        return {"type": "template", "template": wire}
    raise SendFailed(f"WhatsApp channels cannot send {kind} messages")


def _media(content: dict[str, Any]) -> dict[str, Any]:
    attachment = content["attachment"]
    kind = _MEDIA[attachment["type"]]
    url = str(attachment["url"])
    media: dict[str, Any] = (
        {"id": url.removeprefix(MEDIA_URL_PREFIX)} if url.startswith(MEDIA_URL_PREFIX) else {"link": url}
    )
    if content.get("caption") and kind != "audio":  # audio takes no caption
        media["caption"] = content["caption"]
    if kind == "document" and attachment.get("name"):
        media["filename"] = attachment["name"]
    return {"type": kind, kind: media}


def _interactive(title: str, replies: list[str]) -> dict[str, Any]:
    """Up to 3 options as reply buttons, up to 10 as a list; a press comes back as the option's title."""
    body = {"text": _bounded(title, MAX_INTERACTIVE_BODY)}
    if len(replies) <= MAX_BUTTONS and all(len(reply) <= MAX_BUTTON_TITLE for reply in replies):
        buttons = [
            {"type": "reply", "reply": {"id": f"reply-{i}", "title": r}} for i, r in enumerate(replies)
        ]
        return {"type": "button", "body": body, "action": {"buttons": buttons}}
    rows = [{"id": f"reply-{i}", "title": reply[:MAX_ROW_TITLE]} for i, reply in enumerate(replies)]
    return {
        "type": "list",
        "body": body,
        "action": {"button": "Options", "sections": [{"title": "Options", "rows": rows}]},
    }


def _bounded(text: str, limit: int) -> str:
    if len(text) > limit:
        raise SendFailed(
            f"WhatsApp accepts a text of at most {limit:,} characters here; this one has {len(text):,}"
        )
    return text


def error_of(response: httpx.Response) -> Exception:
    """TransientSendFailure for 429, 5xx and Meta's throttling codes; SendFailed with Meta's words else."""
    try:
        error = GraphError.model_validate_json(response.content).error
    except ValidationError:
        error = None
    code = error.code if error else None
    words = (error.message if error else None) or f"HTTP {response.status_code}"
    details = (error.error_data or {}).get("details") if error else None
    reason = f"WhatsApp error {code}: {words}" if code is not None else f"WhatsApp: {words}"
    reason += f" ({details})" if details else ""
    if response.status_code == 429 or response.status_code >= 500 or code in TRANSIENT_CODES:
        return TransientSendFailure(reason, retry_after=_seconds(response.headers.get("retry-after")))
    return SendFailed(reason)


def _seconds(value: str | None) -> float | None:
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return seconds if seconds is not None and seconds >= 0 else None
