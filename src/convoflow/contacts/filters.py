"""The contact filter model (developer-api.md API-CONT-08/09) compiled to SQL.

Field names are accepted in the v2 spelling (firstName) and in ours (first_name).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, time
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import and_, exists, false, not_, or_, select, true
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from convoflow.contacts.models import Contact, ContactField, ContactTag, LifecycleStage, Tag
from convoflow.db.text_ops import folded, folded_text
from convoflow.errors import InvalidInput
from convoflow.validators import fold

MAX_CONDITIONS = 20
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")

Operator = Literal[
    "isEqualTo",
    "isNotEqualTo",
    "exists",
    "doesNotExist",
    "isGreaterThan",
    "isLessThan",
    "isBetween",
    "isTimestampAfter",
    "isTimestampBefore",
    "isTimestampBetween",
    "hasAnyOf",
    "hasAllOf",
    "hasNoneOf",
]


class Condition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: Literal["contactField", "contactTag", "lifecycle"]
    field: str | None = None
    operator: Operator
    value: Any = None


class ContactFilter(BaseModel):
    """Exactly one of `$and` / `$or`, each 0-20 conditions; an empty list matches every contact."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    all_of: list[Condition] | None = Field(None, alias="$and", max_length=MAX_CONDITIONS)
    any_of: list[Condition] | None = Field(None, alias="$or", max_length=MAX_CONDITIONS)

    @model_validator(mode="after")
    def _exactly_one(self) -> ContactFilter:
        if (self.all_of is None) == (self.any_of is None):
            raise ValueError("filter needs exactly one of $and or $or")
        return self


# standard field -> (column, kind)
_STANDARD: dict[str, tuple[ColumnElement[Any], str]] = {
    "firstname": (Contact.first_name.expression, "text"),
    "first_name": (Contact.first_name.expression, "text"),
    "lastname": (Contact.last_name.expression, "text"),
    "last_name": (Contact.last_name.expression, "text"),
    "phone": (Contact.phone.expression, "text"),
    "email": (Contact.email.expression, "text"),
    "language": (Contact.language.expression, "text"),
    "countrycode": (Contact.country_code.expression, "text"),
    "country_code": (Contact.country_code.expression, "text"),
    "assigneeuserid": (Contact.assignee_user_id.expression, "number"),
    "assignee_user_id": (Contact.assignee_user_id.expression, "number"),
    "created_at": (Contact.created_at.expression, "timestamp"),
    "createdat": (Contact.created_at.expression, "timestamp"),
}
# The standard names a condition may use; custom field slugs may not shadow them (CRM-FIELD-02).
STANDARD_FIELD_NAMES: frozenset[str] = frozenset(_STANDARD)
_PRESENCE = {"exists", "doesNotExist"}
_EQUALITY = {"isEqualTo", "isNotEqualTo"} | _PRESENCE
_TIMESTAMPS = {"isTimestampAfter", "isTimestampBefore", "isTimestampBetween"}
_OPERATORS_BY_KIND: dict[str, set[str]] = {
    "text": _EQUALITY,
    "list": _EQUALITY | {"hasAnyOf", "hasNoneOf"},
    "number": _EQUALITY | {"isGreaterThan", "isLessThan", "isBetween"},
    "checkbox": _EQUALITY,
    "timestamp": _PRESENCE | _TIMESTAMPS,
    "date": _EQUALITY | _TIMESTAMPS,
}
_CUSTOM_KIND = {
    "text": "text",
    "email": "text",
    "url": "text",
    "time": "text",
    "list": "list",
    "number": "number",
    "checkbox": "checkbox",
    "date": "date",
}


