"""Reading an answer by question type (WF-STEP-ASK-03). Pure: text in, stored value out or None."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import phonenumbers

from convoflow import validators

_NUMBER = re.compile(r"^[+-]?\d+([.,]\d+)?$")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_LOCATION = re.compile(r"^\(?\s*(-?\d{1,3}(?:\.\d+)?)\s*,\s*(-?\d{1,3}(?:\.\d+)?)\s*\)?$")


def _plain(text: str) -> str:
    """Ignoring case, accents and outer spaces."""
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def parse_answer(
    question_type: str,
    *,
    text: str,
    content: dict[str, Any],
    options: list[str],
    min_value: float | None,
    max_value: float | None,
    date_format: str,
    default_country: str | None,
) -> Any:
    """The answer's stored form, or None when it is not a valid answer."""
    text = text.strip()
    match question_type:
        case "text":
            return text or None
        case "multiple_choice":
            # The option's text first: a tapped quick reply sends it, even when an option is "1".
            chosen = next((option for option in options if _plain(option) == _plain(text)), None)
            if chosen is None and text.isdigit() and 1 <= int(text) <= len(options):
                chosen = options[int(text) - 1]
            return chosen
        case "number":
            if not _NUMBER.match(text):
                return None
            try:
                number = Decimal(text.replace(",", "."))
            except InvalidOperation:
                return None
            if (min_value is not None and number < Decimal(str(min_value))) or (
                max_value is not None and number > Decimal(str(max_value))
            ):
                return None
            return int(number) if number == number.to_integral_value() else float(number)
        case "rating":
            return int(text) if text.isdigit() and 1 <= int(text) <= 5 else None
        case "date":
            return _date(text, date_format)
        case "phone":
            return _phone(text, default_country)
        case "email":
            try:
                return validators.normalise_email(text)
            except ValueError:
                return None
        case "url":
            if _SCHEME.match(text) and not re.match(r"^https?://", text, re.IGNORECASE):
                return None  # another scheme (ftp://, mailto...) is no website
            candidate = text if _SCHEME.match(text) else f"https://{text}"
            try:
                return validators.http_url(candidate) if "." in candidate.split("//", 1)[-1] else None
            except ValueError:
                return None
        case "location":
            if content.get("type") == "location":
                return f"{content.get('latitude')},{content.get('longitude')}"
            found = _LOCATION.match(text)
            if found is None:
                return None
            latitude, longitude = float(found.group(1)), float(found.group(2))
            if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
                return None
            return f"{found.group(1)},{found.group(2)}"
    return None


def _phone(text: str, default_country: str | None) -> str | None:
    """E.164, and a number that can exist (the right length for its country), so "123" is no phone."""
    try:
        phone = validators.normalise_phone(text, default_country=default_country)
        possible = phonenumbers.is_possible_number(phonenumbers.parse(phone, None))
    except (ValueError, phonenumbers.NumberParseException):
        return None
    return phone if possible else None


def _date(text: str, date_format: str) -> str | None:
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text).isoformat()
        parts = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", text)
        if parts is None:
            return None
        first, second, year = (int(p) for p in parts.groups())
        day, month = (first, second) if date_format == "DD/MM/YYYY" else (second, first)
        return date(year, month, day).isoformat()
    except ValueError:
        return None
