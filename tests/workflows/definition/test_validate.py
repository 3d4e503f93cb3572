"""Definition validation: every problem at once, with step key, field, code (WF-BLD-06, WF-STEP-02)."""

from __future__ import annotations

from typing import Any

from convoflow.workflows.definition.catalog import (
    Catalog,
    CatalogChannel,
    CatalogField,
    CatalogUser,
    CatalogWorkflow,
)
from convoflow.workflows.definition.problems import Problem
from convoflow.workflows.definition.validate import check, parse, structure_problems

CATALOG = Catalog(
    users={
        12: CatalogUser(12, "ana@mail.example", "Ana Pérez"),
        13: CatalogUser(13, "old@mail.example", "Old", active=False),
    },
    teams={3: "Ventas"},
    channels={7: CatalogChannel(7, "webchat", "Web Chat")},
    fields={
        "city": CatalogField("city", "City", "text"),
        "plan": CatalogField("plan", "Plan", "list", ("Free", "Pro")),
    },
    tags={5: "vip"},
    stages={1: "New Lead"},
    categories={2: "Resuelto"},
    workflows={40: CatalogWorkflow(40, "Sub", "manual", "published", ("order",))},
    workflow_id=41,
)


def doc(
    *steps: dict[str, Any], trigger: dict[str, Any] | None = None, root: str | None = "s1"
) -> dict[str, Any]:
    return {
        "trigger": trigger or {"type": "conversation_opened", "config": {"sources": ["contact"]}},
        "root": root,
        "steps": list(steps),
    }


def step(key: str, type: str, config: dict[str, Any] | None = None, **outputs: str | None) -> dict[str, Any]:
    return {"key": key, "name": f"Step {key}", "type": type, "config": config or {}, "outputs": outputs}


def codes(problems: list[Problem]) -> set[tuple[str | None, str, str]]:
    return {(p.step_key, p.field, p.code) for p in problems}


def test_the_export_example_of_the_spec_is_valid() -> None:  # WF-IO-01
    document = doc(
        {
            "key": "s1",
            "name": "¿Ya asignado?",
            "type": "branch",
            "outputs": {"branch:1": None, "else": "s2"},
            "config": {
                "branches": [
                    {
                        "name": "Asignado",
                        "logic": "and",
                        "conditions": [{"category": "assignee", "operator": "is_assigned"}],
                    }
                ]
            },
        },
        {
            "key": "s2",
            "name": "Asignar",
            "type": "assign_to",
            "outputs": {"next": None},
            "config": {
                "action": "user",
                "user": {"ref": "user", "id": 12, "key": "ana@mail.example", "label": "Ana Pérez"},
            },
        },
    )
    definition, problems = check(document, CATALOG)
    assert definition is not None and problems == []


def test_missing_trigger_and_no_steps_are_errors() -> None:  # WF-LIFE-07, WF-TRG-01
    _definition, problems = check({"trigger": None, "root": None, "steps": []}, CATALOG)
    assert codes(problems) == {("trigger", "type", "trigger_missing"), (None, "steps", "no_steps")}


def test_all_problems_are_reported_at_once_with_their_step() -> None:  # WF-BLD-06
    document = doc(
        step("s1", "send_message", {"text": "Hola $contact.nope"}, next="s2"),
        step("s2", "assign_to", {"action": "user", "user": {"ref": "user", "id": 13}}, next="zz"),
        step("s3", "jump_to", {"target": "s3"}),
    )
    _definition, problems = check(document, CATALOG)
    assert codes(problems) >= {
        ("s1", "config.text", "unknown_variable"),
        ("s2", "config.user", "user_deactivated"),
        ("s2", "outputs.next", "dangling_output"),
        ("s3", "config.target", "jump_to_self"),
        ("s3", "key", "unreachable"),
    }


