"""Annotated string types for request schemas, built on validators.py."""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, Field

from convoflow import validators


def _name(max_length: int, *, min_length: int = 1, field: str = "name") -> object:
    def check(value: str) -> str:
        return validators.clean_name(value, field=field, max_length=max_length, min_length=min_length)

    return AfterValidator(check)


def _description(max_length: int) -> object:
    def check(value: str) -> str:
        value = value.strip()
        if len(value) > max_length:
            raise ValueError(f"description must be at most {max_length} characters")
        if any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in value):
            raise ValueError("description must not contain control characters")
        return value

    return AfterValidator(check)


PersonName = Annotated[str, _name(100)]
OptionalPersonName = Annotated[str, _name(100, min_length=0)]
Name50 = Annotated[str, _name(50)]
Name100 = Annotated[str, _name(100)]
Name128 = Annotated[str, _name(128)]
Name255 = Annotated[str, _name(255)]
Description255 = Annotated[str, _description(255)]
Email = Annotated[str, Field(max_length=320), AfterValidator(validators.normalise_email)]
Timezone = Annotated[str, Field(max_length=64), AfterValidator(validators.timezone_name)]
Color = Annotated[str, AfterValidator(validators.color)]
Emoji = Annotated[str, Field(min_length=1, max_length=32)]
Password = Annotated[str, Field(max_length=1024)]
