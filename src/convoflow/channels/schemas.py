"""Request and response bodies of /api/channels. Credentials go in, never out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ChannelRead(BaseModel):
    """A channel as every member sees it (the inbox needs them): no URL, token or credentials."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    name: str
    state: str
    created_at: datetime


class ChannelDetail(ChannelRead):
    """A channel as Owners and Managers see it: where the provider must post, what it told us."""

    settings: dict[str, Any] = Field(description="What the provider told when connecting (the bot's name)")
    webhook_path: str = Field(description="Path of this channel's webhook under the public base URL")
    webhook_url: str = Field(description="The URL to configure at the provider (set for you where it can)")
    has_credentials: bool = Field(description="Credentials are stored (they are never shown again)")


class ChannelCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(
        description="telegram, custom_channel, twilio, whatsapp_cloud (or test, the in-process channel)"
    )
    name: str = Field(description="Unique in the workspace, 1-100 characters")
    credentials: dict[str, Any] = Field(
        default_factory=dict,
        description="Per kind (docs/subsystems/channels.md); telegram: {bot_token}. Stored encrypted.",
    )


class ChannelUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    credentials: dict[str, Any] | None = Field(
        None, description="New credentials: the channel is connected again with them"
    )