def test_shape_errors_name_the_step_and_never_raise() -> None:  # WF-STEP-02
    document = doc(step("s1", "teleport"), step("s2", "send_message", {"text": "x" * 2001}))
    definition, problems = check(document, CATALOG)
    assert definition is None
    assert ("s1", "type", "unknown_step_type") in codes(problems)
    assert ("s2", "config.text", "string_too_long") in codes(problems)
    garbage: Any
    for garbage in (None, 3, "x", [], {"steps": "no"}, {"steps": [None]}):
        assert check(garbage, CATALOG)[1]


def test_rejoins_and_self_loops_are_refused() -> None:  # WF-GEN-02
    document = doc(
        step(
            "s1",
            "branch",
            {
                "branches": [
                    {"name": "A", "conditions": [{"category": "conversation_status", "operator": "is_open"}]}
                ]
            },
            **{"branch:1": "s2", "else": "s2"},
        ),
        step("s2", "wait", next="s2"),
    )
    _definition, problems = check(document, CATALOG)
    assert ("s1", "outputs.else", "rejoin") in codes(problems)
    assert ("s2", "outputs.next", "self_loop") in codes(problems)


def test_optional_outputs_exist_only_when_switched_on() -> None:  # WF-STEP-01
    off = doc(step("s1", "send_message", {"text": "Hi"}, failure="s2"), step("s2", "wait"))
    _definition, problems = check(off, CATALOG)
    assert ("s1", "outputs.failure", "unknown_output") in codes(problems)
    on = doc(
        step("s1", "send_message", {"text": "Hi", "failure_branch": True}, failure="s2"), step("s2", "wait")
    )
    assert check(on, CATALOG)[1] == []


def test_trigger_variables_depend_on_the_trigger_type() -> None:  # WF-TRG-06, WF-VAR-04
    manual = {"type": "manual", "config": {"inputs": ["order"]}}
    good = doc(step("s1", "add_comment", {"text": "Pedido $trigger.order"}), trigger=manual)
    assert check(good, CATALOG)[1] == []
    bad = doc(step("s1", "add_comment", {"text": "Pedido $trigger.tag"}), trigger=manual)
    assert ("s1", "config.text", "unknown_variable") in codes(check(bad, CATALOG)[1])


def test_question_answers_save_only_into_compatible_fields() -> None:  # WF-STEP-ASK-05
    ok = doc(
        step(
            "s1",
            "ask_question",
            {
                "question": "¿Plan?",
                "question_type": "multiple_choice",
                "options": ["Free", "Pro"],
                "save_field": "plan",
            },
        )
    )
    assert check(ok, CATALOG)[1] == []
    wrong = doc(
        step("s1", "ask_question", {"question": "¿Edad?", "question_type": "number", "save_field": "plan"})
    )
    assert ("s1", "config.save_field", "incompatible_field") in codes(check(wrong, CATALOG)[1])


def test_branch_operators_must_fit_the_field_type() -> None:  # WF-STEP-BRANCH-04
    cond = {"category": "contact_field", "field": "city", "operator": "is_greater_than", "value": 3}
    document = doc(step("s1", "branch", {"branches": [{"name": "B", "conditions": [cond]}]}))
    assert ("s1", "config.branches[0].conditions[0].operator", "operator_not_allowed") in codes(
        check(document, CATALOG)[1]
    )


def test_trigger_another_workflow_needs_a_manual_target_and_known_inputs() -> None:  # WF-STEP-CALL-01
    target = {"ref": "workflow", "id": 40, "key": "Sub"}
    good = doc(step("s1", "trigger_workflow", {"workflow": target, "inputs": {"order": "$contact.id"}}))
    assert check(good, CATALOG)[1] == []
    bad = doc(step("s1", "trigger_workflow", {"workflow": target, "inputs": {"nope": "1"}}))
    assert ("s1", "config.inputs.nope", "unknown_input") in codes(check(bad, CATALOG)[1])


# ----------------------------------------------------------------------------------------------- tree shape


def test_one_to_one_hundred_steps() -> None:  # WF-GEN-02
    hundred = [step(f"s{i}", "wait", next=f"s{i + 1}" if i < 99 else None) for i in range(100)]
    for item in hundred:
        item["name"] = f"Wait {item['key']}"
    assert check(doc(*hundred, root="s0"), CATALOG)[1] == []
    extra = {**step("s100", "wait"), "name": "Wait s100"}
    definition, problems = check(doc(*hundred, extra, root="s0"), CATALOG)
    assert definition is None
    assert codes(problems) == {(None, "steps", "too_long")}


