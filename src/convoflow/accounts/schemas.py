"""Request and response bodies of the accounts routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from convoflow import validators
from convoflow.accounts.principal import Restrictions, Role
from convoflow.accounts.workspace_settings import BusinessHours, ClosingNotes, WorkspaceSettings
from convoflow.api.ids import Id
from convoflow.schema_types import Email, Name100, OptionalPersonName, Password, PersonName, Timezone


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginRequest(_Body):
    email: str = Field(max_length=320)
    password: Password


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    first_name: str
    last_name: str


class WorkspaceSummary(BaseModel):
    id: int
    name: str
    role: Role


class WorkspaceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    slug: str
    name: str
    timezone: str
    settings: WorkspaceSettings
    created_at: datetime


class MembershipRead(BaseModel):
    role: Role
    restrictions: Restrictions
    team_id: int | None


class MeRead(BaseModel):
    user: UserRead
    availability: Literal["online", "offline"]
    workspace: WorkspaceRead | None
    membership: MembershipRead | None
    workspaces: list[WorkspaceSummary]


class LoginResponse(MeRead):
    csrf_token: str = Field(description="Send it back in the X-CSRF-Token header of every change")


class SwitchWorkspace(_Body):
    workspace_id: Id


class AvailabilityUpdate(_Body):
    availability: Literal["online", "offline"]


class ProfileUpdate(_Body):
    first_name: PersonName | None = None
    last_name: OptionalPersonName | None = None


class PasswordChange(_Body):
    current_password: Password
    new_password: Password


class WorkspaceCreate(_Body):
    name: Name100
    timezone: Timezone = "UTC"
    language: Literal["en", "es"] = "en"


class WorkspaceSettingsPatch(_Body):
    language: Literal["en", "es"] | None = None
    date_format: Literal["DD/MM/YYYY", "MM/DD/YYYY"] | None = None
    default_country: str | None = Field(None, description="ISO 3166-1 alpha-2; null clears")
    closing_notes: ClosingNotes | None = None
    lifecycle_enabled: bool | None = None
    business_hours: BusinessHours | None = None

    @field_validator("language", "date_format", "closing_notes", "lifecycle_enabled", "business_hours")
    @classmethod
    def _not_null(cls, value: object) -> object:
        # Omit a setting to keep it; only default_country can be cleared with null.
        if value is None:
            raise ValueError("may be omitted but not null")
        return value

    @field_validator("default_country")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        return None if value is None else validators.country_code(value)


class WorkspaceUpdate(_Body):
    name: Name100 | None = None
    timezone: Timezone | None = None
    settings: WorkspaceSettingsPatch | None = None

    def settings_patch(self) -> dict[str, Any]:
        if self.settings is None:
            return {}
        return self.settings.model_dump(mode="json", exclude_unset=True)


class MemberRead(BaseModel):
    id: int
    email: str
    first_name: str
    last_name: str
    role: Role
    restrictions: Restrictions
    team_id: int | None
    availability: Literal["online", "offline"]
    last_seen_at: datetime | None
    deactivated: bool


class MemberUpdate(_Body):
    role: Role | None = None
    restrictions: Restrictions | None = None


class InvitationCreate(_Body):
    email: Email
    role: Role = "agent"
    team_id: Id | None = None


class InvitationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    role: Role
    team_id: int | None
    created_at: datetime
    expires_at: datetime


class InvitationCreated(BaseModel):
    invitation: InvitationRead
    token: str = Field(description="Shown once; the invitee accepts with it at /api/auth/accept-invitation")


class InvitationAccept(_Body):
    token: str = Field(min_length=1, max_length=200)
    first_name: PersonName
    last_name: OptionalPersonName = ""
    password: Password


class ApiTokenCreate(_Body):
    name: Name100
    expires_in_days: int | None = Field(None, ge=1, le=3650, description="Empty: never expires")


class ApiTokenRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    created_by: int | None
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiTokenCreated(BaseModel):
    token: ApiTokenRead
    secret: str = Field(description="The full token; shown once, never again")
