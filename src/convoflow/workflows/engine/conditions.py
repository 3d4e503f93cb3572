"""Evaluating conditions against a fresh contact (WF-STEP-BRANCH-02..05, WF-TRG-02/03)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from convoflow.workflows.definition.conditions import Condition, ConditionGroup, Duration, Range
from convoflow.workflows.definition.refs import Ref
from convoflow.workflows.definition.variables import tokens
from convoflow.workflows.engine.snapshot import ContactSnapshot

# WF-STEP-BRANCH-05: a missing value fails every operator except these negative ones.
NEGATIVE = frozenset({"is_not_equal_to", "does_not_contain", "is_none_of", "has_none_of", "does_not_exist"})
_MISSING = object()


@dataclass(frozen=True)
class Facts:
    """What conditions may read: the contact, the run's variables, the time, and event extras."""

    contact: ContactSnapshot
    now: datetime
    zone: ZoneInfo
    variables: dict[str, Any] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)  # closing_category_id, closed_by_user_id


def holds(group: ConditionGroup, facts: Facts) -> bool:
    """AND or OR over the group; an empty group holds."""
    if not group.conditions:
        return True
    results = (evaluate(condition, facts) for condition in group.conditions)
    return all(results) if group.logic == "and" else any(results)


def _fold(value: Any) -> str:
    return unicodedata.normalize("NFC", str(value)).strip().casefold()


def _ref_ids(value: Any) -> set[int]:
    refs = value if isinstance(value, list) else [value]
    return {ref.id for ref in refs if isinstance(ref, Ref) and ref.id is not None}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(str(value).strip().replace(",", "."))
    except ValueError:
        return None


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _variable(facts: Facts, name: str | None) -> Any:
    found = list(tokens(name or ""))
    if len(found) != 1:
        return _MISSING
    token = found[0]
    data: Any = facts.variables.get(token.namespace, {})
    for part in token.path.split("."):
        if not isinstance(data, dict):
            return _MISSING
        data = next((v for k, v in data.items() if str(k).lower() == part), _MISSING)
    return data


def _subject(cond: Condition, facts: Facts) -> Any:
    """The value the condition talks about, or _MISSING."""
    contact = facts.contact
    match cond.category:
        case "contact_field":
            key = (cond.field or "").strip().lower()
            value = contact.standard(key) if key in _STANDARD else contact.custom.get(key)
        case "variable":
            value = _variable(facts, cond.field)
        case "last_incoming_message":
            value = None if contact.last_incoming is None else contact.last_incoming.text
        case "last_outgoing_message":
            value = None if contact.last_outgoing is None else contact.last_outgoing.text
        case "last_outgoing_source":
            value = None if contact.last_outgoing is None else contact.last_outgoing.source
        case "last_channel":
            value = contact.last_channel_id
        case "lifecycle":
            value = contact.stage_id
        case "closing_category":
            value = facts.extras.get("closing_category_id")
        case "closed_by_user":
            value = facts.extras.get("closed_by_user_id")
        case "time_since_last_incoming":
            value = None if contact.last_incoming is None else contact.last_incoming.at
        case "time_since_last_outgoing":
            value = None if contact.last_outgoing is None else contact.last_outgoing.at
        case _:
            value = None
    return _MISSING if value is None or value == "" else value


_STANDARD = frozenset({"first_name", "last_name", "email", "phone", "language", "country_code"})


def evaluate(cond: Condition, facts: Facts) -> bool:
    """One condition, by category and operator; unknown combinations do not hold."""
    contact = facts.contact
    op = cond.operator
    match cond.category:
        case "tags":
            wanted = _ref_ids(cond.value)
            held = set(contact.tags)
            if op == "has_any_of":
                return bool(wanted & held)
            if op == "has_all_of":
                return bool(wanted) and wanted <= held
            return not wanted & held
        case "assignee":
            person = contact.assignee
            match op:
                case "is_assigned":
                    return person is not None
                case "is_unassigned":
                    return person is None
                case "is_user":
                    return person is not None and person.id in _ref_ids(cond.value)
                case "is_in_team":
                    return person is not None and person.team_id in _ref_ids(cond.value)
            return False
        case "assignee_status":
            person = contact.assignee
            if person is None:
                return False
            return person.online if op == "is_online" else not person.online
        case "conversation_status":
            return contact.conversation_open if op == "is_open" else not contact.conversation_open
    value = _subject(cond, facts)
    if op == "exists":
        return value is not _MISSING
    if op == "does_not_exist":
        return value is _MISSING
    if value is _MISSING:
        return op in NEGATIVE
    if cond.category in ("lifecycle", "last_channel", "closing_category", "closed_by_user"):
        inside = value in _ref_ids(cond.value)
        return inside if op == "is_any_of" else not inside
    if cond.category.startswith("time_since_"):
        return _time_since(op, value, cond.value, facts.now)
    return _compare(
        op, value, cond.value, field_type=facts.contact.field_types.get((cond.field or "").lower())
    )


def _time_since(op: str, at: Any, limit: Any, now: datetime) -> bool:
    if not isinstance(at, datetime) or not isinstance(limit, Duration):
        return False
    elapsed = (now - at).total_seconds()
    return elapsed > limit.seconds if op == "is_greater_than" else elapsed < limit.seconds


def _compare(op: str, value: Any, target: Any, *, field_type: str | None) -> bool:
    match op:
        case "is_true" | "is_false":
            return value is (op == "is_true")
        case "is_any_of" | "is_none_of":
            options = {_fold(v) for v in target} if isinstance(target, list) else set()
            inside = _fold(value) in options
            return inside if op == "is_any_of" else not inside
        case "is_on" | "is_before" | "is_after":
            day, wanted = _day(value), _day(target)
            if day is None or wanted is None:
                return False
            return {"is_on": day == wanted, "is_before": day < wanted, "is_after": day > wanted}[op]
        case "is_between":
            if not isinstance(target, Range):
                return False
            if field_type == "date":
                day, low, high = _day(value), _day(target.from_), _day(target.to)
                return None not in (day, low, high) and low <= day <= high  # type: ignore[operator]
            number, low_n, high_n = _number(value), _number(target.from_), _number(target.to)
            return None not in (number, low_n, high_n) and low_n <= number <= high_n  # type: ignore[operator]
        case "is_greater_than" | "is_less_than":
            number, wanted_n = _number(value), _number(target)
            if number is None or wanted_n is None:
                return False
            return number > wanted_n if op == "is_greater_than" else number < wanted_n
        case "is_equal_to" | "is_not_equal_to":
            equal = _equal(value, target, numeric=field_type == "number")
            return equal if op == "is_equal_to" else not equal
        case "contains" | "does_not_contain":
            inside = _fold(target) in _fold(value)
            return inside if op == "contains" else not inside
        case "starts_with":
            return _fold(value).startswith(_fold(target))
    return False


def _equal(value: Any, target: Any, *, numeric: bool) -> bool:
    if numeric:
        left, right = _number(value), _number(target)
        return left is not None and right is not None and left == right
    return _fold(_whole(value)) == _fold(_whole(target))


def _whole(value: Any) -> Any:
    """42.0 compares as text like 42 (a number saved by an answer or given in the builder)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value
