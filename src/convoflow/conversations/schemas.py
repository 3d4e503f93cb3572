"""Request and response bodies of /api/conversations, messages, comments and closing categories."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from convoflow.api.ids import Id
from convoflow.schema_types import Description255, Name128


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CategoryCreate(_Body):
    name: Name128
    description: Description255 = ""


class CategoryUpdate(_Body):
    name: Name128 | None = None
    description: Description255 | None = None


class CategoryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str


class ConversationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    contact_id: int
    status: str
    channel_id: int | None
    opened_at: datetime
    opened_source: str
    opened_by: int | None
    closed_at: datetime | None
    closed_source: str | None
    closed_by: int | None
    closing_category_id: int | None
    summary: str | None
    first_response_at: datetime | None
    assignee_at_close: int | None
    team_at_close: int | None
    in_count: int
    out_count: int
    last_message_at: datetime


class CloseRequest(_Body):
    category_id: Id | None = None
    summary: str | None = Field(None, max_length=512)


class MessageRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    contact_id: int
    conversation_id: int | None
    channel_id: int
    traffic: str
    source: str
    user_id: int | None
    run_id: int | None
    type: str
    content: dict[str, Any]
    provider_message_id: str | None
    status: str | None
    status_history: list[dict[str, Any]]
    created_at: datetime


class InboxContact(BaseModel):
    id: int
    first_name: str
    last_name: str
    assignee_user_id: int | None
    blocked: bool


class InboxItem(BaseModel):
    conversation: ConversationRead
    contact: InboxContact
    last_message: MessageRead | None


class CommentCreate(_Body):
    text: str = Field(min_length=1, max_length=1000)
    mentions: list[Id] = Field(default_factory=list, max_length=50, description="Ids of mentioned users")


class CommentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    contact_id: int
    text: str
    mentions: list[int]
    source: str
    user_id: int | None
    run_id: int | None
    created_at: datetime
