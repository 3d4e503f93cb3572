"""Shared value rules (validators.py) and the request-schema types built on them (schema_types.py)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from convoflow import schema_types, validators

# --- names ---------------------------------------------------------------------------------------------


def test_clean_name_trims_and_normalises_to_nfc() -> None:
    decomposed = "  Jose\u0301 Pe\u0301rez \n"
    assert validators.clean_name(decomposed, field="name", max_length=50) == "Jos\u00e9 P\u00e9rez"


@pytest.mark.parametrize("value", ["Ana\x00", "Ana\tMaría", "A\x7fB", "Ana\u0085B"])
def test_clean_name_refuses_control_characters(value: str) -> None:
    with pytest.raises(ValueError, match="name must not contain control characters"):
        validators.clean_name(value, field="name", max_length=50)


def test_clean_name_bounds_the_length_after_trimming() -> None:
    assert validators.clean_name(" " + "a" * 50 + " ", field="name", max_length=50) == "a" * 50
    with pytest.raises(ValueError, match="name must be at most 50 characters"):
        validators.clean_name("a" * 51, field="name", max_length=50)
    # NFC counts a composed character once.
    assert validators.clean_name("e\u0301" * 50, field="name", max_length=50) == "\u00e9" * 50


def test_clean_name_minimum_length() -> None:
    with pytest.raises(ValueError, match="tag name must not be empty"):
        validators.clean_name("   ", field="tag name", max_length=50)
    assert validators.clean_name("  ", field="last name", max_length=50, min_length=0) == ""
    with pytest.raises(ValueError, match="code is too short"):
        validators.clean_name("ab", field="code", max_length=50, min_length=3)


def test_fold_ignores_case_beyond_ascii_and_normalisation() -> None:
    assert validators.fold(" Stra\u00dfe ") == validators.fold("STRASSE") == "strasse"
    assert validators.fold("Jose\u0301") == validators.fold("JOSÉ")


# --- email ---------------------------------------------------------------------------------------------


def test_email_is_trimmed_and_lower_cased() -> None:
    assert validators.normalise_email("  Ana.Perez@Example.COM ") == "ana.perez@example.com"


@pytest.mark.parametrize("value", ["", "ana", "ana@", "@example.com", "ana@example", "a b@example.com"])
def test_invalid_emails_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="not a valid email address"):
        validators.normalise_email(value)


# --- phone (CRM-FIELD-01: E.164, `+` then 2-15 digits) -------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("+34612345678", "+34612345678"),
        ("+34 612 34 56 78", "+34612345678"),
        ("+1 (415) 555-0100", "+14155550100"),
        ("+44.20.7946.0958", "+442079460958"),
        ("0034 612 345 678", "+34612345678"),
        ("+12", "+12"),
        ("+123456789012345", "+123456789012345"),
    ],
)
def test_international_numbers_become_e164(value: str, expected: str) -> None:
    assert validators.normalise_phone(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "+",
        "+1",  # one digit
        "+1234567890123456",  # sixteen digits
        "+0612345678",  # no country code starts with 0
        "+34 612 abc",
        "00",
        "+34612345678\n+34999",
        "+3\uff14\uff16\uff11\uff12\uff13\uff14\uff15\uff16",  # full-width digits are not E.164
    ],
)
def test_malformed_international_numbers_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="phone"):
        validators.normalise_phone(value)


def test_national_numbers_use_the_default_country() -> None:
    assert validators.normalise_phone("612 34 56 78", default_country="ES") == "+34612345678"
    assert validators.normalise_phone("(415) 555-0100", default_country="US") == "+14155550100"
    assert validators.normalise_phone("020 7946 0958", default_country="GB") == "+442079460958"


def test_national_numbers_need_a_default_country() -> None:
    with pytest.raises(ValueError, match="international format"):
        validators.normalise_phone("612345678")


@pytest.mark.parametrize("value", ["", "abc", "612-34-x", "+34 612 / 345"])
def test_phone_with_letters_or_nothing_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="phone"):
        validators.normalise_phone(value, default_country="ES")


def test_impossible_national_number_is_refused() -> None:
    with pytest.raises(ValueError, match="phone"):
        validators.normalise_phone("1" * 25, default_country="ES")


def test_country_from_phone() -> None:
    assert validators.country_from_phone("+34612345678") == "ES"
    assert validators.country_from_phone("+14155550100") == "US"
    assert validators.country_from_phone("+999123") is None
    assert validators.country_from_phone("not a phone") is None


# --- country and language codes (CRM-FIELD-01) ---------------------------------------------------------


def test_country_codes_are_iso_3166_alpha_2_upper_case() -> None:
    assert validators.country_code(" es ") == "ES"
    assert validators.country_code("MX") == "MX"
    for bad in ["ESP", "E", "XX", "", "1A"]:
        with pytest.raises(ValueError, match="ISO 3166-1 alpha-2"):
            validators.country_code(bad)


def test_language_codes_are_iso_639_1_lower_case() -> None:
    assert validators.language_code("ES") == "es"
    assert validators.language_code(" en ") == "en"
    for bad in ["spa", "e", "xx", "", "e1"]:
        with pytest.raises(ValueError, match="ISO 639-1"):
            validators.language_code(bad)


# --- URLs ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "https://example.com",
        "http://example.com:8080/a/b?c=d#e",
        "https://sub.example.com/ñ",
        "http://127.0.0.1",
    ],
)
def test_http_urls_are_accepted(value: str) -> None:
    assert validators.http_url(f"  {value} ") == value


@pytest.mark.parametrize(
    "value",
    [
        "ftp://example.com",
        "javascript:alert(1)",
        "example.com",
        "http://",
        "https:///path",
        "http://:80/",
        "http://exa mple.com",
        "http://example.com/\r\nX-Injected: 1",
        "http://example.com:99999/",
        "http://example.com:port/",
    ],
)
def test_non_http_or_malformed_urls_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="URL"):
        validators.http_url(value)


def test_url_length_is_bounded() -> None:
    url = "https://example.com/" + "a" * 2028
    assert validators.http_url(url) == url
    with pytest.raises(ValueError, match="at most 2048"):
        validators.http_url(url + "a")


# --- time zones ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["UTC", "Europe/Madrid", "America/Argentina/Buenos_Aires", "Etc/GMT+5"])
def test_iana_time_zones_are_accepted(value: str) -> None:
    assert validators.timezone_name(value) == value


@pytest.mark.parametrize(
    "value",
    ["europe/madrid", "Mars/Olympus", "", "Europe/Madrid ", "../etc/passwd", "localtime", "right/UTC"],
)
def test_unknown_or_misspelt_time_zones_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        validators.timezone_name(value)


def test_time_zone_ignoring_case_returns_the_canonical_name() -> None:
    assert validators.timezone_name_ignoring_case("utc") == "UTC"
    assert validators.timezone_name_ignoring_case(" europe/MADRID ") == "Europe/Madrid"
    assert validators.timezone_name_ignoring_case("america/new_york") == "America/New_York"
    with pytest.raises(ValueError, match="unknown time zone"):
        validators.timezone_name_ignoring_case("mars/olympus")


# --- colour (CRM-TAG-01) -------------------------------------------------------------------------------


def test_colour_is_hash_and_six_hex_digits_upper_cased() -> None:
    assert validators.color("#a1b2c3") == "#A1B2C3"
    for bad in ["a1b2c3", "#abc", "#a1b2c3d", "#GGGGGG", "#a1b2c3\n", " #a1b2c3"]:
        with pytest.raises(ValueError, match="#RRGGBB"):
            validators.color(bad)


# --- schema types --------------------------------------------------------------------------------------


def _valid(kind: Any, value: Any) -> Any:
    return TypeAdapter(kind).validate_python(value)


def _invalid(kind: Any, value: Any) -> str:
    with pytest.raises(ValidationError) as info:
        TypeAdapter(kind).validate_python(value)
    return str(info.value)


def test_name_types_apply_clean_name_with_their_bounds() -> None:
    assert _valid(schema_types.Name50, "  Ventas\u0301 ") == "Venta\u015b"  # trimmed, NFC
    assert _valid(schema_types.Name50, "x" * 50) == "x" * 50
    assert "at most 50 characters" in _invalid(schema_types.Name50, "x" * 51)
    assert "at most 128 characters" in _invalid(schema_types.Name128, "x" * 129)
    assert _valid(schema_types.Name255, "x" * 255) == "x" * 255
    assert "must not be empty" in _invalid(schema_types.Name100, "   ")
    assert "control characters" in _invalid(schema_types.PersonName, "Ana\x1b[31m")


def test_optional_person_name_may_be_empty_but_person_name_may_not() -> None:
    assert _valid(schema_types.OptionalPersonName, "  ") == ""
    assert "must not be empty" in _invalid(schema_types.PersonName, "")
    assert "at most 100 characters" in _invalid(schema_types.OptionalPersonName, "x" * 101)


def test_description_is_trimmed_and_bounded() -> None:
    assert _valid(schema_types.Description255, "  hola  ") == "hola"
    assert _valid(schema_types.Description255, "") == ""
    assert "at most 255 characters" in _invalid(schema_types.Description255, "x" * 256)


def test_email_timezone_and_colour_types() -> None:
    assert _valid(schema_types.Email, " Ana@Example.com") == "ana@example.com"
    assert "not a valid email address" in _invalid(schema_types.Email, "nope")
    assert _valid(schema_types.Timezone, "Europe/Madrid") == "Europe/Madrid"
    assert "unknown time zone" in _invalid(schema_types.Timezone, "Europe/Atlantis")
    assert _valid(schema_types.Color, "#ff0000") == "#FF0000"
    assert "#RRGGBB" in _invalid(schema_types.Color, "red")


def test_emoji_and_password_lengths() -> None:
    assert _valid(schema_types.Emoji, "🙌") == "🙌"
    _invalid(schema_types.Emoji, "")
    _invalid(schema_types.Emoji, "x" * 33)
    assert _valid(schema_types.Password, "x" * 1024) == "x" * 1024
    assert "at most 1024 characters" in _invalid(schema_types.Password, "x" * 1025)
