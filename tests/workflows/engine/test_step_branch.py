"""Branch (WF-STEP-BRANCH-01..05, WF-RUN-11): conditions on the fresh contact; first match wins, else Else.

The operator table runs against engine/conditions.py directly (no database); a few flows run end to end.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from convoflow.bootstrap import Container
from convoflow.contacts import fields, tags
from convoflow.workflows.definition.conditions import Condition, ConditionGroup
from convoflow.workflows.engine.conditions import Facts, evaluate, holds
from convoflow.workflows.engine.snapshot import Assignee, ContactSnapshot, LastMessage
from tests.workflows.engine.support import OPENED, Harness, definition, step

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
FULL = ContactSnapshot(
    id=1,
    workspace_id=1,
    first_name="Ana",
    last_name="Pérez",
    email="ana@example.com",
    phone="+34612345678",
    language="es",
    country_code="ES",
    blocked=False,
    stage_id=10,
    stage_name="Lead",
    tags={1: "vip", 2: "nuevo"},
    custom={"city": "Madrid", "age": 30, "birthday": "1990-05-01", "plan": "Pro", "newsletter": True},
    field_types={
        "city": "text",
        "age": "number",
        "birthday": "date",
        "plan": "list",
        "newsletter": "checkbox",
    },
    assignee=Assignee(7, "Olivia", "Ruiz", "olivia@example.com", 3, "Ventas", True),
    conversation_open=True,
    last_channel_id=5,
    last_incoming=LastMessage("  Quiero PRECIOS ", NOW - timedelta(hours=2), "contact"),
    last_outgoing=LastMessage("Hola, ¿en qué te ayudo?", NOW - timedelta(minutes=30), "workflow"),
)
EMPTY = ContactSnapshot(
    id=2,
    workspace_id=1,
    first_name="Ana",
    last_name="",
    email=None,
    phone=None,
    language=None,
    country_code=None,
    blocked=False,
    custom={"city": ""},  # an empty text is no value
    field_types=FULL.field_types,
)
VARIABLES = {"var": {"edad": 42, "plan": "pro"}, "trigger": {"channel": {"name": "Web chat"}}}


def _facts(contact: ContactSnapshot) -> Facts:
    return Facts(
        contact=contact, now=NOW, zone=ZoneInfo("UTC"), variables=VARIABLES if contact is FULL else {}
    )


def _cond(category: str, operator: str, value: Any = None, field: str | None = None) -> Condition:
    return Condition.model_validate(
        {"category": category, "field": field, "operator": operator, "value": value}
    )


def _refs(kind: str, *ids: int) -> list[dict[str, Any]]:
    return [{"ref": kind, "id": i} for i in ids]


def _days(amount: int, unit: str = "hours") -> dict[str, Any]:
    return {"amount": amount, "unit": unit}


# (category, field, operator, value, holds on FULL) — every category of BRANCH-03, every operator family
# of BRANCH-04.
CASES: list[tuple[str, str | None, str, Any, bool]] = [
    # Text (custom text field "Madrid"; WF-STEP-BRANCH-05: case and outer spaces ignored)
    ("contact_field", "city", "is_equal_to", " madrid ", True),
    ("contact_field", "city", "is_equal_to", "Madri", False),
    ("contact_field", "city", "is_not_equal_to", "Barcelona", True),
    ("contact_field", "city", "is_not_equal_to", "MADRID", False),
    ("contact_field", "city", "contains", "DRI", True),
    ("contact_field", "city", "contains", "bcn", False),
    ("contact_field", "city", "does_not_contain", "bcn", True),
    ("contact_field", "city", "does_not_contain", "mad", False),
    ("contact_field", "city", "starts_with", " MA", True),
    ("contact_field", "city", "starts_with", "drid", False),
    ("contact_field", "city", "exists", None, True),
    ("contact_field", "city", "does_not_exist", None, False),
    # Text on standard fields
    ("contact_field", "first_name", "is_equal_to", "ANA", True),
    ("contact_field", "email", "contains", "@example.", True),
    ("contact_field", "phone", "starts_with", "+34", True),
    ("contact_field", "language", "is_equal_to", "es", True),
    ("contact_field", "country_code", "is_not_equal_to", "es", False),
    # Number (custom number field 30)
    ("contact_field", "age", "is_equal_to", 30, True),
    ("contact_field", "age", "is_equal_to", 30.0, True),
    ("contact_field", "age", "is_equal_to", 31, False),
    ("contact_field", "age", "is_not_equal_to", 31, True),
    ("contact_field", "age", "is_not_equal_to", 30, False),
    ("contact_field", "age", "is_greater_than", 29.5, True),
    ("contact_field", "age", "is_greater_than", 30, False),
    ("contact_field", "age", "is_less_than", 31, True),
    ("contact_field", "age", "is_less_than", 30, False),
    ("contact_field", "age", "is_between", {"from": 30, "to": 40}, True),  # inclusive
    ("contact_field", "age", "is_between", {"from": 20, "to": 30}, True),
    ("contact_field", "age", "is_between", {"from": 31, "to": 40}, False),
    ("contact_field", "age", "exists", None, True),
    ("contact_field", "age", "does_not_exist", None, False),
    # Date (custom date field 1990-05-01)
    ("contact_field", "birthday", "is_on", "1990-05-01", True),
    ("contact_field", "birthday", "is_on", "1990-05-02", False),
    ("contact_field", "birthday", "is_before", "1990-05-02", True),
    ("contact_field", "birthday", "is_before", "1990-05-01", False),
    ("contact_field", "birthday", "is_after", "1990-04-30", True),
    ("contact_field", "birthday", "is_after", "1990-05-01", False),
    ("contact_field", "birthday", "is_between", {"from": "1990-05-01", "to": "1990-12-31"}, True),
    ("contact_field", "birthday", "is_between", {"from": "1991-01-01", "to": "1992-01-01"}, False),
    ("contact_field", "birthday", "exists", None, True),
    # List (custom list field "Pro")
    ("contact_field", "plan", "is_any_of", ["pro", "Basic"], True),
    ("contact_field", "plan", "is_any_of", ["Basic"], False),
    ("contact_field", "plan", "is_none_of", ["Basic"], True),
    ("contact_field", "plan", "is_none_of", [" PRO "], False),
    ("contact_field", "plan", "exists", None, True),
    # Checkbox (custom checkbox field, ticked)
    ("contact_field", "newsletter", "is_true", None, True),
    ("contact_field", "newsletter", "is_false", None, False),
    # Tags (vip=1, nuevo=2)
    ("tags", None, "has_any_of", _refs("tag", 1, 9), True),
    ("tags", None, "has_any_of", _refs("tag", 8, 9), False),
    ("tags", None, "has_all_of", _refs("tag", 1, 2), True),
    ("tags", None, "has_all_of", _refs("tag", 1, 9), False),
    ("tags", None, "has_none_of", _refs("tag", 8, 9), True),
    ("tags", None, "has_none_of", _refs("tag", 2, 9), False),
    # Lifecycle stage (10)
    ("lifecycle", None, "is_any_of", _refs("stage", 10, 11), True),
    ("lifecycle", None, "is_any_of", _refs("stage", 11), False),
    ("lifecycle", None, "is_none_of", _refs("stage", 11), True),
    ("lifecycle", None, "is_none_of", _refs("stage", 10), False),
    ("lifecycle", None, "exists", None, True),
    # Variables ($var and $trigger; WF-STEP-BRANCH-03)
    ("variable", "$var.edad", "is_greater_than", 40, True),
    ("variable", "$var.edad", "is_less_than", 40, False),
    ("variable", "$var.edad", "is_between", {"from": 18, "to": 65}, True),
    ("variable", "$var.edad", "is_equal_to", "42", True),  # equality compares as text (decisions.md)
    ("variable", "$var.edad", "is_equal_to", 42, True),
    ("variable", "$var.edad", "is_equal_to", 42.0, True),
    ("variable", "$var.plan", "is_equal_to", " PRO", True),
    ("variable", "$var.plan", "is_not_equal_to", "pro", False),
    ("variable", "$VAR.Plan", "starts_with", "p", True),  # names ignore case (WF-VAR-01)
    ("variable", "$trigger.channel.name", "contains", "CHAT", True),
    ("variable", "$trigger.channel.name", "does_not_contain", "web", False),
    ("variable", "$var.edad", "exists", None, True),
    ("variable", "$var.nada", "exists", None, False),
    ("variable", "$var.nada", "does_not_exist", None, True),
    # Assignee (Olivia, id 7, team 3)
    ("assignee", None, "is_assigned", None, True),
    ("assignee", None, "is_unassigned", None, False),
    ("assignee", None, "is_user", {"ref": "user", "id": 7}, True),
    ("assignee", None, "is_user", {"ref": "user", "id": 8}, False),
    ("assignee", None, "is_in_team", {"ref": "team", "id": 3}, True),
    ("assignee", None, "is_in_team", {"ref": "team", "id": 4}, False),
    # Assignee status
    ("assignee_status", None, "is_online", None, True),
    ("assignee_status", None, "is_offline", None, False),
    # Conversation status
    ("conversation_status", None, "is_open", None, True),
    ("conversation_status", None, "is_closed", None, False),
    # Last interacted channel (5)
    ("last_channel", None, "is_any_of", _refs("channel", 5), True),
    ("last_channel", None, "is_any_of", _refs("channel", 6), False),
    ("last_channel", None, "is_none_of", _refs("channel", 6), True),
    ("last_channel", None, "is_none_of", _refs("channel", 5, 6), False),
    # Last incoming / outgoing message (text operators)
    ("last_incoming_message", None, "is_equal_to", "quiero precios", True),
    ("last_incoming_message", None, "contains", "precio", True),
    ("last_incoming_message", None, "does_not_contain", "PRECIO", False),
    ("last_incoming_message", None, "exists", None, True),
    ("last_outgoing_message", None, "starts_with", "hola", True),
    ("last_outgoing_message", None, "is_not_equal_to", "Hola", True),
    # Last outgoing message source
    ("last_outgoing_source", None, "is_any_of", ["workflow"], True),
    ("last_outgoing_source", None, "is_any_of", ["user", "api"], False),
    ("last_outgoing_source", None, "is_none_of", ["user", "broadcast"], True),
    ("last_outgoing_source", None, "is_none_of", ["workflow"], False),
    # Time since last incoming (2 h ago) / outgoing (30 min ago)
    ("time_since_last_incoming", None, "is_greater_than", _days(1), True),
    ("time_since_last_incoming", None, "is_greater_than", _days(119, "minutes"), True),
    ("time_since_last_incoming", None, "is_greater_than", _days(2), False),
    ("time_since_last_incoming", None, "is_less_than", _days(1, "days"), True),
    ("time_since_last_incoming", None, "is_less_than", _days(1), False),
    ("time_since_last_outgoing", None, "is_less_than", _days(31, "minutes"), True),
    ("time_since_last_outgoing", None, "is_greater_than", _days(30, "minutes"), False),
]


@pytest.mark.parametrize(
    ("category", "field", "operator", "value", "expected"),
    CASES,
    ids=[f"{c[0]}-{c[1] or ''}-{c[2]}-{i}" for i, c in enumerate(CASES)],
)
def test_operators_by_category_WF_STEP_BRANCH_03_04_05(
    category: str, field: str | None, operator: str, value: Any, expected: bool
) -> None:
    assert evaluate(_cond(category, operator, value, field), _facts(FULL)) is expected


# WF-STEP-BRANCH-05: a missing value fails every operator except the negative ones.
MISSING: list[tuple[str, str | None, str, Any]] = [
    ("contact_field", "city", "is_equal_to", "x"),
    ("contact_field", "city", "is_not_equal_to", "x"),
    ("contact_field", "city", "contains", "x"),
    ("contact_field", "city", "does_not_contain", "x"),
    ("contact_field", "city", "starts_with", "x"),
    ("contact_field", "city", "exists", None),
    ("contact_field", "city", "does_not_exist", None),
    ("contact_field", "email", "is_equal_to", "x"),
    ("contact_field", "email", "is_not_equal_to", "x"),
    ("contact_field", "age", "is_equal_to", 1),
    ("contact_field", "age", "is_not_equal_to", 1),
    ("contact_field", "age", "is_greater_than", -1),
    ("contact_field", "age", "is_less_than", 1),
    ("contact_field", "age", "is_between", {"from": -1, "to": 1}),
    ("contact_field", "birthday", "is_on", "1990-05-01"),
    ("contact_field", "birthday", "is_before", "2990-01-01"),
    ("contact_field", "birthday", "is_after", "1900-01-01"),
    ("contact_field", "birthday", "is_between", {"from": "1900-01-01", "to": "2990-01-01"}),
    ("contact_field", "plan", "is_any_of", ["Pro"]),
    ("contact_field", "plan", "is_none_of", ["Pro"]),
    ("contact_field", "newsletter", "is_true", None),
    ("contact_field", "newsletter", "is_false", None),
    ("tags", None, "has_any_of", _refs("tag", 1)),
    ("tags", None, "has_all_of", _refs("tag", 1)),
    ("tags", None, "has_none_of", _refs("tag", 1)),
    ("lifecycle", None, "is_any_of", _refs("stage", 10)),
    ("lifecycle", None, "is_none_of", _refs("stage", 10)),
    ("variable", "$var.edad", "is_equal_to", "42"),
    ("variable", "$var.edad", "is_not_equal_to", "42"),
    ("variable", "$var.edad", "is_greater_than", 1),
    ("variable", "$var.edad", "contains", "4"),
    ("variable", "$var.edad", "does_not_contain", "4"),
    ("assignee", None, "is_user", {"ref": "user", "id": 7}),
    ("assignee", None, "is_in_team", {"ref": "team", "id": 3}),
    ("assignee_status", None, "is_online", None),
    ("assignee_status", None, "is_offline", None),
    ("last_channel", None, "is_any_of", _refs("channel", 5)),
    ("last_channel", None, "is_none_of", _refs("channel", 5)),
    ("last_incoming_message", None, "contains", "a"),
    ("last_incoming_message", None, "does_not_contain", "a"),
    ("last_outgoing_message", None, "is_equal_to", "a"),
    ("last_outgoing_message", None, "does_not_exist", None),
    ("last_outgoing_source", None, "is_any_of", ["workflow"]),
    ("last_outgoing_source", None, "is_none_of", ["workflow"]),
    ("time_since_last_incoming", None, "is_greater_than", _days(1)),
    ("time_since_last_incoming", None, "is_less_than", _days(1)),
    ("time_since_last_outgoing", None, "is_greater_than", _days(1)),
    ("time_since_last_outgoing", None, "is_less_than", _days(1)),
]
NEGATIVE = {"is_not_equal_to", "does_not_contain", "is_none_of", "has_none_of", "does_not_exist"}


@pytest.mark.parametrize(
    ("category", "field", "operator", "value"),
    MISSING,
    ids=[f"{c[0]}-{c[1] or ''}-{c[2]}" for c in MISSING],
)
def test_a_missing_value_fails_all_but_the_negative_operators_WF_STEP_BRANCH_05(
    category: str, field: str | None, operator: str, value: Any
) -> None:
    assert evaluate(_cond(category, operator, value, field), _facts(EMPTY)) is (operator in NEGATIVE)


def test_the_other_state_of_the_empty_contact_WF_STEP_BRANCH_03() -> None:
    facts = _facts(EMPTY)
    assert evaluate(_cond("assignee", "is_unassigned"), facts)
    assert not evaluate(_cond("assignee", "is_assigned"), facts)
    assert evaluate(_cond("conversation_status", "is_closed"), facts)
    assert not evaluate(_cond("conversation_status", "is_open"), facts)


def test_conditions_join_with_and_or_or_WF_STEP_BRANCH_01() -> None:
    true, false = _cond("assignee", "is_assigned"), _cond("assignee", "is_unassigned")
    facts = _facts(FULL)

    def group(logic: str, *conditions: Condition) -> ConditionGroup:
        return ConditionGroup(logic=logic, conditions=list(conditions))

    assert holds(group("and", true, true), facts)
    assert not holds(group("and", true, false), facts)
    assert holds(group("or", false, true), facts)
    assert not holds(group("or", false, false), facts)


# --- end to end -------------------------------------------------------------------------------


def _branch(name: str, *conditions: dict[str, Any], logic: str = "and") -> dict[str, Any]:
    return {"name": name, "logic": logic, "conditions": list(conditions)}


def _say(key: str, text: str) -> dict[str, Any]:
    return step(key, "send_message", {"text": text})


def test_the_first_matching_branch_wins_WF_STEP_BRANCH_02(session: Session, container: Container) -> None:
    h = Harness(session, container)
    [vip] = tags.ensure_tags(session, workspace_id=h.world.workspace.id, names=["vip"])
    session.commit()
    workflow = h.publish(
        definition(
            OPENED,
            step("t", "update_tag", {"action": "add", "tags": [{"ref": "tag", "id": vip.id}]}, next="b"),
            step(
                "b",
                "branch",
                {
                    "branches": [
                        _branch("Nadie", {"category": "assignee", "operator": "is_assigned"}),
                        _branch(
                            "VIP",
                            {
                                "category": "tags",
                                "operator": "has_any_of",
                                "value": [{"ref": "tag", "id": vip.id}],
                            },
                        ),
                        _branch(
                            "Ana",
                            {
                                "category": "contact_field",
                                "field": "first_name",
                                "operator": "is_equal_to",
                                "value": "ana",
                            },
                        ),
                    ]
                },
                **{"branch:1": "one", "branch:2": "two", "branch:3": "three", "else": "other"},
            ),
            _say("one", "uno"),
            _say("two", "dos"),
            _say("three", "tres"),
            _say("other", "otro"),
        )
    )
    h.inbound("visitor-1", "hola")
    h.drain()
    # the tag added by the step before is seen (contact read fresh, WF-VAR-03); "Ana" matches too, later
    assert h.sent_texts() == ["dos"]
    [run] = h.runs(workflow.id)
    assert run.end_reason == "completed"
    branch_step = h.steps(run.id)[1]
    assert (branch_step.output, branch_step.summary) == ("branch:2", {"branch": "VIP"})


def _opened_by_channel(else_step: str | None) -> dict[str, Any]:
    branches = {
        "branches": [
            _branch(
                "Web o móvil",
                {
                    "category": "variable",
                    "field": "$trigger.channel.name",
                    "operator": "is_equal_to",
                    "value": "web",
                },
                {"category": "last_incoming_message", "operator": "contains", "value": "móvil"},
                logic="or",
            )
        ]
    }
    outputs = {"branch:1": "one", **({"else": else_step} if else_step else {})}
    steps = [step("b", "branch", branches, **outputs), _say("one", "uno")]
    if else_step:
        steps.append(_say(else_step, "otro"))
    return definition(OPENED, *steps)


def test_no_match_takes_else_WF_STEP_BRANCH_02(session: Session, container: Container) -> None:
    h = Harness(session, container)
    workflow = h.publish(_opened_by_channel("other"))
    h.inbound("visitor-1", "hola")  # channel "Test", no "móvil"
    h.drain()
    assert h.sent_texts() == ["otro"]
    [run] = h.runs(workflow.id)
    assert [(s.step_key, s.output) for s in h.steps(run.id)] == [("b", "else"), ("other", "next")]


def test_an_or_group_matches_on_any_condition_WF_STEP_BRANCH_01(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    h.publish(_opened_by_channel("other"))
    h.inbound("visitor-1", "  escribo desde el MÓVIL ")
    h.drain()
    assert h.sent_texts() == ["uno"]


def test_an_empty_else_ends_the_run_WF_STEP_BRANCH_02_WF_RUN_11(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    workflow = h.publish(_opened_by_channel(None))
    h.inbound("visitor-1", "hola")
    h.drain()
    assert h.sent_texts() == []
    [run] = h.runs(workflow.id)
    assert (run.status, run.end_reason, run.cursor) == ("ended", "completed", None)
    assert [(s.step_key, s.output) for s in h.steps(run.id)] == [("b", "else")]


def test_a_branch_on_an_answer_and_a_custom_field_WF_STEP_BRANCH_03(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    fields.create_field(session, h.owner, name="Edad", type="number")
    session.commit()
    adult = {"category": "variable", "field": "$var.edad", "operator": "is_greater_than", "value": 17}
    saved = {
        "category": "contact_field",
        "field": "edad",
        "operator": "is_between",
        "value": {"from": 18, "to": 120},
    }
    workflow = h.publish(
        definition(
            OPENED,
            step(
                "q",
                "ask_question",
                {
                    "question": "¿Edad?",
                    "question_type": "number",
                    "save_variable": "edad",
                    "save_field": "edad",
                },
                next="b",
            ),
            step(
                "b",
                "branch",
                {"branches": [_branch("Adulto", adult, saved)]},
                **{"branch:1": "one", "else": "other"},
            ),
            _say("one", "adulto"),
            _say("other", "menor"),
        )
    )
    h.inbound("visitor-1", "hola")
    h.drain()
    h.inbound("visitor-1", "34")
    h.drain()
    assert h.sent_texts() == ["¿Edad?", "adulto"]
    assert h.runs(workflow.id)[0].end_reason == "completed"
