"""Value rules shared by several features: names, email, phone, country, language, URL, time zone.

Each function returns the normalised value or raises ValueError with a readable reason, so it can back
a pydantic validator and a service check alike.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import phonenumbers
import pycountry
from email_validator import EmailNotValidError, validate_email

# fullmatch() with ASCII classes: `$` would accept a trailing newline and `\d` any script's digits.
E164 = re.compile(r"\+[1-9][0-9]{1,14}")
_PHONE_PUNCTUATION = re.compile(r"[\s().\-]")
_COLOR = re.compile(r"#[0-9A-Fa-f]{6}")


def clean_name(value: str, *, field: str, max_length: int, min_length: int = 1) -> str:
    """Trim, NFC-normalise and bound a display name; control characters are refused."""
    value = unicodedata.normalize("NFC", value).strip()
    if len(value) < min_length:
        raise ValueError(f"{field} must not be empty" if min_length == 1 else f"{field} is too short")
    if len(value) > max_length:
        raise ValueError(f"{field} must be at most {max_length} characters")
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise ValueError(f"{field} must not contain control characters")
    return value


def fold(value: str) -> str:
    """The case-insensitive key of a name (unique-ignoring-case columns)."""
    return unicodedata.normalize("NFC", value).strip().casefold()


def normalise_email(value: str) -> str:
    try:
        result = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid email address: {exc}") from None
    return result.normalized.lower()


def normalise_phone(value: str, *, default_country: str | None = None) -> str:
    """E.164: `+` then 2-15 digits (CRM-FIELD-01). National numbers need the workspace's default country."""
    compact = _PHONE_PUNCTUATION.sub("", value.strip())
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if compact.startswith("+"):
        if not E164.fullmatch(compact):
            raise ValueError("phone must be + followed by 2 to 15 digits (E.164)")
        return compact
    if not compact.isdigit():
        raise ValueError("phone must contain digits only")
    if default_country is None:
        raise ValueError("phone must be in international format (+ and country code)")
    try:
        parsed = phonenumbers.parse(compact, default_country)
    except phonenumbers.NumberParseException:
        raise ValueError("phone is not a valid number for the workspace's default country") from None
    formatted = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if not E164.fullmatch(formatted):
        raise ValueError("phone must be + followed by 2 to 15 digits (E.164)")
    return str(formatted)


def country_from_phone(phone: str) -> str | None:
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(phone, None))
    except phonenumbers.NumberParseException:
        return None
    return str(region) if region and region != "ZZ" else None


def country_code(value: str) -> str:
    code = value.strip().upper()
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        raise ValueError("country must be an ISO 3166-1 alpha-2 code such as ES")
    return code


def language_code(value: str) -> str:
    code = value.strip().lower()
    if len(code) != 2 or pycountry.languages.get(alpha_2=code) is None:
        raise ValueError("language must be an ISO 639-1 code such as es")
    return code


def http_url(value: str, *, max_length: int = 2048) -> str:
    value = value.strip()
    if len(value) > max_length:
        raise ValueError(f"URL must be at most {max_length} characters")
    if any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in value):
        raise ValueError("URL must not contain spaces or control characters")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("URL must start with http:// or https:// and name a host")
    try:
        parts.port  # noqa: B018 - raises on a port outside 0-65535 or not a number
    except ValueError:
        raise ValueError("URL has an invalid port") from None
    return value


@cache
def _zones_by_folded_name() -> dict[str, str]:
    # Some systems link zoneinfo/localtime to the host's own zone: not a name a workspace may hold.
    names = (available_timezones() - {"localtime"}) | {"UTC"}
    return {name.lower(): name for name in names}


def timezone_name(value: str) -> str:
    """An IANA zone name, exactly as spelled in the time zone database.

    ZoneInfo() alone would also accept files that are not zones of the database ("localtime",
    "posixrules", "right/UTC") and, on case-insensitive file systems, misspelled case.
    """
    if _zones_by_folded_name().get(value.lower()) != value:
        raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Europe/Madrid)")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Europe/Madrid)") from None
    return value


def color(value: str) -> str:
    if not _COLOR.fullmatch(value):
        raise ValueError("colour must look like #RRGGBB")
    return value.upper()


def timezone_name_ignoring_case(value: str) -> str:
    """The canonical IANA name for `value` matched ignoring case (the n8n node sends "utc")."""
    name = _zones_by_folded_name().get(value.strip().lower())
    if name is not None:
        return name
    raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Europe/Madrid)")
