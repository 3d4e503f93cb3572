"""Conditions shared by trigger condition groups and Branch (WF-TRG-03, WF-STEP-BRANCH-03/04)."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from convoflow.workflows.definition.refs import Ref

Category = Literal[
    "contact_field",
    "tags",
    "lifecycle",
    "variable",
    "assignee",
    "assignee_status",
    "conversation_status",
    "last_channel",
    "last_incoming_message",
    "last_outgoing_message",
    "last_outgoing_source",
    "time_since_last_incoming",
    "time_since_last_outgoing",
    "closing_category",  # Conversation Closed trigger only
    "closed_by_user",  # Conversation Closed trigger only
]
Operator = Literal[
    "is_equal_to",
    "is_not_equal_to",
    "contains",
    "does_not_contain",
    "starts_with",
    "exists",
    "does_not_exist",
    "is_greater_than",
    "is_less_than",
    "is_between",
    "is_on",
    "is_before",
    "is_after",
    "is_any_of",
    "is_none_of",
    "is_true",
    "is_false",
    "has_any_of",
    "has_all_of",
    "has_none_of",
    "is_assigned",
    "is_unassigned",
    "is_user",
    "is_in_team",
    "is_online",
    "is_offline",
    "is_open",
    "is_closed",
]
CATEGORIES: tuple[str, ...] = get_args(Category)
# Categories a trigger condition group may use (WF-TRG-03); Conversation Closed adds two of its own.
TRIGGER_CATEGORIES = frozenset(
    {"contact_field", "tags", "lifecycle", "assignee", "conversation_status", "last_channel"}
)
CLOSE_TRIGGER_CATEGORIES = TRIGGER_CATEGORIES | {"closing_category", "closed_by_user"}
# Branch categories (WF-STEP-BRANCH-03): all but the two of the Conversation Closed trigger.
BRANCH_CATEGORIES = frozenset(CATEGORIES) - {"closing_category", "closed_by_user"}
OUTGOING_SOURCES = ("user", "workflow", "api", "broadcast")


class Range(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: float | str = Field(alias="from")
    to: float | str


class Duration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: int = Field(ge=1, le=100_000)
    unit: Literal["minutes", "hours", "days"]

    @property
    def seconds(self) -> int:
        return self.amount * {"minutes": 60, "hours": 3600, "days": 86400}[self.unit]


ConditionValue = Ref | Range | Duration | list[Ref] | list[str] | bool | int | float | str | None


class Condition(BaseModel):
    """`field` is a contact field (standard name or custom slug), or a `$trigger.x` / `$var.x` variable."""

    model_config = ConfigDict(extra="forbid")

    category: Category
    field: str | None = Field(None, max_length=100)
    operator: Operator
    value: ConditionValue = None


class ConditionGroup(BaseModel):
    model_config = ConfigDict(extra="forbid")

    logic: Literal["and", "or"] = "and"
    conditions: list[Condition] = Field(default_factory=list, max_length=10)


# What an operator expects as value, per value type of WF-STEP-BRANCH-04.
ValueKind = Literal[
    "none", "text", "number", "number_range", "date", "date_range", "strings", "refs", "ref", "duration"
]
_PRESENCE: dict[str, ValueKind] = {"exists": "none", "does_not_exist": "none"}
TEXT_OPERATORS: dict[str, ValueKind] = {
    "is_equal_to": "text",
    "is_not_equal_to": "text",
    "contains": "text",
    "does_not_contain": "text",
    "starts_with": "text",
    **_PRESENCE,
}
NUMBER_OPERATORS: dict[str, ValueKind] = {
    "is_equal_to": "number",
    "is_not_equal_to": "number",
    "is_greater_than": "number",
    "is_less_than": "number",
    "is_between": "number_range",
    **_PRESENCE,
}
DATE_OPERATORS: dict[str, ValueKind] = {
    "is_on": "date",
    "is_before": "date",
    "is_after": "date",
    "is_between": "date_range",
    **_PRESENCE,
}
LIST_OPERATORS: dict[str, ValueKind] = {"is_any_of": "strings", "is_none_of": "strings", **_PRESENCE}
REF_LIST_OPERATORS: dict[str, ValueKind] = {"is_any_of": "refs", "is_none_of": "refs", **_PRESENCE}
CHECKBOX_OPERATORS: dict[str, ValueKind] = {"is_true": "none", "is_false": "none"}
TAG_OPERATORS: dict[str, ValueKind] = {"has_any_of": "refs", "has_all_of": "refs", "has_none_of": "refs"}
TIME_SINCE_OPERATORS: dict[str, ValueKind] = {"is_greater_than": "duration", "is_less_than": "duration"}

# Operators per category; contact_field and variable depend on the field's type (validate.py).
CATEGORY_OPERATORS: dict[str, dict[str, ValueKind]] = {
    "tags": TAG_OPERATORS,
    "lifecycle": REF_LIST_OPERATORS,
    "assignee": {"is_assigned": "none", "is_unassigned": "none", "is_user": "ref", "is_in_team": "ref"},
    "assignee_status": {"is_online": "none", "is_offline": "none"},
    "conversation_status": {"is_open": "none", "is_closed": "none"},
    "last_channel": REF_LIST_OPERATORS,
    "last_incoming_message": TEXT_OPERATORS,
    "last_outgoing_message": TEXT_OPERATORS,
    "last_outgoing_source": {"is_any_of": "strings", "is_none_of": "strings"},
    "time_since_last_incoming": TIME_SINCE_OPERATORS,
    "time_since_last_outgoing": TIME_SINCE_OPERATORS,
    "closing_category": REF_LIST_OPERATORS,
    "closed_by_user": {"is_any_of": "refs", "is_none_of": "refs"},
    "variable": {**NUMBER_OPERATORS, **TEXT_OPERATORS},  # equality compares as text (numbers too)
}
# The ref kind each category's references must have.
CATEGORY_REF_KIND: dict[str, str] = {
    "tags": "tag",
    "lifecycle": "stage",
    "last_channel": "channel",
    "closing_category": "category",
    "closed_by_user": "user",
}
FIELD_TYPE_OPERATORS: dict[str, dict[str, ValueKind]] = {
    "text": TEXT_OPERATORS,
    "email": TEXT_OPERATORS,
    "url": TEXT_OPERATORS,
    "time": TEXT_OPERATORS,
    "number": NUMBER_OPERATORS,
    "date": DATE_OPERATORS,
    "list": LIST_OPERATORS,
    "checkbox": CHECKBOX_OPERATORS,
}
STANDARD_FIELDS: dict[str, str] = {
    "first_name": "text",
    "last_name": "text",
    "email": "text",
    "phone": "text",
    "language": "text",
    "country_code": "text",
}
