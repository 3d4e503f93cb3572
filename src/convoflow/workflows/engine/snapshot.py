"""The contact as a step sees it, read fresh at every step (WF-VAR-03, WF-RUN-08)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Assignee:
    id: int
    first_name: str
    last_name: str
    email: str
    team_id: int | None
    team_name: str | None
    online: bool


@dataclass(frozen=True, slots=True)
class LastMessage:
    text: str
    at: datetime
    source: str


@dataclass(frozen=True, slots=True)
class ContactSnapshot:
    id: int
    workspace_id: int
    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    language: str | None
    country_code: str | None
    blocked: bool
    stage_id: int | None = None
    stage_name: str | None = None
    tags: dict[int, str] = field(default_factory=dict)  # id -> name
    custom: dict[str, Any] = field(default_factory=dict)  # slug -> stored value
    field_types: dict[str, str] = field(default_factory=dict)  # slug -> type
    assignee: Assignee | None = None
    conversation_open: bool = False
    last_channel_id: int | None = None
    last_incoming: LastMessage | None = None
    last_outgoing: LastMessage | None = None

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def standard(self, key: str) -> Any:
        return {
            "first_name": self.first_name,
            "last_name": self.last_name,
            "email": self.email,
            "phone": self.phone,
            "language": self.language,
            "country_code": self.country_code,
        }.get(key)
