"""Outgoing messages as the custom channel's JSON, and what the external system's answer means.

2xx: accepted, with the `mId` it returned. 429 (after `Retry-After` seconds), 408 and 5xx: try again.
Any other status: refused for good, with the reason from the answer's body.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from pydantic import ValidationError

from convoflow.channels.base import SendFailed, SendResult, TransientSendFailure
from convoflow.channels.custom_channel.payloads import SendAnswer

MAX_REASON = 300


def message_of(content: dict[str, Any]) -> dict[str, Any]:
    """The `message` object of an outgoing request."""
    kind = content.get("type")
    if kind == "text":
        return {"type": "text", "text": content["text"]}
    if kind == "attachment":
        attachment = content["attachment"]
        wire: dict[str, Any] = {"type": attachment["type"], "url": attachment["url"]}
        if attachment.get("name"):
            wire["fileName"] = attachment["name"]
        message: dict[str, Any] = {"type": "attachment", "attachment": wire}
        if content.get("caption"):
            message["caption"] = content["caption"]
        return message
    if kind == "quick_reply":
        return {"type": "quick_reply", "title": content["title"], "replies": list(content["replies"])}
    if kind == "location":
        return {key: content[key] for key in ("type", "latitude", "longitude", "address") if key in content}
    if kind == "custom_payload":
        return {"type": "custom_payload", "payload": content["payload"]}
    raise SendFailed(f"Custom channels cannot send {kind} messages")


def body_of(*, channel_id: int, contact_id: str, content: dict[str, Any], contact: dict[str, Any]) -> bytes:
    wire_contact = {
        "name": contact.get("name") or None,
        "phone": contact.get("phone"),
        "email": contact.get("email"),
    }
    body = {
        "channelId": str(channel_id),
        "contactId": contact_id,
        "message": message_of(content),
        "contact": {key: value for key, value in wire_contact.items() if value},
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def result_of(response: httpx.Response) -> SendResult:
    status = response.status_code
    if 200 <= status < 300:
        try:
            answer = SendAnswer.model_validate_json(response.content)
        except ValidationError:
            return SendResult(None)  # accepted, without an id to match receipts against
        return SendResult(answer.mId)
    reason = _reason(response)
    if status == 429:
        raise TransientSendFailure(
            f"Custom channel: {reason}", retry_after=_seconds(response.headers.get("retry-after"))
        )
    if status == 408 or status >= 500:
        raise TransientSendFailure(f"Custom channel: {reason}")
    raise SendFailed(f"Custom channel: {reason}")


def _reason(response: httpx.Response) -> str:
    """The answer's own words: `error`, `message` or `reason` of a JSON body, else its text."""
    fallback = f"HTTP {response.status_code}"
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        text = response.text.strip()
        return f"{fallback}: {text[:MAX_REASON]}" if text else fallback
    if isinstance(body, dict):
        for key in ("error", "message", "reason"):
            value = body.get(key)
            if isinstance(value, str) and value.strip():
                return f"{fallback}: {value.strip()[:MAX_REASON]}"
            if isinstance(value, dict) and isinstance(value.get("message"), str):
                return f"{fallback}: {value['message'].strip()[:MAX_REASON]}"
    return fallback


def _seconds(value: str | None) -> float | None:
    """Retry-After in seconds (the HTTP-date form is not read: the relay's backoff applies then)."""
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return seconds if seconds is not None and seconds >= 0 else None
