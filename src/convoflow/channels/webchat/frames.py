"""What the widget sends, over the WebSocket or the REST fallback: one JSON object per frame.

`client_id` is the widget's own id for a message; the same id sent again (a retry after a lost answer)
is the same message, stored once.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

MAX_TEXT = 4096  # conversations.content's limit for a text
ClientId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
FileId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{32}$")]


class _Frame(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TextFrame(_Frame):
    type: Literal["text"]
    client_id: ClientId
    text: str = Field(min_length=1, max_length=MAX_TEXT)


class ButtonFrame(_Frame):
    """A press on a quick-reply button: reads as the visitor typing the button's label."""

    type: Literal["button"]
    client_id: ClientId
    text: str = Field(min_length=1, max_length=20)  # a quick reply's limit


class AttachmentFrame(_Frame):
    """A file uploaded first (`POST /webchat/{key}/uploads`), now sent as a message."""

    type: Literal["attachment"]
    client_id: ClientId
    file_id: FileId
    caption: str | None = Field(None, max_length=1024)


class AckFrame(_Frame):
    """The widget has shown these messages of ours (their `ref`s): they are `delivered`."""

    type: Literal["ack"]
    refs: list[Annotated[str, Field(max_length=200)]] = Field(min_length=1, max_length=100)


VisitorFrame = Annotated[TextFrame | ButtonFrame | AttachmentFrame | AckFrame, Field(discriminator="type")]
FRAME: TypeAdapter[VisitorFrame] = TypeAdapter(VisitorFrame)
