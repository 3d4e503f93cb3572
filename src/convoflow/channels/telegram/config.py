"""What a user enters to connect a Telegram bot."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class TelegramCredentials(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    bot_token: str = Field(
        pattern=r"^[0-9]{5,16}:[A-Za-z0-9_-]{30,64}$",
        description="The token @BotFather gave for the bot, like 123456789:AAH...",
    )