def test_step_keys_and_names_are_unique() -> None:  # WF-STEP-01 (immutable key), WF-BLD-04 (unique names)
    document = doc(
        step("s1", "wait", next="s2"),
        {**step("s2", "wait"), "name": "step S1 "},
        step("s2", "wait"),
    )
    assert codes(check(document, CATALOG)[1]) >= {
        ("s2", "name", "duplicate_name"),
        ("s2", "key", "duplicate_key"),
    }


def test_the_trigger_leads_to_an_existing_first_step() -> None:  # WF-GEN-02, WF-LIFE-07
    assert codes(check(doc(step("s1", "wait"), root=None), CATALOG)[1]) == {
        (None, "root", "required"),
    }
    assert codes(check(doc(step("s1", "wait"), root="s9"), CATALOG)[1]) == {(None, "root", "dangling_output")}


def test_steps_no_output_leads_to_are_unreachable() -> None:  # WF-GEN-02
    document = doc(step("s1", "wait"), step("s2", "wait", next="s3"), step("s3", "wait"))
    assert codes(check(document, CATALOG)[1]) == {("s2", "key", "unreachable"), ("s3", "key", "unreachable")}


def test_an_output_leading_back_to_the_root_is_a_rejoin() -> None:  # WF-GEN-02: loops only with Jump To
    document = doc(step("s1", "wait", next="s2"), step("s2", "wait", next="s1"))
    assert codes(check(document, CATALOG)[1]) == {("s2", "outputs.next", "rejoin")}
    with_jump = doc(step("s1", "wait", next="s2"), step("s2", "jump_to", {"target": "s1"}))
    assert check(with_jump, CATALOG)[1] == []


def test_problems_carry_step_name_and_the_builder_shape() -> None:  # WF-BLD-06
    _definition, problems = check(doc(step("s1", "add_comment", {"text": ""})), CATALOG)
    assert [p.as_json() for p in problems] == [
        {
            "stepKey": "s1",
            "stepName": "Step s1",
            "field": "config.text",
            "code": "required",
            "message": "Write the comment",
        }
    ]


def test_structure_problems_are_duplicate_keys_and_outputs_to_nowhere() -> None:  # WF-IO-04
    document = doc(
        step("s1", "send_message", {"text": "x"}, next="s2", failure="zz"),
        step("s2", "wait", next="s9"),
        step("s2", "wait"),
        root="s1",
    )
    definition, _problems = check(document, CATALOG)
    assert definition is not None
    assert codes(structure_problems(definition)) == {
        ("s1", "outputs.failure", "dangling_output"),
        ("s2", "outputs.next", "dangling_output"),
        ("s2", "key", "duplicate_key"),
    }
    nowhere = parse(doc(step("s1", "wait"), root="s5"))[0]
    assert nowhere is not None and codes(structure_problems(nowhere)) == {(None, "root", "dangling_output")}
    fine = parse(doc(step("s1", "wait", next=None)))[0]
    assert fine is not None and structure_problems(fine) == []


def test_a_value_fitting_no_allowed_type_is_one_problem() -> None:  # WF-STEP-02: wrong field types
    conditions = [
        {"category": "tags", "operator": "has_any_of", "value": [[["deep"]]]},
        {
            "category": "contact_field",
            "field": "age",
            "operator": "is_between",
            "value": {"from": [1], "to": {}},
        },
    ]
    document = doc(step("s1", "branch", {"branches": [{"name": "B", "conditions": conditions}]}))
    definition, problems = check(document, CATALOG)
    assert definition is None
    assert [(p.step_key, p.field, p.code) for p in problems] == [
        ("s1", "config.branches[0].conditions[0].value", "invalid_value"),
        ("s1", "config.branches[0].conditions[1].value", "invalid_value"),
    ]
