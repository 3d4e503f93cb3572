"""Custom field value rules by type (CRM-FIELD-03). Pure functions: raw value in, stored value out."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, get_args

from convoflow import validators

FieldType = Literal["text", "list", "checkbox", "email", "number", "url", "date", "time"]
FIELD_TYPES: tuple[str, ...] = get_args(FieldType)
TEXT_MAX = 2000
NUMBER_MAX_DIGITS = 15  # what an IEEE double holds exactly, so a stored number reads back unchanged
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}


def coerce(field_type: str, raw: Any, *, options: list[str] | None = None) -> Any:
    """The stored form of `raw`, or None when `raw` clears the value; ValueError when invalid."""
    if raw is None or (isinstance(raw, str) and raw.strip() == ""):
        return None
    match field_type:
        case "text":
            return _text(raw)
        case "list":
            return _list_value(raw, options or [])
        case "checkbox":
            return _checkbox(raw)
        case "email":
            return validators.normalise_email(_string(raw))
        case "number":
            return _number(raw)
        case "url":
            return validators.http_url(_string(raw))
        case "date":
            return _date(raw)
        case "time":
            return _time(raw)
    raise ValueError(f"unknown field type {field_type!r}")


def _string(raw: Any) -> str:
    if not isinstance(raw, str):
        raise ValueError(f"expected text, got {type(raw).__name__}")
    return raw


def _text(raw: Any) -> str:
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise ValueError(f"expected text, got {type(raw).__name__}")
    value = str(raw)
    if len(value) > TEXT_MAX:
        raise ValueError(f"text must be at most {TEXT_MAX} characters")
    return value


def _list_value(raw: Any, options: list[str]) -> str:
    value = _string(raw).strip()
    for option in options:
        if option.casefold() == value.casefold():
            return option
    raise ValueError(f"{value!r} is not one of the allowed values: {', '.join(options)}")


def _checkbox(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str):
        lowered = raw.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    raise ValueError("expected true or false")


def _number(raw: Any) -> int | float:
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise ValueError("expected a number")
    try:
        number = Decimal(str(raw).strip())
    except InvalidOperation:
        raise ValueError("expected a number such as 42 or -3.5") from None
    if not number.is_finite():
        raise ValueError("the number must be finite")
    number = number.normalize()
    if len(number.as_tuple().digits) > NUMBER_MAX_DIGITS:
        raise ValueError(f"the number may have at most {NUMBER_MAX_DIGITS} significant digits")
    return int(number) if number == number.to_integral_value() else float(number)


def _date(raw: Any) -> str:
    value = _string(raw).strip()
    try:
        if not _DATE.match(value):
            raise ValueError
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise ValueError("expected a date as YYYY-MM-DD") from None


def _time(raw: Any) -> str:
    value = _string(raw).strip()
    if not _TIME.match(value):
        raise ValueError("expected a time as HH:MM (24-hour)")
    return value
