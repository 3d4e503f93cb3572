"""Workspace settings model (CRM-WS-02) and business hours (CRM-HOURS-01)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from convoflow.accounts.workspace_settings import BusinessHours, TimeInterval, WorkspaceSettings


def test_defaults() -> None:
    # CRM-WS-02: English, DD/MM/YYYY, no default country; hours Mon-Fri 09:00-18:00.
    settings = WorkspaceSettings()
    dumped = settings.model_dump(mode="json")
    assert dumped["language"] == "en"
    assert dumped["date_format"] == "DD/MM/YYYY"
    assert dumped["default_country"] is None
    assert dumped["closing_notes"] == "optional"
    assert dumped["lifecycle_enabled"] is True
    days = dumped["business_hours"]["days"]
    assert list(days) == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    for day in ("mon", "tue", "wed", "thu", "fri"):
        assert days[day] == [{"start": "09:00", "end": "18:00"}]
    assert days["sat"] == [] and days["sun"] == []
    assert dumped["business_hours"]["timezone"] is None


def test_defaults_do_not_share_interval_lists() -> None:
    first, second = WorkspaceSettings(), WorkspaceSettings()
    first.business_hours.days["mon"].append(TimeInterval(start="19:00", end="20:00"))
    assert len(second.business_hours.days["mon"]) == 1
    assert len(first.business_hours.days["tue"]) == 1


@pytest.mark.parametrize(("given", "stored"), [("es", "ES"), (" mx ", "MX"), ("US", "US")])
def test_default_country_is_normalised_iso_alpha2(given: str, stored: str) -> None:
    assert WorkspaceSettings(default_country=given).default_country == stored


@pytest.mark.parametrize("bad", ["XX", "ESP", "E", "", "España"])
def test_default_country_must_be_iso_alpha2(bad: str) -> None:
    with pytest.raises(ValidationError, match="ISO 3166-1 alpha-2"):
        WorkspaceSettings(default_country=bad)


@pytest.mark.parametrize(
    ("field", "value"),
    [("language", "fr"), ("language", "EN"), ("date_format", "YYYY-MM-DD"), ("closing_notes", "always")],
)
def test_enumerated_settings_refuse_other_values(field: str, value: str) -> None:
    with pytest.raises(ValidationError):
        WorkspaceSettings.model_validate({field: value})


def test_unknown_setting_is_refused() -> None:
    with pytest.raises(ValidationError, match="extra"):
        WorkspaceSettings.model_validate({"colour": "blue"})


def test_business_hours_sorts_intervals_and_fills_missing_days() -> None:
    hours = BusinessHours.model_validate(
        {
            "timezone": "America/Mexico_City",
            "days": {
                "wed": [{"start": "15:00", "end": "24:00"}, {"start": "08:00", "end": "12:00"}],
                "sat": [{"start": "10:00", "end": "14:00"}],
            },
        }
    )
    assert hours.timezone == "America/Mexico_City"
    assert [(i.start, i.end) for i in hours.days["wed"]] == [("08:00", "12:00"), ("15:00", "24:00")]
    assert [(i.start, i.end) for i in hours.days["sat"]] == [("10:00", "14:00")]
    assert hours.days["mon"] == [] and list(hours.days) == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def test_adjacent_intervals_are_allowed() -> None:
    hours = BusinessHours.model_validate(
        {"days": {"mon": [{"start": "09:00", "end": "12:00"}, {"start": "12:00", "end": "13:00"}]}}
    )
    assert len(hours.days["mon"]) == 2


def _interval(start: str, end: str) -> dict[str, str]:
    return {"start": start, "end": end}


@pytest.mark.parametrize(
    ("days", "message"),
    [
        (
            {
                "mon": [
                    _interval("08:00", "09:00"),
                    _interval("10:00", "11:00"),
                    _interval("12:00", "13:00"),
                    _interval("14:00", "15:00"),
                ]
            },
            "at most 3 intervals",
        ),
        ({"tue": [_interval("09:00", "13:00"), _interval("12:00", "18:00")]}, "overlap"),
        ({"tue": [_interval("09:00", "18:00"), _interval("10:00", "11:00")]}, "overlap"),
        ({"wed": [_interval("18:00", "09:00")]}, "end after it starts"),
        ({"wed": [_interval("09:00", "09:00")]}, "end after it starts"),
        ({"thu": [_interval("24:00", "24:00")]}, "pattern"),
        ({"thu": [_interval("9:00", "10:00")]}, "pattern"),
        ({"thu": [_interval("09:00", "25:00")]}, "pattern"),
        ({"funday": [_interval("09:00", "10:00")]}, "funday"),
    ],
)
def test_invalid_business_hours_are_refused(days: dict[str, Any], message: str) -> None:
    # CRM-HOURS-01: at most 3 intervals a day, no overlap, each ends after it starts.
    with pytest.raises(ValidationError, match=message):
        BusinessHours.model_validate({"days": days})


def test_business_hours_timezone_must_be_iana() -> None:
    with pytest.raises(ValidationError, match="unknown time zone"):
        BusinessHours.model_validate({"timezone": "Mars/Olympus"})


def test_stored_settings_round_trip_through_json() -> None:
    settings = WorkspaceSettings.model_validate(
        {
            "language": "es",
            "date_format": "MM/DD/YYYY",
            "default_country": "es",
            "business_hours": {"days": {"fri": [_interval("09:00", "14:00")]}},
        }
    )
    dumped = settings.model_dump(mode="json")
    again = WorkspaceSettings.model_validate(dumped)
    assert again == settings
    assert again.default_country == "ES"
    assert again.business_hours.days["mon"] == []