class _Compiler:
    def __init__(self, session: Session, workspace_id: int, zone: ZoneInfo) -> None:
        self.session = session
        self.workspace_id = workspace_id
        self.zone = zone
        self._fields: dict[str, ContactField] | None = None

    def custom_fields(self) -> dict[str, ContactField]:
        if self._fields is None:
            rows = self.session.scalars(
                select(ContactField).where(ContactField.workspace_id == self.workspace_id)
            )
            self._fields = {field.slug: field for field in rows}
        return self._fields

    def condition(self, index: int, cond: Condition) -> ColumnElement[bool]:
        match cond.category:
            case "contactField":
                return self.field_condition(index, cond)
            case "contactTag":
                return self.tag_condition(index, cond)
            case "lifecycle":
                return self.lifecycle_condition(index, cond)

    # --- contact fields -------------------------------------------------------------------------
    def field_condition(self, index: int, cond: Condition) -> ColumnElement[bool]:
        if not cond.field:
            raise _bad(index, "field", "a contactField condition names a field")
        key = cond.field.strip()
        column: ColumnElement[Any]
        if key.lower() in _STANDARD:
            column, kind = _STANDARD[key.lower()]
        else:
            field = self.custom_fields().get(key.lower())
            if field is None:
                raise _bad(index, "field", f"unknown field {cond.field!r}")
            kind = _CUSTOM_KIND[field.type]
            element = Contact.attributes[field.slug]
            column = {
                "number": element.as_float(),
                "checkbox": element.as_boolean(),
            }.get(kind, element.as_string())
        if cond.operator not in _OPERATORS_BY_KIND[kind]:
            raise _bad(index, "operator", f"operator {cond.operator} does not fit a {kind} field")
        op, value = cond.operator, cond.value
        if op == "exists":
            return _present(column, kind)
        if op == "doesNotExist":
            return not_(_present(column, kind))
        if kind in ("text", "list"):
            return self.text_op(index, column, op, value)
        if kind == "number":
            return self.number_op(index, column, op, value)
        if kind == "checkbox":
            flag = _boolean(index, value)
            match_ = column == flag
            return match_ if op == "isEqualTo" else or_(column.is_(None), not_(match_))
        if kind == "date":
            return self.date_op(index, column, op, value)
        return self.timestamp_op(index, column, op, value)

    def text_op(self, index: int, column: ColumnElement[Any], op: str, value: Any) -> ColumnElement[bool]:
        if op in ("hasAnyOf", "hasNoneOf"):
            values = [folded_text(self.session, v) for v in _string_list(index, value)]
            hit = folded(self.session, column).in_(values)
            return hit if op == "hasAnyOf" else or_(column.is_(None), not_(hit))
        text_value = _string(index, value)
        equal = folded(self.session, column) == folded_text(self.session, text_value)
        return equal if op == "isEqualTo" else or_(column.is_(None), not_(equal))

    def number_op(self, index: int, column: ColumnElement[Any], op: str, value: Any) -> ColumnElement[bool]:
        number = column  # custom numbers are read with as_float(); the assignee id is an integer column
        if op == "isBetween":
            low, high = _range(index, value, _number)
            return number.between(low, high)
        target = _number(index, value)
        match op:
            case "isEqualTo":
                return number == target
            case "isNotEqualTo":
                return or_(column.is_(None), number != target)
            case "isGreaterThan":
                return number > target
            case _:
                return number < target

    def _instant(self, index: int, value: Any) -> datetime:
        """Unix seconds, or YYYY-MM-DD as the start of that day in the filter's time zone (API-CONT-09)."""
        try:
            if isinstance(value, bool):
                raise ValueError
            if isinstance(value, int | float):
                instant = datetime.fromtimestamp(value, UTC)
            elif isinstance(value, str) and value.strip().lstrip("-").isdigit():
                instant = datetime.fromtimestamp(int(value), UTC)
            elif isinstance(value, str) and _DAY.match(value.strip()):
                day = date.fromisoformat(value.strip())
                instant = datetime.combine(day, time(), self.zone).astimezone(UTC)
            else:
                raise ValueError
            instant.astimezone(self.zone)  # a date the filter's time zone can show too
        except (ValueError, OverflowError, OSError):
            # OverflowError/OSError: Unix seconds beyond what a datetime holds (e.g. 1e20)
            raise _bad(index, "value", "expected Unix seconds or YYYY-MM-DD") from None
        return instant

    def timestamp_op(
        self, index: int, column: ColumnElement[Any], op: str, value: Any
    ) -> ColumnElement[bool]:
        if op == "isTimestampBetween":
            low, high = _range(index, value, self._instant)
            return column.between(low, high)
        instant = self._instant(index, value)
        return column > instant if op == "isTimestampAfter" else column < instant

    def date_op(self, index: int, column: ColumnElement[Any], op: str, value: Any) -> ColumnElement[bool]:
        """Date fields hold YYYY-MM-DD text, which compares in date order."""

        def as_day(i: int, raw: Any) -> str:
            return self._instant(i, raw).astimezone(self.zone).date().isoformat()

        if op == "isTimestampBetween":
            low, high = _range(index, value, as_day)
            return column.between(low, high)
        day = as_day(index, value)
        match op:
            case "isEqualTo":
                return column == day
            case "isNotEqualTo":
                return or_(column.is_(None), column != day)
            case "isTimestampAfter":
                return column > day
            case _:
                return column < day

    # --- tags and lifecycle ---------------------------------------------------------------------
    def tag_condition(self, index: int, cond: Condition) -> ColumnElement[bool]:
        def has(norms: list[str] | None) -> ColumnElement[bool]:
            query = select(ContactTag.contact_id).join(Tag, Tag.id == ContactTag.tag_id)
            query = query.where(ContactTag.contact_id == Contact.id)
            if norms is not None:
                query = query.where(Tag.name_norm.in_(norms))
            return exists(query)

        match cond.operator:
            case "exists":
                return has(None)
            case "doesNotExist":
                return not_(has(None))
            case "hasAnyOf":
                return has([fold(v) for v in _string_list(index, cond.value)])
            case "hasNoneOf":
                return not_(has([fold(v) for v in _string_list(index, cond.value)]))
            case "hasAllOf":
                names = _string_list(index, cond.value)
                return and_(*(has([fold(name)]) for name in names)) if names else true()
        raise _bad(index, "operator", f"operator {cond.operator} does not fit tags")

    def lifecycle_condition(self, index: int, cond: Condition) -> ColumnElement[bool]:
        def stage_in(names: list[str]) -> ColumnElement[bool]:
            ids = select(LifecycleStage.id).where(
                LifecycleStage.workspace_id == self.workspace_id,
                LifecycleStage.name_norm.in_([fold(name) for name in names]),
            )
            return Contact.lifecycle_stage_id.in_(ids)

        stage = Contact.lifecycle_stage_id
        match cond.operator:
            case "exists":
                return stage.is_not(None)
            case "doesNotExist":
                return stage.is_(None)
            case "isEqualTo":
                return stage_in([_string(index, cond.value)])
            case "isNotEqualTo":
                return or_(stage.is_(None), not_(stage_in([_string(index, cond.value)])))
            case "hasAnyOf":
                return stage_in(_string_list(index, cond.value))
            case "hasNoneOf":
                return or_(stage.is_(None), not_(stage_in(_string_list(index, cond.value))))
        raise _bad(index, "operator", f"operator {cond.operator} does not fit lifecycle stages")


