"""Workspace settings (CRM-WS-02, CRM-CONV-04, CRM-LIFE-01, CRM-HOURS-01), stored as JSON on the workspace."""

from __future__ import annotations

from itertools import pairwise
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from convoflow import validators

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ClosingNotes = Literal["off", "optional", "category_required", "category_and_summary_required"]


class TimeInterval(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="HH:MM, 24-hour")
    end: str = Field(
        pattern=r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$", description="HH:MM, 24-hour; 24:00 = midnight"
    )

    @model_validator(mode="after")
    def _ordered(self) -> TimeInterval:
        if self.end <= self.start:
            raise ValueError("an interval must end after it starts")
        return self


def _office_hours() -> dict[Weekday, list[TimeInterval]]:
    nine_to_six = [TimeInterval(start="09:00", end="18:00")]
    return {day: (list(nine_to_six) if day not in ("sat", "sun") else []) for day in WEEKDAYS}


class BusinessHours(BaseModel):
    """Per weekday: closed (no intervals) or up to 3 intervals. Default Mon-Fri 09:00-18:00."""

    model_config = ConfigDict(extra="forbid")

    timezone: str | None = Field(None, description="IANA zone; empty means the workspace time zone")
    days: dict[Weekday, list[TimeInterval]] = Field(default_factory=_office_hours)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else validators.timezone_name(value)

    @field_validator("days")
    @classmethod
    def _days(cls, value: dict[Weekday, list[TimeInterval]]) -> dict[Weekday, list[TimeInterval]]:
        for day, intervals in value.items():
            if len(intervals) > 3:
                raise ValueError(f"{day}: at most 3 intervals")
            ordered = sorted(intervals, key=lambda interval: interval.start)
            for earlier, later in pairwise(ordered):
                if later.start < earlier.end:
                    raise ValueError(f"{day}: intervals overlap")
            value[day] = ordered
        return {day: value.get(day, []) for day in WEEKDAYS}


class WorkspaceSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    language: Literal["en", "es"] = Field("en", description="Interface and template language")
    date_format: Literal["DD/MM/YYYY", "MM/DD/YYYY"] = Field("DD/MM/YYYY", description="How dates are shown")
    default_country: str | None = Field(None, description="ISO 3166-1 alpha-2, for national phone numbers")
    closing_notes: ClosingNotes = Field("optional", description="What closing a conversation asks for")
    lifecycle_enabled: bool = Field(True, description="Show lifecycle stages")
    business_hours: BusinessHours = Field(default_factory=BusinessHours)

    @field_validator("default_country")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        return None if value is None else validators.country_code(value)
