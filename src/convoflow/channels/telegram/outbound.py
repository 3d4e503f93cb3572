"""Message content -> the Bot API method and parameters that send it.

Limits are Telegram's, counted as it counts them (UTF-16 code units): 4,096 for a text, 1,024 for a
caption. A longer text is refused rather than split, since split parts could not be sent or retried as
one message. Quick replies become a one-time reply keyboard, so a press arrives as an ordinary text.
"""

from __future__ import annotations

from typing import Any

from convoflow.channels.base import SendFailed
from convoflow.channels.telegram.inbound import FILE_URL_PREFIX

MAX_TEXT = 4096
MAX_CAPTION = 1024

# Attachment type -> (Bot API method, the parameter holding the file)
_MEDIA = {
    "image": ("sendPhoto", "photo"),
    "video": ("sendVideo", "video"),
    "audio": ("sendAudio", "audio"),
    "file": ("sendDocument", "document"),
}


def telegram_length(text: str) -> int:
    """Telegram counts UTF-16 code units: an emoji outside the BMP counts twice."""
    return len(text.encode("utf-16-le")) // 2


def _bounded(text: str, limit: int, what: str) -> str:
    length = telegram_length(text)
    if length > limit:
        raise SendFailed(
            f"Telegram accepts a {what} of at most {limit:,} characters; this one has {length:,}"
        )
    return text


def chat_id(external_id: str) -> int | str:
    """The chat id as the Bot API documents it (an integer), or a @username as is."""
    return int(external_id) if external_id.lstrip("-").isdigit() else external_id


def request_for(content: dict[str, Any], chat: int | str) -> tuple[str, dict[str, Any]]:
    """(method, JSON parameters); SendFailed for content Telegram cannot carry."""
    kind = content.get("type")
    if kind == "text":
        return "sendMessage", {"chat_id": chat, "text": _bounded(content["text"], MAX_TEXT, "text")}
    if kind == "quick_reply":
        keyboard = {
            "keyboard": [[{"text": reply}] for reply in content["replies"]],
            "one_time_keyboard": True,
            "resize_keyboard": True,
        }
        text = _bounded(content["title"], MAX_TEXT, "text")
        return "sendMessage", {"chat_id": chat, "text": text, "reply_markup": keyboard}
    if kind == "attachment":
        attachment = content["attachment"]
        method, parameter = _MEDIA[attachment["type"]]
        url: str = attachment["url"]
        params: dict[str, Any] = {
            "chat_id": chat,
            parameter: url.removeprefix(FILE_URL_PREFIX),  # a file_id, or a URL Telegram fetches
        }
        if content.get("caption"):
            params["caption"] = _bounded(content["caption"], MAX_CAPTION, "caption")
        return method, params
    if kind == "location":
        return "sendLocation", {
            "chat_id": chat,
            "latitude": content["latitude"],
            "longitude": content["longitude"],
        }
    raise SendFailed(f"Telegram channels cannot send {kind} messages")
