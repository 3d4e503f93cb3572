"""Branch conditions: categories (WF-STEP-BRANCH-03) and operators by value type (WF-STEP-BRANCH-04)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.workflows.definition.builders import (
    ANA,
    NEW_LEAD,
    RESUELTO,
    VALID_TRIGGERS,
    VENTAS,
    VIP,
    WEBCHAT,
    doc,
    problems,
    step,
)

HTTP_STEP = step(
    "s0",
    "http_request",
    {"url": "https://x.example", "mappings": [{"path": "$.n", "variable": "n"}], "status_variable": "status"},
    next="s1",
)


def branch_problems(
    *conditions: dict[str, Any], trigger: dict[str, Any] | None = None
) -> set[tuple[str, str]]:
    """(field, code) of a Branch step with one branch holding `conditions`, after an HTTP step."""
    branch = step("s1", "branch", {"branches": [{"name": "B", "conditions": list(conditions)}]})
    found = problems(doc(HTTP_STEP, branch, root="s0", trigger=trigger))
    prefix = "config.branches[0].conditions"
    return {(f.removeprefix(prefix), c) for k, f, c in found if k == "s1"}


def cond(category: str, operator: str, value: Any = None, field: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"category": category, "operator": operator, "value": value}
    if field is not None:
        found["field"] = field
    return found


# ----------------------------------------------------------------------------------------------- categories

BRANCH_CATEGORIES = {
    "contact_field": cond("contact_field", "exists", field="city"),
    "tags": cond("tags", "has_any_of", [VIP]),
    "lifecycle": cond("lifecycle", "is_none_of", [NEW_LEAD]),
    "variable": cond("variable", "is_equal_to", "200", field="$var.status"),
    "assignee": cond("assignee", "is_in_team", VENTAS),
    "assignee_status": cond("assignee_status", "is_offline"),
    "conversation_status": cond("conversation_status", "is_closed"),
    "last_channel": cond("last_channel", "is_any_of", [WEBCHAT]),
    "last_incoming_message": cond("last_incoming_message", "starts_with", "hola"),
    "last_outgoing_message": cond("last_outgoing_message", "does_not_contain", "adiós"),
    "last_outgoing_source": cond("last_outgoing_source", "is_none_of", ["user", "broadcast"]),
    "time_since_last_incoming": cond(
        "time_since_last_incoming", "is_greater_than", {"amount": 2, "unit": "hours"}
    ),
    "time_since_last_outgoing": cond(
        "time_since_last_outgoing", "is_less_than", {"amount": 3, "unit": "days"}
    ),
}


@pytest.mark.parametrize("category", sorted(BRANCH_CATEGORIES))
def test_branch_categories(category: str) -> None:  # WF-STEP-BRANCH-03
    assert branch_problems(BRANCH_CATEGORIES[category]) == set()


@pytest.mark.parametrize(
    "condition",
    [cond("closing_category", "is_any_of", [RESUELTO]), cond("closed_by_user", "is_any_of", [ANA])],
)
def test_close_trigger_categories_are_not_branch_categories(
    condition: dict[str, Any],
) -> None:  # WF-STEP-BRANCH-03
    assert branch_problems(condition) == {("[0].category", "category_not_allowed")}


def test_unknown_category_is_a_shape_error() -> None:  # WF-STEP-BRANCH-03
    branch = step("s1", "branch", {"branches": [{"name": "B", "conditions": [cond("weather", "is_open")]}]})
    assert ("s1", "config.branches[0].conditions[0].category", "literal_error") in problems(doc(branch))


def test_assignee_operators() -> None:  # WF-STEP-BRANCH-03: assigned / unassigned / is user / in team
    assert branch_problems(cond("assignee", "is_assigned"), cond("assignee", "is_unassigned")) == set()
    assert branch_problems(cond("assignee", "is_user", ANA)) == set()
    assert branch_problems(cond("assignee", "is_user", VENTAS)) == {("[0].value", "wrong_reference")}
    assert branch_problems(cond("assignee", "is_in_team")) == {("[0].value", "required")}
    assert branch_problems(cond("assignee", "is_online")) == {("[0].operator", "operator_not_allowed")}


def test_last_outgoing_source_values() -> None:  # WF-STEP-BRANCH-03: user, workflow, api, broadcast
    assert (
        branch_problems(cond("last_outgoing_source", "is_any_of", ["user", "workflow", "api", "broadcast"]))
        == set()
    )
    assert branch_problems(cond("last_outgoing_source", "is_any_of", ["contact"])) == {
        ("[0].value", "invalid_value")
    }


def test_variables_are_trigger_or_step_variables_that_exist() -> None:  # WF-STEP-BRANCH-03, WF-VAR-04
    assert branch_problems(cond("variable", "exists", field="$var.n")) == set()
    assert branch_problems(cond("variable", "exists", field="$trigger.channel.name")) == set()
    assert branch_problems(cond("variable", "exists", field="$var.last_error")) == set()
    assert branch_problems(cond("variable", "exists", field="$var.other")) == {
        ("[0].field", "unknown_variable")
    }
    assert branch_problems(cond("variable", "exists", field="$contact.city")) == {("[0].field", "required")}
    assert branch_problems(cond("variable", "exists", field="$var.n and more")) == {("[0].field", "required")}
    assert branch_problems(cond("variable", "exists")) == {("[0].field", "required")}
    manual = {"type": "manual", "config": {"inputs": ["order"]}}
    assert (
        branch_problems(cond("variable", "is_greater_than", 3, field="$trigger.order"), trigger=manual)
        == set()
    )
    assert VALID_TRIGGERS["manual"]["config"] == {}


def test_contact_field_conditions_need_a_known_field() -> None:  # WF-STEP-BRANCH-03
    assert branch_problems(cond("contact_field", "exists")) == {("[0].field", "required")}
    assert branch_problems(cond("contact_field", "exists", field="nope")) == {
        ("[0].field", "reference_missing")
    }
    assert branch_problems(cond("contact_field", "exists", field="EMAIL")) == set()  # standard, any case


# ------------------------------------------------------------------------------------------------ operators

TEXT = {
    "is_equal_to",
    "is_not_equal_to",
    "contains",
    "does_not_contain",
    "starts_with",
    "exists",
    "does_not_exist",
}
NUMBER = {
    "is_equal_to",
    "is_not_equal_to",
    "is_greater_than",
    "is_less_than",
    "is_between",
    "exists",
    "does_not_exist",
}
DATE = {"is_on", "is_before", "is_after", "is_between", "exists", "does_not_exist"}
LIST = {"is_any_of", "is_none_of", "exists", "does_not_exist"}
CHECKBOX = {"is_true", "is_false"}
TAGS = {"has_any_of", "has_all_of", "has_none_of"}
TIME_SINCE = {"is_greater_than", "is_less_than"}
ALL_OPERATORS = TEXT | NUMBER | DATE | LIST | CHECKBOX | TAGS | TIME_SINCE

VALUES: dict[str, dict[str, Any]] = {  # a good value per value type and operator
    "text": {"is_between": None},
    "number": {"is_between": {"from": 1, "to": 5}},
    "date": {"is_between": {"from": "2026-01-01", "to": "2026-12-31"}},
}


def good_value(value_type: str, operator: str) -> Any:
    if operator in ("exists", "does_not_exist", "is_true", "is_false"):
        return None
    match value_type:
        case "number":
            return {"from": 1, "to": 5} if operator == "is_between" else 3
        case "date":
            return {"from": "2026-01-01", "to": "2026-12-31"} if operator == "is_between" else "2026-05-01"
        case "list":
            return ["Pro"]
        case "stage":
            return [NEW_LEAD]
        case "channel":
            return [WEBCHAT]
        case "tags":
            return [VIP]
        case "time_since":
            return {"amount": 30, "unit": "minutes"}
    return "Madrid"


# (value type, how to build a condition for it, its operators)
OPERATOR_TABLE: list[tuple[str, dict[str, Any], set[str]]] = [
    ("text", {"category": "contact_field", "field": "city"}, TEXT),
    ("text", {"category": "contact_field", "field": "work_email"}, TEXT),
    ("text", {"category": "contact_field", "field": "site"}, TEXT),
    ("text", {"category": "last_incoming_message"}, TEXT),
    ("number", {"category": "contact_field", "field": "age"}, NUMBER),
    ("date", {"category": "contact_field", "field": "birthday"}, DATE),
    ("list", {"category": "contact_field", "field": "plan"}, LIST),
    ("stage", {"category": "lifecycle"}, LIST),
    ("channel", {"category": "last_channel"}, LIST),
    ("checkbox", {"category": "contact_field", "field": "vip_flag"}, CHECKBOX),
    ("tags", {"category": "tags"}, TAGS),
    ("time_since", {"category": "time_since_last_incoming"}, TIME_SINCE),
]


@pytest.mark.parametrize(("value_type", "base", "operators"), OPERATOR_TABLE)
def test_operators_by_value_type(value_type: str, base: dict[str, Any], operators: set[str]) -> None:
    # WF-STEP-BRANCH-04
    for operator in sorted(ALL_OPERATORS):
        condition = {**base, "operator": operator, "value": good_value(value_type, operator)}
        found = branch_problems(condition)
        if operator in operators:
            assert found == set(), (value_type, operator, found)
        else:
            assert found == {("[0].operator", "operator_not_allowed")}, (value_type, operator, found)


@pytest.mark.parametrize(
    ("condition", "problem"),
    [
        (cond("contact_field", "is_equal_to", " ", field="city"), "required"),
        (cond("contact_field", "contains", None, field="city"), "required"),
        (cond("contact_field", "is_greater_than", "ten", field="age"), "invalid_value"),
        (cond("contact_field", "is_between", {"from": 5, "to": 1}, field="age"), "invalid_value"),
        (cond("contact_field", "is_between", 3, field="age"), "invalid_value"),
        (cond("contact_field", "is_on", "01/02/2026", field="birthday"), "invalid_value"),
        (
            cond("contact_field", "is_between", {"from": "2026-12-31", "to": "2026-01-01"}, field="birthday"),
            "invalid_value",
        ),
        (cond("contact_field", "is_any_of", [], field="plan"), "required"),
        (cond("contact_field", "is_any_of", ["Gold"], field="plan"), "invalid_value"),
        (cond("tags", "has_all_of", ["vip"]), "required"),
        (cond("lifecycle", "is_any_of", [{"ref": "stage", "id": 99}]), "reference_missing"),
        (cond("last_channel", "is_none_of", [VIP]), "wrong_reference"),
        (cond("time_since_last_outgoing", "is_greater_than", 5), "invalid_value"),
    ],
)
def test_values_must_fit_the_operator(condition: dict[str, Any], problem: str) -> None:  # WF-STEP-BRANCH-04
    found = branch_problems(condition)
    assert {code for _field, code in found} == {problem}, found
    assert all(field.startswith("[0].value") for field, _code in found)


def test_list_values_compare_ignoring_case() -> None:  # WF-STEP-BRANCH-04/05
    assert branch_problems(cond("contact_field", "is_none_of", ["free", "PRO"], field="plan")) == set()


def test_time_since_units() -> None:  # WF-STEP-BRANCH-04: minutes, hours, days
    for unit in ("minutes", "hours", "days"):
        value = {"amount": 1, "unit": unit}
        assert branch_problems(cond("time_since_last_incoming", "is_less_than", value)) == set()
    branch = step(
        "s1",
        "branch",
        {
            "branches": [
                {
                    "name": "B",
                    "conditions": [
                        cond("time_since_last_incoming", "is_less_than", {"amount": 1, "unit": "weeks"})
                    ],
                }
            ]
        },
    )
    assert any(code != "" and key == "s1" for key, _f, code in problems(doc(branch)))


def test_every_problem_of_every_branch_is_listed() -> None:  # WF-STEP-BRANCH-01, WF-BLD-06
    branches = [
        {"name": "A", "conditions": [cond("tags", "is_open"), cond("contact_field", "exists", field="nope")]},
        {"name": " ", "conditions": [cond("assignee_status", "is_online")]},
    ]
    found = problems(doc(step("s1", "branch", {"branches": branches})))
    assert found == {
        ("s1", "config.branches[0].conditions[0].operator", "operator_not_allowed"),
        ("s1", "config.branches[0].conditions[1].field", "reference_missing"),
        ("s1", "config.branches[1].name", "required"),
    }
