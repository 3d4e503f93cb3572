"""Telegram Update payloads as the Bot API documents them (https://core.telegram.org/bots/api#update)."""

from __future__ import annotations

import itertools
from typing import Any

CHAT_ID = 5_550_001_234
_update_ids = itertools.count(900_000_001)

SENDER = {
    "id": CHAT_ID,
    "is_bot": False,
    "first_name": "Zoë",
    "last_name": "Müller",
    "username": "zoe_m",
    "language_code": "de-AT",
}


def _message(message_id: int, chat_id: int, sender: dict[str, Any], **fields: Any) -> dict[str, Any]:
    chat = {"id": chat_id, "type": "private", "first_name": sender["first_name"]}
    return {"message_id": message_id, "from": sender, "chat": chat, "date": 1_790_000_000, **fields}


def update(**fields: Any) -> dict[str, Any]:
    return {"update_id": next(_update_ids), **fields}


def text(
    body: str, *, message_id: int = 1, chat_id: int = CHAT_ID, sender: dict[str, Any] | None = None
) -> dict[str, Any]:
    sender = sender or {**SENDER, "id": chat_id}
    return update(message=_message(message_id, chat_id, sender, text=body))


def photo(*, caption: str | None = None, message_id: int = 2) -> dict[str, Any]:
    sizes = [
        {"file_id": "AgACAgQAAx-small", "file_unique_id": "s", "file_size": 1_234, "width": 90, "height": 67},
        {
            "file_id": "AgACAgQAAx-large",
            "file_unique_id": "l",
            "file_size": 98_765,
            "width": 1280,
            "height": 960,
        },
        {
            "file_id": "AgACAgQAAx-medium",
            "file_unique_id": "m",
            "file_size": 23_456,
            "width": 320,
            "height": 240,
        },
    ]
    extra = {"caption": caption} if caption is not None else {}
    return update(message=_message(message_id, CHAT_ID, SENDER, photo=sizes, **extra))


def document(*, file_name: str = "factura-2026.pdf", message_id: int = 3) -> dict[str, Any]:
    file = {
        "file_name": file_name,
        "mime_type": "application/pdf",
        "file_id": "BQACAgQAAx-doc",
        "file_unique_id": "AgADdoc",
        "file_size": 52_311,
    }
    return update(message=_message(message_id, CHAT_ID, SENDER, document=file))


def callback_query(data: str, *, label: str, query_id: str = "4382bfdwdsb323b2d9") -> dict[str, Any]:
    """A press on an inline keyboard button of an earlier bot message."""
    bot = {"id": 123456789, "is_bot": True, "first_name": "Convoflow", "username": "convoflow_test_bot"}
    keyboard = {
        "inline_keyboard": [[{"text": label, "callback_data": data}, {"text": "No", "callback_data": "n"}]]
    }
    pressed_on = _message(77, CHAT_ID, bot, text="¿Seguimos?", reply_markup=keyboard)
    return update(
        callback_query={
            "id": query_id,
            "from": SENDER,
            "message": pressed_on,
            "chat_instance": "-1",
            "data": data,
        }
    )


def edited(body: str, *, message_id: int = 1) -> dict[str, Any]:
    return update(
        edited_message={**_message(message_id, CHAT_ID, SENDER, text=body), "edit_date": 1_790_000_100}
    )


def from_bot(body: str) -> dict[str, Any]:
    bot = {"id": 42, "is_bot": True, "first_name": "Other bot"}
    return update(message=_message(9, CHAT_ID, bot, text=body))


def in_group(body: str) -> dict[str, Any]:
    message = _message(10, CHAT_ID, SENDER, text=body)
    message["chat"] = {"id": -1001234567890, "type": "supergroup", "title": "Clientes"}
    return update(message=message)
