"""Checking condition groups: categories, operators by value type, values (WF-STEP-BRANCH-03/04)."""

from __future__ import annotations

import re
from collections.abc import Collection

from convoflow.workflows.definition import limits, variables
from convoflow.workflows.definition.catalog import Catalog
from convoflow.workflows.definition.check_refs import KnownVariables, check_ref, contact_field_type
from convoflow.workflows.definition.conditions import (
    CATEGORY_OPERATORS,
    CATEGORY_REF_KIND,
    FIELD_TYPE_OPERATORS,
    OUTGOING_SOURCES,
    Condition,
    ConditionGroup,
    Duration,
    Range,
    ValueKind,
)
from convoflow.workflows.definition.problems import Problems
from convoflow.workflows.definition.refs import Ref

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def check_group(
    out: Problems,
    path: str,
    group: ConditionGroup,
    catalog: Catalog,
    known: KnownVariables,
    *,
    categories: Collection[str],
    required: bool,
) -> None:
    if required and not group.conditions:
        out.add(f"{path}.conditions", "required", "Add at least one condition")
    if len(group.conditions) > limits.MAX_CONDITIONS:
        out.add(f"{path}.conditions", "too_many", f"At most {limits.MAX_CONDITIONS} conditions")
    for index, condition in enumerate(group.conditions):
        check_condition(out, f"{path}.conditions[{index}]", condition, catalog, known, categories=categories)


def _operators(
    out: Problems, path: str, cond: Condition, catalog: Catalog, known: KnownVariables
) -> dict[str, ValueKind] | None:
    if cond.category == "contact_field":
        if not cond.field:
            out.add(f"{path}.field", "required", "Choose a contact field")
            return None
        field_type = contact_field_type(catalog, cond.field)
        if field_type is None:
            out.add(f"{path}.field", "reference_missing", f"The contact field {cond.field!r} does not exist")
            return None
        return FIELD_TYPE_OPERATORS[field_type]
    if cond.category == "variable":
        found = list(variables.tokens(cond.field or ""))
        if (
            len(found) != 1
            or found[0].text != (cond.field or "").strip()
            or found[0].namespace not in ("trigger", "var")
        ):
            out.add(f"{path}.field", "required", "Choose a $trigger or $var variable")
            return None
        if not known.knows(found[0]):
            out.add(f"{path}.field", "unknown_variable", f"{found[0].text} is not a known variable")
            return None
    return CATEGORY_OPERATORS[cond.category]


def check_condition(
    out: Problems,
    path: str,
    cond: Condition,
    catalog: Catalog,
    known: KnownVariables,
    *,
    categories: Collection[str],
) -> None:
    if cond.category not in categories:
        out.add(f"{path}.category", "category_not_allowed", f"{cond.category} cannot be used here")
        return
    operators = _operators(out, path, cond, catalog, known)
    if operators is None:
        return
    kind = operators.get(cond.operator)
    if kind is None:
        out.add(f"{path}.operator", "operator_not_allowed", f"{cond.operator} does not fit {cond.category}")
        return
    _check_value(out, f"{path}.value", cond, kind, catalog)


def _check_value(out: Problems, path: str, cond: Condition, kind: ValueKind, catalog: Catalog) -> None:
    value = cond.value
    match kind:
        case "none":
            return
        case "text":
            if (
                not isinstance(value, str | int | float)
                or isinstance(value, bool)
                or str(value).strip() == ""
            ):
                out.add(path, "required", "Enter a value")
        case "number":
            if not _is_number(value):
                out.add(path, "invalid_value", "Enter a number")
        case "number_range":
            if not (isinstance(value, Range) and _is_number(value.from_) and _is_number(value.to)):
                out.add(path, "invalid_value", "Enter a from and a to number")
            elif float(value.from_) > float(value.to):
                out.add(path, "invalid_value", "'from' must not be greater than 'to'")
        case "date":
            if not (isinstance(value, str) and _DATE.match(value)):
                out.add(path, "invalid_value", "Enter a date as YYYY-MM-DD")
        case "date_range":
            ok = isinstance(value, Range) and all(
                isinstance(v, str) and _DATE.match(v) for v in (value.from_, value.to)
            )
            if not ok:
                out.add(path, "invalid_value", "Enter from and to dates as YYYY-MM-DD")
            elif isinstance(value, Range) and str(value.from_) > str(value.to):
                out.add(path, "invalid_value", "'from' must not be after 'to'")
        case "strings":
            _check_strings(out, path, cond, catalog)
        case "refs":
            ref_kind = CATEGORY_REF_KIND.get(cond.category, "tag")
            if not isinstance(value, list) or not value or not all(isinstance(v, Ref) for v in value):
                out.add(path, "required", "Choose at least one value")
                return
            for index, ref in enumerate(value):
                if isinstance(ref, Ref):
                    check_ref(out, f"{path}[{index}]", ref, catalog, kind=ref_kind)
        case "ref":
            ref_kind = "user" if cond.operator == "is_user" else "team"
            check_ref(out, path, value if isinstance(value, Ref) else None, catalog, kind=ref_kind)
        case "duration":
            if not isinstance(value, Duration):
                out.add(path, "invalid_value", "Enter an amount and a unit (minutes, hours, days)")


def _check_strings(out: Problems, path: str, cond: Condition, catalog: Catalog) -> None:
    value = cond.value
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        out.add(path, "required", "Choose at least one value")
        return
    allowed: tuple[str, ...] | None = None
    if cond.category == "last_outgoing_source":
        allowed = OUTGOING_SOURCES
    elif cond.category == "contact_field" and cond.field:
        field = catalog.fields.get(cond.field.strip().lower())
        allowed = field.options if field is not None and field.type == "list" else None
    if allowed is not None:
        folded = {option.casefold() for option in allowed}
        for item in value:
            if isinstance(item, str) and item.casefold() not in folded:
                out.add(path, "invalid_value", f"{item!r} is not one of {', '.join(allowed)}")


def _is_number(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return False
        return True
    return False
