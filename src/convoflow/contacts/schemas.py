"""Request and response bodies of /api/contacts, /api/fields, /api/tags and /api/lifecycle-stages."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from convoflow.api.ids import Id
from convoflow.contacts.field_values import FieldType
from convoflow.contacts.filters import ContactFilter
from convoflow.schema_types import Color, Description255, Emoji, Name50, Name255

# Standard values are validated by the contacts service, which knows the workspace's default country.
ShortText = Annotated[str, Field(max_length=2048)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ContactWrite(_Body):
    """Standard fields plus custom field values by slug; on update only the keys sent change."""

    first_name: ShortText | None = None
    last_name: ShortText | None = None
    email: ShortText | None = None
    phone: ShortText | None = None
    language: ShortText | None = None
    country_code: ShortText | None = None
    profile_pic: ShortText | None = None
    custom_fields: dict[str, Any] = Field(default_factory=dict, max_length=200)

    def standard_values(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True, exclude={"custom_fields"})


class Person(BaseModel):
    id: int
    first_name: str
    last_name: str
    email: str


class StageRef(BaseModel):
    id: int
    name: str


class ContactRead(BaseModel):
    id: int
    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    language: str | None
    country_code: str | None
    profile_pic: str | None
    lifecycle: StageRef | None
    tags: list[str]
    assignee: Person | None
    status: Literal["open", "closed"]
    custom_fields: dict[str, Any]
    blocked: bool
    last_channel_id: int | None
    created_at: datetime


class ContactQuery(_Body):
    search: str | None = Field(None, max_length=200)
    filter: ContactFilter | None = None
    timezone: str = Field("UTC", max_length=64)


class TagChange(_Body):
    add: list[str] = Field(default_factory=list, max_length=10)
    remove: list[str] = Field(default_factory=list, max_length=10)


class LifecycleChange(_Body):
    stage_id: Id | None


class AssigneeChange(_Body):
    user_id: Id | None


class BlockChange(_Body):
    blocked: bool


class MergeRequest(_Body):
    contact_ids: list[Id] = Field(min_length=2, max_length=2, description="[survivor, merged away]")
    values: ContactWrite | None = Field(None, description="Values that win over both contacts'")


class FieldCreate(_Body):
    name: Name50
    type: FieldType
    slug: str | None = Field(None, max_length=50, description="Derived from the name when empty")
    description: Description255 = ""
    options: list[str] | None = Field(None, max_length=100, description="Allowed values of a list field")


class FieldUpdate(_Body):
    name: Name50 | None = None
    description: Description255 | None = None
    options: list[str] | None = Field(None, max_length=100)


class FieldRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    slug: str
    description: str
    type: FieldType
    options: list[str]
    created_at: datetime


class TagCreate(_Body):
    name: Name255
    description: Description255 = ""
    color: Color | None = None
    emoji: Emoji | None = None


class TagUpdate(_Body):
    name: Name255 | None = None
    description: Description255 | None = None
    color: Color | None = None
    emoji: Emoji | None = None


class TagRead(BaseModel):
    id: int
    name: str
    description: str
    color: str | None
    emoji: str | None
    contact_count: int


class StageCreate(_Body):
    name: Name50
    is_lost: bool = False
    is_default: bool = False


class StageUpdate(_Body):
    name: Name50 | None = None
    is_lost: bool | None = None
    is_default: bool | None = None


class StageRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    position: int
    is_lost: bool
    is_default: bool


class StageOrder(_Body):
    stage_ids: list[Id] = Field(max_length=20)


class ActivityRead(BaseModel):
    id: int
    type: str
    source: str
    actor_id: int | None
    run_id: int | None
    payload: dict[str, Any]
    occurred_at: datetime
