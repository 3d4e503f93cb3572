"""Custom field value rules by type (CRM-FIELD-03): pure functions, no database."""

from __future__ import annotations

from typing import Any

import pytest

from convoflow.contacts.field_values import FIELD_TYPES, TEXT_MAX, coerce

OPTIONS = ["Gold", "Silver", "Bronze"]


# CRM-FIELD-03: every type's accepted values and their stored form.
@pytest.mark.parametrize(
    ("field_type", "raw", "stored"),
    [
        ("text", "hello", "hello"),
        ("text", "  keeps spaces ", "  keeps spaces "),
        ("text", "🎉 émoji", "🎉 émoji"),
        ("text", "x" * TEXT_MAX, "x" * TEXT_MAX),
        ("text", 42, "42"),
        ("list", "Gold", "Gold"),
        ("list", " silver ", "Silver"),
        ("checkbox", True, True),
        ("checkbox", False, False),
        ("checkbox", "yes", True),
        ("checkbox", "OFF", False),
        ("checkbox", "1", True),
        ("checkbox", "0", False),
        ("checkbox", "true", True),
        ("checkbox", "False", False),
        ("email", "Ana.Perez@Example.COM", "ana.perez@example.com"),
        ("number", 42, 42),
        ("number", -3.5, -3.5),
        ("number", "+7", 7),
        ("number", "-0.25", -0.25),
        ("number", "1e3", 1000),
        ("number", "10.50", 10.5),
        ("number", 123456789012345, 123456789012345),
        ("url", "https://example.com/a?b=1", "https://example.com/a?b=1"),
        ("url", "http://example.com", "http://example.com"),
        ("date", "2024-02-29", "2024-02-29"),
        ("date", " 2025-12-31 ", "2025-12-31"),
        ("time", "00:00", "00:00"),
        ("time", "23:59", "23:59"),
    ],
)
def test_accepted_values_are_stored_normalised(field_type: str, raw: Any, stored: Any) -> None:
    result = coerce(field_type, raw, options=OPTIONS)
    assert result == stored
    assert type(result) is type(stored)


# CRM-FIELD-03: values failing validation are rejected with a readable reason.
@pytest.mark.parametrize(
    ("field_type", "raw", "reason"),
    [
        ("text", "x" * (TEXT_MAX + 1), "at most 2000"),
        ("text", True, "expected text"),
        ("text", ["a"], "expected text"),
        ("text", {"a": 1}, "expected text"),
        ("list", "Platinum", "not one of the allowed values"),
        ("list", 1, "expected text"),
        ("checkbox", "maybe", "true or false"),
        ("checkbox", 1, "true or false"),
        ("checkbox", [True], "true or false"),
        ("email", "not-an-email", "not a valid email"),
        ("email", "ana@", "not a valid email"),
        ("email", 5, "expected text"),
        ("number", "abc", "expected a number"),
        ("number", "NaN", "finite"),
        ("number", "Infinity", "finite"),
        ("number", float("inf"), "finite"),
        ("number", True, "expected a number"),
        ("number", "1234567890123456", "15 significant digits"),
        ("number", [1], "expected a number"),
        ("url", "ftp://example.com/file", "http"),
        ("url", "example.com", "http"),
        ("url", "https://", "http"),
        ("date", "2023-02-29", "YYYY-MM-DD"),
        ("date", "31/12/2025", "YYYY-MM-DD"),
        ("date", "2025-1-5", "YYYY-MM-DD"),
        ("date", 20250101, "expected text"),
        ("time", "24:00", "HH:MM"),
        ("time", "7:30", "HH:MM"),
        ("time", "12:60", "HH:MM"),
        ("time", "12:30:00", "HH:MM"),
    ],
)
def test_rejected_values_raise_value_error(field_type: str, raw: Any, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        coerce(field_type, raw, options=OPTIONS)


@pytest.mark.parametrize("field_type", FIELD_TYPES)
@pytest.mark.parametrize("raw", [None, "", "   "])
def test_null_or_blank_clears_every_type(field_type: str, raw: Any) -> None:
    # Decision: null or an empty string clears a value.
    assert coerce(field_type, raw, options=OPTIONS) is None


def test_list_value_without_options_is_refused() -> None:
    with pytest.raises(ValueError, match="not one of the allowed values"):
        coerce("list", "Gold", options=None)


def test_unknown_type_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown field type"):
        coerce("colour", "red")
