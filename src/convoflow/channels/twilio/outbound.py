"""Message content -> the Messages API's form parameters, and Twilio's answers -> sent or failed.

SMS has no buttons: quick replies are sent as the question followed by the options, one per line, and
the contact answers by typing one. Twilio accepts a Body of up to 1,600 characters.
"""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import ValidationError

from convoflow.channels.base import SendFailed, TransientSendFailure
from convoflow.channels.twilio.payloads import ApiError

MAX_BODY = 1600
TRANSIENT_CODES = {20429, 20500, 20503}  # too many requests, internal error, service unavailable


def params_for(content: dict[str, Any]) -> list[tuple[str, str]]:
    """Body and MediaUrl parameters; SendFailed for content SMS cannot carry."""
    kind = content.get("type")
    if kind == "text":
        return [("Body", _bounded(content["text"]))]
    if kind == "quick_reply":
        lines = [content["title"], *(f"• {reply}" for reply in content["replies"])]
        return [("Body", _bounded("\n".join(lines)))]
    if kind == "attachment":
        params = [("MediaUrl", str(content["attachment"]["url"]))]
        if content.get("caption"):
            params.insert(0, ("Body", _bounded(content["caption"])))
        return params
    raise SendFailed(f"Twilio SMS channels cannot send {kind} messages")


def _bounded(text: str) -> str:
    if len(text) > MAX_BODY:
        raise SendFailed(
            f"Twilio accepts a text of at most {MAX_BODY:,} characters; this one has {len(text):,}"
        )
    return text


def error_of(response: httpx.Response) -> Exception:
    """TransientSendFailure for 429, 5xx and Twilio's transient codes; SendFailed for the rest."""
    try:
        body: ApiError | None = ApiError.model_validate_json(response.content)
    except ValidationError:
        body = None
    code = body.code if body else None
    words = (body.message if body else None) or f"HTTP {response.status_code}"
    reason = f"Twilio error {code}: {words}" if code else f"Twilio: {words}"
    if response.status_code == 429 or code in TRANSIENT_CODES:
        return TransientSendFailure(reason, retry_after=_seconds(response.headers.get("retry-after")))
    if response.status_code >= 500:
        return TransientSendFailure(reason)
    return SendFailed(reason)


def _seconds(value: str | None) -> float | None:
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return seconds if seconds is not None and seconds >= 0 else None
