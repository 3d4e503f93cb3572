"""Request and response bodies of /api/teams."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from convoflow.api.ids import Id
from convoflow.schema_types import Description255, Name50


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TeamCreate(_Body):
    name: Name50
    description: Description255 = ""


class TeamUpdate(_Body):
    name: Name50 | None = None
    description: Description255 | None = None


class TeamRead(BaseModel):
    id: int
    name: str
    description: str
    member_count: int
    created_at: datetime


class TeamMemberAdd(_Body):
    user_id: Id
    move: bool = False  # CRM-TEAM-02: confirm moving a user out of their current team
