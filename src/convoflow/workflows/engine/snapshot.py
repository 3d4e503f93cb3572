"""The contact as a step sees it, read fresh at every step (WF-VAR-03, WF-RUN-08)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast


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


_LAZY = ("stage_name", "tags", "assignee", "conversation_open", "last_incoming", "last_outgoing")


class ContactSnapshot:
    """The contact row's own columns, plus related facts (tags, assignee, conversation, last messages)
    given as values or as loaders called on first use: a step that never looks at them costs no query."""

    __slots__ = (
        "_loaders",
        "_related",
        "blocked",
        "country_code",
        "custom",
        "email",
        "field_types",
        "first_name",
        "id",
        "language",
        "last_channel_id",
        "last_name",
        "phone",
        "stage_id",
        "workspace_id",
    )  # fmt: skip

    def __init__(
        self,
        *,
        id: int,
        workspace_id: int,
        first_name: str,
        last_name: str,
        email: str | None,
        phone: str | None,
        language: str | None,
        country_code: str | None,
        blocked: bool,
        stage_id: int | None = None,
        stage_name: str | None = None,
        tags: dict[int, str] | None = None,
        custom: dict[str, Any] | None = None,
        field_types: dict[str, str] | None = None,
        assignee: Assignee | None = None,
        conversation_open: bool = False,
        last_channel_id: int | None = None,
        last_incoming: LastMessage | None = None,
        last_outgoing: LastMessage | None = None,
        loaders: Mapping[str, Callable[[], Any]] | None = None,
    ) -> None:
        self.id, self.workspace_id, self.blocked = id, workspace_id, blocked
        self.first_name, self.last_name, self.email, self.phone = first_name, last_name, email, phone
        self.language, self.country_code, self.stage_id = language, country_code, stage_id
        self.custom = custom or {}  # slug -> stored value
        self.field_types = field_types or {}  # slug -> type
        self.last_channel_id = last_channel_id
        self._related: dict[str, Any] = {
            "stage_name": stage_name,
            "tags": tags or {},  # id -> name
            "assignee": assignee,
            "conversation_open": conversation_open,
            "last_incoming": last_incoming,
            "last_outgoing": last_outgoing,
        }
        self._loaders = dict(loaders or {})
        unknown = set(self._loaders) - set(_LAZY)
        if unknown:
            raise ValueError(f"no lazy contact facts named {sorted(unknown)}")

    def _fact(self, name: str) -> Any:
        loader = self._loaders.pop(name, None)
        if loader is not None:
            self._related[name] = loader()
        return self._related[name]

    @property
    def stage_name(self) -> str | None:
        return cast(str | None, self._fact("stage_name"))

    @property
    def tags(self) -> dict[int, str]:
        return cast(dict[int, str], self._fact("tags"))

    @property
    def assignee(self) -> Assignee | None:
        return cast(Assignee | None, self._fact("assignee"))

    @property
    def conversation_open(self) -> bool:
        return bool(self._fact("conversation_open"))

    @property
    def last_incoming(self) -> LastMessage | None:
        return cast(LastMessage | None, self._fact("last_incoming"))

    @property
    def last_outgoing(self) -> LastMessage | None:
        return cast(LastMessage | None, self._fact("last_outgoing"))

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
