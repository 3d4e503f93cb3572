"""Message content by type (CRM-MSG-02), validated as a discriminated union."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


class _Content(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TextContent(_Content):
    type: Literal["text"] = "text"
    text: str = Field(min_length=1, max_length=4096)


class Attachment(_Content):
    type: Literal["image", "video", "audio", "file"]
    url: str = Field(min_length=1, max_length=2048)
    name: str | None = Field(None, max_length=255)


class AttachmentContent(_Content):
    type: Literal["attachment"] = "attachment"
    attachment: Attachment
    caption: str | None = Field(None, max_length=1024)


class LocationContent(_Content):
    type: Literal["location"] = "location"
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    address: str | None = Field(None, max_length=1024)


class QuickReplyContent(_Content):
    type: Literal["quick_reply"] = "quick_reply"
    title: str = Field(min_length=1, max_length=2000)
    replies: list[Annotated[str, Field(min_length=1, max_length=20)]] = Field(min_length=1, max_length=10)


class EmailContent(_Content):
    type: Literal["email"] = "email"
    text: str = Field(min_length=1)
    subject: str | None = Field(None, max_length=998)
    html: str | None = None


class TemplateRef(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str = Field(min_length=1, max_length=512)
    language_code: str = Field(alias="languageCode", min_length=2, max_length=16)
    components: list[dict[str, Any]] = Field(default_factory=list)


class WhatsappTemplateContent(_Content):
    type: Literal["whatsapp_template"] = "whatsapp_template"
    template: TemplateRef


class CustomPayloadContent(_Content):
    type: Literal["custom_payload"] = "custom_payload"
    payload: dict[str, Any]


class UnsupportedContent(_Content):
    type: Literal["unsupported"] = "unsupported"
    description: str | None = Field(None, max_length=1024)


MessageContent = Annotated[
    TextContent
    | AttachmentContent
    | LocationContent
    | QuickReplyContent
    | EmailContent
    | WhatsappTemplateContent
    | CustomPayloadContent
    | UnsupportedContent,
    Field(discriminator="type"),
]
CONTENT_ADAPTER: TypeAdapter[MessageContent] = TypeAdapter(MessageContent)
