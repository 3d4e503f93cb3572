"""The Bot API shapes we read (https://core.telegram.org/bots/api#available-types).

Only the fields convoflow uses are declared; others are ignored, so a Bot API release that adds
fields changes nothing here.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class User(_Wire):
    id: int
    is_bot: bool = False
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None


class Chat(_Wire):
    id: int
    type: str  # private | group | supergroup | channel


class PhotoSize(_Wire):
    file_id: str
    file_unique_id: str
    width: int
    height: int
    file_size: int | None = None


class File(_Wire):
    """Document, Video, Audio and Voice share the fields we keep."""

    file_id: str
    file_unique_id: str
    file_name: str | None = None
    mime_type: str | None = None
    file_size: int | None = None


class Location(_Wire):
    latitude: float
    longitude: float


class InlineKeyboardButton(_Wire):
    text: str
    callback_data: str | None = None


class InlineKeyboardMarkup(_Wire):
    inline_keyboard: list[list[InlineKeyboardButton]]


class Message(_Wire):
    message_id: int
    date: int
    chat: Chat
    sender: User | None = Field(None, alias="from")
    text: str | None = None
    caption: str | None = None
    photo: list[PhotoSize] | None = None
    document: File | None = None
    video: File | None = None
    audio: File | None = None
    voice: File | None = None
    location: Location | None = None
    reply_markup: InlineKeyboardMarkup | None = None


class CallbackQuery(_Wire):
    id: str
    sender: User = Field(alias="from")
    message: Message | None = None
    data: str | None = None


class Update(_Wire):
    update_id: int
    message: Message | None = None
    edited_message: Message | None = None
    callback_query: CallbackQuery | None = None


class ResponseParameters(_Wire):
    retry_after: float | None = None
    migrate_to_chat_id: int | None = None


class ApiResponse(_Wire):
    """Every Bot API answer: `{"ok": true, "result": ...}` or `{"ok": false, "description": ...}`."""

    ok: bool
    result: Any = None
    description: str | None = None
    error_code: int | None = None
    parameters: ResponseParameters | None = None
