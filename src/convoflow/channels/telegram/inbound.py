"""Telegram updates -> inbound messages (decisions in docs/subsystems/channels.md).

Only private chats with people are read: group and channel posts, messages from bots and edited
messages are ignored (an edit would otherwise arrive as a second message). The contact's identity is
the chat id; a message id is unique only within its chat, so the provider message id is
`"{chat_id}:{message_id}"`. Files stay at Telegram: attachments keep `telegram-file:<file_id>` as URL.
"""

from __future__ import annotations

from typing import Any

from convoflow.channels.base import InboundItem, InboundMessage, SenderProfile
from convoflow.channels.telegram.payloads import CallbackQuery, File, Message, PhotoSize, Update, User

FILE_URL_PREFIX = "telegram-file:"  # an attachment held by Telegram, sent again by its file_id


def provider_id(chat_id: int, message_id: int) -> str:
    return f"{chat_id}:{message_id}"


def items_of(update: Update) -> list[InboundItem]:
    """The message an update carries, or nothing for the updates we ignore."""
    if update.message is not None:
        return _message(update.message)
    if update.callback_query is not None:
        return _button_press(update.callback_query)
    return []  # edited_message, channel_post, my_chat_member, poll...


def _from_a_person(message: Message | None, sender: User | None) -> bool:
    return message is not None and message.chat.type == "private" and sender is not None and not sender.is_bot


def _message(message: Message) -> list[InboundItem]:
    if not _from_a_person(message, message.sender):
        return []
    assert message.sender is not None
    return [
        InboundMessage(
            external_id=str(message.chat.id),
            provider_message_id=provider_id(message.chat.id, message.message_id),
            content=_content(message),
            profile=_profile(message.sender),
        )
    ]


def _button_press(query: CallbackQuery) -> list[InboundItem]:
    """A press on an inline keyboard button reads as the contact typing the button's label."""
    message = query.message
    if message is None or not _from_a_person(message, query.sender):
        return []
    text = _button_label(message, query.data) or query.data
    if not text:
        return []
    return [
        InboundMessage(
            external_id=str(message.chat.id),
            provider_message_id=f"callback:{query.id}",
            content={"type": "text", "text": text},
            profile=_profile(query.sender),
        )
    ]


def _button_label(message: Message, data: str | None) -> str | None:
    if message.reply_markup is None or data is None:
        return None
    for row in message.reply_markup.inline_keyboard:
        for button in row:
            if button.callback_data == data:
                return button.text
    return None


def _content(message: Message) -> dict[str, Any]:
    caption = message.caption or None
    if message.text is not None:
        return {"type": "text", "text": message.text}
    if message.photo:
        return _attachment("image", _largest(message.photo), caption)
    for kind, file in (
        ("file", message.document),
        ("video", message.video),
        ("audio", message.audio),
        ("audio", message.voice),
    ):
        if file is not None:
            return _attachment(kind, file, caption)
    if message.location is not None:
        return {
            "type": "location",
            "latitude": message.location.latitude,
            "longitude": message.location.longitude,
        }
    return {"type": "unsupported", "description": "A Telegram message convoflow does not read yet"}


def _largest(sizes: list[PhotoSize]) -> PhotoSize:
    """Telegram sends each photo in several sizes; the largest is the original."""
    return max(sizes, key=lambda size: (size.width * size.height, size.file_size or 0))


def _attachment(kind: str, file: File | PhotoSize, caption: str | None) -> dict[str, Any]:
    attachment: dict[str, Any] = {"type": kind, "url": FILE_URL_PREFIX + file.file_id}
    name = getattr(file, "file_name", None)
    if name:
        attachment["name"] = name[:255]
    content: dict[str, Any] = {"type": "attachment", "attachment": attachment}
    if caption:
        content["caption"] = caption
    return content


def _profile(user: User) -> SenderProfile:
    language = (user.language_code or "").split("-")[0].lower() or None  # "pt-br" -> "pt"
    return SenderProfile(
        first_name=user.first_name,
        last_name=user.last_name,
        username=user.username,
        language=language,
    )