def _present(column: ColumnElement[Any], kind: str) -> ColumnElement[bool]:
    if kind == "text":
        return and_(column.is_not(None), column != "")
    return column.is_not(None)


def _bad(index: int, part: str, message: str) -> InvalidInput:
    return InvalidInput(
        f"filter condition {index + 1}: {message}",
        error="invalid_filter",
        details=[{"field": f"filter.conditions[{index}].{part}", "message": message}],
    )


def _string(index: int, value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise _bad(index, "value", "expected a text value")


def _string_list(index: int, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _bad(index, "value", "expected an array of text values")
    return value


def _number(index: int, value: Any) -> float:
    if isinstance(value, bool):
        raise _bad(index, "value", "expected a number")
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise _bad(index, "value", "expected a number") from None
    if not math.isfinite(number):
        raise _bad(index, "value", "expected a finite number")
    return number


def _boolean(index: int, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise _bad(index, "value", "expected true or false")


def _range(index: int, value: Any, convert: Any) -> tuple[Any, Any]:
    if not isinstance(value, dict) or "from" not in value or "to" not in value:
        raise _bad(index, "value", 'expected {"from": ..., "to": ...}')
    return convert(index, value["from"]), convert(index, value["to"])


def compile_filter(
    session: Session, *, workspace_id: int, contact_filter: ContactFilter, timezone: str = "UTC"
) -> ColumnElement[bool]:
    compiler = _Compiler(session, workspace_id, ZoneInfo(timezone))
    if contact_filter.all_of is not None:
        parts = [compiler.condition(i, c) for i, c in enumerate(contact_filter.all_of)]
        return and_(true(), *parts)
    parts = [compiler.condition(i, c) for i, c in enumerate(contact_filter.any_of or [])]
    return or_(false(), *parts) if parts else true()
