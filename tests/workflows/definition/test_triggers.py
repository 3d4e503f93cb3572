"""Trigger configuration rules (workflows.md §7): WF-TRG-01..06 and every WF-TRG-<TYPE>-NN about config."""

from __future__ import annotations

from typing import Any

import pytest

from convoflow.workflows.definition.catalog import Catalog
from convoflow.workflows.definition.trigger_variables import trigger_variables
from convoflow.workflows.definition.triggers import TRIGGER_TYPES
from convoflow.workflows.definition.validate import check, parse
from tests.workflows.definition.builders import (
    ANA,
    CATALOG,
    LEAD,
    NEW_LEAD,
    OLD,
    RESUELTO,
    VALID_TRIGGERS,
    VENTAS,
    VIP,
    WEBCHAT,
    comment,
    doc,
    problems,
    text_problems,
    trigger_problems,
)


def cond(category: str, operator: str, value: Any = None, field: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"category": category, "operator": operator}
    if value is not None:
        found["value"] = value
    if field is not None:
        found["field"] = field
    return found


def group(*conditions: dict[str, Any], logic: str = "and") -> dict[str, Any]:
    return {"logic": logic, "conditions": list(conditions)}


# A valid condition of every category a trigger may use (WF-TRG-03).
TRIGGER_CONDITIONS = {
    "contact_field": cond("contact_field", "is_equal_to", "Madrid", field="city"),
    "tags": cond("tags", "has_any_of", [VIP]),
    "lifecycle": cond("lifecycle", "is_any_of", [NEW_LEAD]),
    "assignee": cond("assignee", "is_unassigned"),
    "conversation_status": cond("conversation_status", "is_open"),
    "last_channel": cond("last_channel", "is_any_of", [WEBCHAT]),
}
# Branch-only categories (WF-STEP-BRANCH-03 minus WF-TRG-03's list).
BRANCH_ONLY_CONDITIONS = {
    "variable": cond("variable", "exists", field="$trigger.source"),
    "assignee_status": cond("assignee_status", "is_online"),
    "last_incoming_message": cond("last_incoming_message", "contains", "hola"),
    "last_outgoing_message": cond("last_outgoing_message", "contains", "hola"),
    "last_outgoing_source": cond("last_outgoing_source", "is_any_of", ["workflow"]),
    "time_since_last_incoming": cond(
        "time_since_last_incoming", "is_greater_than", {"amount": 1, "unit": "days"}
    ),
    "time_since_last_outgoing": cond(
        "time_since_last_outgoing", "is_less_than", {"amount": 5, "unit": "minutes"}
    ),
}
CLOSE_ONLY_CONDITIONS = {
    "closing_category": cond("closing_category", "is_any_of", [RESUELTO]),
    "closed_by_user": cond("closed_by_user", "is_none_of", [ANA]),
}


def with_config(trigger_type: str, **config: Any) -> dict[str, Any]:
    base = VALID_TRIGGERS[trigger_type]
    return {"type": trigger_type, "config": {**base["config"], **config}}


# -------------------------------------------------------------------------------------------------- general


def test_every_trigger_type_has_a_valid_minimal_configuration() -> None:  # WF-TRG-01, table of §7.1
    assert set(VALID_TRIGGERS) == set(TRIGGER_TYPES)
    for trigger in VALID_TRIGGERS.values():
        assert trigger_problems(trigger) == set(), trigger["type"]


def test_a_workflow_has_exactly_one_trigger_and_it_must_be_configured() -> None:  # WF-TRG-01
    assert ("trigger", "type", "trigger_missing") in problems(
        doc(comment(), trigger=None) | {"trigger": None}
    )
    definition, found = check({"trigger": [OPEN_SOURCES_TRIGGER, OPEN_SOURCES_TRIGGER], "steps": []}, CATALOG)
    assert definition is None and any(p.step_key == "trigger" for p in found)


OPEN_SOURCES_TRIGGER = VALID_TRIGGERS["conversation_opened"]


@pytest.mark.parametrize("trigger_type", [t for t in TRIGGER_TYPES if t != "manual"])
def test_once_per_contact_exists_on_every_trigger_but_manual(trigger_type: str) -> None:  # WF-TRG-04
    trigger = {**VALID_TRIGGERS[trigger_type], "triggerOncePerContact": True}
    assert trigger_problems(trigger) == set()
    definition, _found = check(doc(comment(), trigger=trigger), CATALOG)
    assert definition is not None and definition.trigger is not None
    assert definition.trigger.trigger_once_per_contact is True
    default = parse(doc(comment(), trigger=VALID_TRIGGERS[trigger_type]))[0]
    assert default is not None and default.trigger is not None
    assert default.trigger.trigger_once_per_contact is False  # default off


def test_once_per_contact_is_not_allowed_on_manual() -> None:  # WF-TRG-04, WF-TRG-MAN-01
    manual = {**VALID_TRIGGERS["manual"], "triggerOncePerContact": True}
    assert trigger_problems(manual) == {("triggerOncePerContact", "not_allowed")}


def test_an_unknown_trigger_type_is_named() -> None:  # WF-TRG-01 (table of types)
    # tiktok_ad is reserved and click_to_chat_ad is P2 (WF-TRG-CTC-01): neither can be configured yet
    for reserved in ("tiktok_ad", "click_to_chat_ad"):
        definition, found = check(doc(comment(), trigger={"type": reserved}), CATALOG)
        assert definition is None
        assert [(p.step_key, p.field, p.code) for p in found] == [("trigger", "type", "unknown_trigger_type")]
        assert found[0].message == f"Unknown trigger type {reserved!r}"
    _d, missing = check(doc(comment(), trigger={"config": {}}), CATALOG)
    assert [(p.step_key, p.field, p.code) for p in missing] == [("trigger", "type", "required")]


@pytest.mark.parametrize("category", sorted(TRIGGER_CONDITIONS))
def test_trigger_conditions_accept_the_trigger_categories(category: str) -> None:  # WF-TRG-03
    condition = TRIGGER_CONDITIONS[category]
    for trigger in (
        with_config("conversation_opened", conditions={"contact": group(condition)}),
        with_config("conversation_closed", conditions=group(condition)),
        with_config("contact_tag_updated", conditions=group(condition)),
        with_config("assignee_updated", conditions=group(condition)),
    ):
        assert trigger_problems(trigger) == set(), (trigger["type"], category)


@pytest.mark.parametrize("category", sorted(BRANCH_ONLY_CONDITIONS | CLOSE_ONLY_CONDITIONS))
def test_trigger_conditions_refuse_other_categories(category: str) -> None:  # WF-TRG-03
    condition = (BRANCH_ONLY_CONDITIONS | CLOSE_ONLY_CONDITIONS)[category]
    opened = with_config("conversation_opened", conditions={"contact": group(condition)})
    assert trigger_problems(opened) == {
        ("config.conditions.contact.conditions[0].category", "category_not_allowed")
    }
    for trigger_type in ("contact_tag_updated", "assignee_updated"):
        found = trigger_problems(with_config(trigger_type, conditions=group(condition)))
        assert found == {("config.conditions.conditions[0].category", "category_not_allowed")}


def test_a_condition_group_has_at_most_ten_conditions_and_and_or_logic() -> None:  # WF-TRG-03
    status = cond("conversation_status", "is_open")
    ten = with_config("conversation_closed", conditions=group(*[status] * 10, logic="or"))
    assert trigger_problems(ten) == set()
    eleven = with_config("conversation_closed", conditions=group(*[status] * 11))
    definition, found = check(doc(comment(), trigger=eleven), CATALOG)
    assert definition is None
    assert [(p.step_key, p.field, p.code) for p in found] == [
        ("trigger", "config.conditions.conditions", "too_long")
    ]
    xor = with_config("conversation_closed", conditions=group(status, logic="xor"))
    assert ("trigger", "config.conditions.logic", "literal_error") in problems(doc(comment(), trigger=xor))


def test_a_condition_is_category_operator_and_value() -> None:  # WF-TRG-03
    wrong_operator = with_config("conversation_closed", conditions=group(cond("tags", "is_open")))
    assert trigger_problems(wrong_operator) == {
        ("config.conditions.conditions[0].operator", "operator_not_allowed")
    }
    no_value = with_config("conversation_closed", conditions=group(cond("tags", "has_any_of")))
    assert trigger_problems(no_value) == {("config.conditions.conditions[0].value", "required")}
    missing_tag = cond("tags", "has_all_of", [{"ref": "tag", "id": 99, "label": "gone"}])
    assert trigger_problems(with_config("conversation_closed", conditions=group(missing_tag))) == {
        ("config.conditions.conditions[0].value[0]", "reference_missing")
    }


@pytest.mark.parametrize(
    ("trigger_type", "sources"),
    [
        ("conversation_opened", ["contact", "user", "workflow", "api"]),
        ("conversation_closed", ["user", "workflow", "api", "system"]),
        ("assignee_updated", ["user", "workflow", "api", "system"]),
    ],
)
def test_event_sources_are_the_documented_ones(trigger_type: str, sources: list[str]) -> None:  # WF-TRG-05
    assert trigger_problems(with_config(trigger_type, sources=sources)) == set()
    for source in {"contact", "user", "workflow", "api", "broadcast", "system"} - set(sources):
        found = problems(doc(comment(), trigger=with_config(trigger_type, sources=[source])))
        assert ("trigger", "config.sources[0]", "literal_error") in found, source
    assert trigger_problems(with_config(trigger_type, sources=[])) == {("config.sources", "required")}
    assert trigger_problems(with_config(trigger_type, sources=[sources[0], sources[0]])) == {
        ("config.sources", "duplicate")
    }


# The `$trigger.*` variables each type exposes (WF-TRG-06 and the variables of each type's rule).
USER = {"user.id", "user.name", "user.firstname", "user.lastname", "user.email"}
PREVIOUS = {f"previous_assignee.{p}" for p in ("id", "name", "firstname", "lastname", "email", "team")}
EXPECTED_VARIABLES: dict[str, set[str]] = {
    "conversation_opened": {"source", "channel.id", "channel.name"} | USER,  # WF-TRG-OPEN-02
    "conversation_closed": {"source", "category", "summary"} | USER,  # WF-TRG-CLOSE-01
    "contact_tag_updated": {"tag"},  # WF-TRG-TAG-01
    "contact_field_updated": {"field", "old_value", "new_value"},  # WF-TRG-FIELD-01
    "lifecycle_updated": {"from_stage", "to_stage"},  # WF-TRG-LIFE-01
    "assignee_updated": {"source"} | PREVIOUS,  # WF-TRG-ASSIGN-01
    "shortcut": {"user.id", "user.name", "user.email"},  # WF-TRG-SHORT-02
    "incoming_webhook": set(),  # WF-TRG-HOOK-03: only the mapped names
    "manual": set(),  # WF-TRG-MAN-01: only the declared inputs
}
EVERY_FIXED = set().union(*EXPECTED_VARIABLES.values())


@pytest.mark.parametrize("trigger_type", TRIGGER_TYPES)
def test_trigger_variables_per_type(trigger_type: str) -> None:  # WF-TRG-06, WF-VAR-04
    trigger = VALID_TRIGGERS[trigger_type]
    definition = parse(doc(comment(), trigger=trigger))[0]
    assert definition is not None
    assert trigger_variables(definition.trigger) == EXPECTED_VARIABLES[trigger_type]
    for name in sorted(EXPECTED_VARIABLES[trigger_type]):
        assert text_problems(trigger, f"x $trigger.{name} y") == set(), name
        assert text_problems(trigger, f"x $Trigger.{name.upper()}") == set(), name  # names ignore case
    for name in sorted(EVERY_FIXED - EXPECTED_VARIABLES[trigger_type]):
        assert text_problems(trigger, f"$trigger.{name}") == {("config.text", "unknown_variable")}, name


def test_without_a_trigger_no_trigger_variable_is_known() -> None:  # WF-TRG-06
    found = problems({"trigger": None, "root": "s1", "steps": [comment(text="$trigger.source")]})
    assert ("s1", "config.text", "unknown_variable") in found


# -------------------------------------------------------------------------------------- 7.2 opened / closed


def test_conversation_opened_defaults_to_the_contact_source() -> None:  # WF-TRG-OPEN-01
    definition = parse(doc(comment(), trigger={"type": "conversation_opened"}))[0]
    assert definition is not None and definition.trigger is not None
    assert definition.trigger.model_dump()["config"] == {"sources": ["contact"], "conditions": {}}


def test_each_selected_source_has_its_own_condition_group() -> None:  # WF-TRG-OPEN-01
    trigger = with_config(
        "conversation_opened",
        sources=["contact", "user"],
        conditions={
            "contact": group(TRIGGER_CONDITIONS["tags"]),
            "user": group(TRIGGER_CONDITIONS["assignee"]),
        },
    )
    assert trigger_problems(trigger) == set()
    unselected = with_config("conversation_opened", conditions={"api": group(TRIGGER_CONDITIONS["assignee"])})
    assert trigger_problems(unselected) == {("config.conditions.api", "not_allowed")}
    assert trigger_problems(with_config("conversation_opened", conditions={"contact": group()})) == set()


def test_conversation_closed_defaults_to_every_source_and_no_conditions() -> None:  # WF-TRG-CLOSE-01
    definition = parse(doc(comment(), trigger={"type": "conversation_closed"}))[0]
    assert definition is not None and definition.trigger is not None
    config = definition.trigger.model_dump()["config"]
    assert config == {"sources": ["user", "workflow", "api", "system"], "conditions": None}


@pytest.mark.parametrize("category", sorted(CLOSE_ONLY_CONDITIONS))
def test_conversation_closed_adds_closing_category_and_closed_by_user(
    category: str,
) -> None:  # WF-TRG-CLOSE-01
    condition = CLOSE_ONLY_CONDITIONS[category]
    assert trigger_problems(with_config("conversation_closed", conditions=group(condition))) == set()
    wrong = {**condition, "value": [{**condition["value"][0], "id": 999}]}
    assert trigger_problems(with_config("conversation_closed", conditions=group(wrong))) == {
        ("config.conditions.conditions[0].value[0]", "reference_missing")
    }


# -------------------------------------------------------------------------------------- 7.3 contact changes


def test_tag_trigger_needs_one_to_ten_existing_tags() -> None:  # WF-TRG-TAG-01
    assert trigger_problems(with_config("contact_tag_updated", action="removed", tags=[VIP, LEAD])) == set()
    assert trigger_problems(with_config("contact_tag_updated", tags=[])) == {("config.tags", "required")}
    eleven = with_config("contact_tag_updated", tags=[VIP] * 11)
    assert problems(doc(comment(), trigger=eleven)) == {("trigger", "config.tags", "too_long")}
    ten = with_config("contact_tag_updated", tags=[{**VIP}, {**LEAD}] * 5)
    assert ("config.tags", "too_long") not in trigger_problems(ten)
    unknown = with_config("contact_tag_updated", tags=[{"ref": "tag", "id": 77, "label": "gone"}])
    assert trigger_problems(unknown) == {("config.tags[0]", "reference_missing")}
    by_name = with_config("contact_tag_updated", tags=[{"ref": "tag", "key": "nuevo"}])
    assert trigger_problems(by_name) == {
        ("config.tags[0]", "reference_missing")
    }  # triggers never create tags
    not_a_tag = with_config("contact_tag_updated", tags=[VENTAS])
    assert trigger_problems(not_a_tag) == {("config.tags[0]", "wrong_reference")}
    bad_action = with_config("contact_tag_updated", action="changed")
    assert ("trigger", "config.action", "literal_error") in problems(doc(comment(), trigger=bad_action))


def test_tag_trigger_lists_a_tag_once() -> None:  # WF-TRG-TAG-01
    assert trigger_problems(with_config("contact_tag_updated", tags=[VIP, VIP])) == {
        ("config.tags", "duplicate")
    }


def test_field_trigger_needs_one_to_ten_known_fields() -> None:  # WF-TRG-FIELD-01
    standard_and_custom = ["first_name", "email", "phone", "city", "plan", "age"]
    assert trigger_problems(with_config("contact_field_updated", fields=standard_and_custom)) == set()
    assert trigger_problems(with_config("contact_field_updated", fields=[])) == {
        ("config.fields", "required")
    }
    eleven = with_config("contact_field_updated", fields=[f"f{i}" for i in range(11)])
    assert problems(doc(comment(), trigger=eleven)) == {("trigger", "config.fields", "too_long")}
    assert trigger_problems(with_config("contact_field_updated", fields=["nope"])) == {
        ("config.fields[0]", "reference_missing")
    }
    assert trigger_problems(with_config("contact_field_updated", fields=["city", "CITY"])) == {
        ("config.fields", "duplicate")
    }


@pytest.mark.parametrize(
    ("field", "test", "ok"),
    [
        ("city", {"operator": "contains", "value": "mad"}, True),
        ("city", {"operator": "is_greater_than", "value": 3}, False),
        ("age", {"operator": "is_greater_than", "value": 18}, True),
        ("age", {"operator": "is_between", "value": {"from": 18, "to": 30}}, True),
        ("age", {"operator": "is_greater_than", "value": "many"}, False),
        ("birthday", {"operator": "is_before", "value": "2000-01-01"}, True),
        ("birthday", {"operator": "is_before", "value": "yesterday"}, False),
        ("plan", {"operator": "is_any_of", "value": ["Pro"]}, True),
        ("plan", {"operator": "is_any_of", "value": ["Gold"]}, False),
        ("vip_flag", {"operator": "is_true"}, True),
        ("vip_flag", {"operator": "contains", "value": "x"}, False),
        ("city", {"operator": "exists"}, True),
        ("city", {"operator": "is_equal_to"}, False),
    ],
)
def test_field_trigger_tests_the_new_value_with_the_branch_operators(
    field: str, test: dict[str, Any], ok: bool
) -> None:  # WF-TRG-FIELD-01, WF-STEP-BRANCH-04
    found = trigger_problems(with_config("contact_field_updated", fields=[field], new_value=test))
    assert (found == set()) is ok, found
    assert all(path.startswith("config.new_value") for path, _code in found)


def test_lifecycle_trigger_from_and_to(  # WF-TRG-LIFE-01
) -> None:
    for mode in ("any", "none"):
        choice = {"mode": mode}
        assert trigger_problems(with_config("lifecycle_updated", from_stage=choice, to_stage=choice)) == set()
    stages = {"mode": "stages", "stages": [NEW_LEAD]}
    assert trigger_problems(with_config("lifecycle_updated", from_stage=stages, to_stage=stages)) == set()
    empty = {"mode": "stages", "stages": []}
    assert trigger_problems(with_config("lifecycle_updated", to_stage=empty)) == {
        ("config.to_stage.stages", "required")
    }
    gone = {"mode": "stages", "stages": [{"ref": "stage", "id": 9, "label": "Gone"}]}
    assert trigger_problems(with_config("lifecycle_updated", from_stage=gone)) == {
        ("config.from_stage.stages[0]", "reference_missing")
    }
    odd = with_config("lifecycle_updated", to_stage={"mode": "cleared"})
    assert ("trigger", "config.to_stage.mode", "literal_error") in problems(doc(comment(), trigger=odd))
    no_lifecycle = Catalog(stages={})  # lifecycle stages switched off in the workspace: none exists
    assert trigger_problems(with_config("lifecycle_updated", to_stage=stages), no_lifecycle) == {
        ("config.to_stage.stages[0]", "reference_missing")
    }


def test_assignee_trigger_change_kinds_people_and_sources() -> None:  # WF-TRG-ASSIGN-01
    for change in ("assigned", "unassigned", "any"):
        assert trigger_problems(with_config("assignee_updated", change=change)) == set()
    bad = with_config("assignee_updated", change="reassigned")
    assert ("trigger", "config.change", "literal_error") in problems(doc(comment(), trigger=bad))
    people = with_config("assignee_updated", users=[ANA], teams=[VENTAS])
    assert trigger_problems(people) == set()
    gone = with_config(
        "assignee_updated", users=[{"ref": "user", "id": 99}], teams=[{"ref": "team", "id": 99}]
    )
    assert trigger_problems(gone) == {
        ("config.users[0]", "reference_missing"),
        ("config.teams[0]", "reference_missing"),
    }
    assert trigger_problems(with_config("assignee_updated", users=[OLD])) == {
        ("config.users[0]", "user_deactivated")
    }
    # $assignee.* is already the new assignee; the previous one is a trigger variable
    trigger = VALID_TRIGGERS["assignee_updated"]
    assert text_problems(trigger, "$assignee.firstname era $trigger.previous_assignee.firstname") == set()


# ---------------------------------------------------------------------------------------------- 7.4 webhook


def test_webhook_identifies_the_contact_by_a_json_path() -> None:  # WF-TRG-HOOK-02
    for identify_by in ("phone", "email", "id"):
        trigger = with_config("incoming_webhook", identify_by=identify_by, contact_path="$.data.items[0].id")
        assert trigger_problems(trigger) == set()
    assert trigger_problems(with_config("incoming_webhook", contact_path="")) == {
        ("config.contact_path", "required")
    }
    assert trigger_problems(with_config("incoming_webhook", contact_path="customer.phone")) == {
        ("config.contact_path", "invalid_path")
    }
    names = with_config(
        "incoming_webhook",
        create_if_missing=True,
        first_name_path="$.customer.first",
        last_name_path="$..last",
    )
    assert trigger_problems(names) == {("config.last_name_path", "invalid_path")}
    definition = parse(doc(comment(), trigger=VALID_TRIGGERS["incoming_webhook"]))[0]
    assert definition is not None and definition.trigger is not None
    config = definition.trigger.model_dump()["config"]
    assert config["create_if_missing"] is False and config["identify_by"] == "phone"  # defaults


def test_webhook_maps_at_most_ten_payload_values_to_trigger_variables() -> None:  # WF-TRG-HOOK-03
    mappings = [{"path": f"$.order.items[{i}].sku", "name": f"sku_{i}"} for i in range(10)]
    trigger = with_config("incoming_webhook", mappings=mappings)
    assert trigger_problems(trigger) == set()
    assert text_problems(trigger, "Pedido $trigger.sku_0 y $trigger.SKU_9") == set()
    assert text_problems(trigger, "$trigger.sku_10") == {("config.text", "unknown_variable")}
    eleven = with_config("incoming_webhook", mappings=[*mappings, {"path": "$.x", "name": "x"}])
    assert problems(doc(comment(), trigger=eleven)) == {("trigger", "config.mappings", "too_long")}
    bad = with_config(
        "incoming_webhook",
        mappings=[{"path": "order.id", "name": "order"}, {"path": "$.id", "name": "order"}],
    )
    assert trigger_problems(bad) == {
        ("config.mappings[0].path", "invalid_path"),
        ("config.mappings", "duplicate"),
    }
    bad_name = with_config("incoming_webhook", mappings=[{"path": "$.id", "name": "Order Id"}])
    assert ("trigger", "config.mappings[0].name", "string_pattern_mismatch") in problems(
        doc(comment(), trigger=bad_name)
    )


def test_the_webhook_token_is_not_part_of_the_definition() -> None:  # WF-TRG-HOOK-01, WF-IO-03
    with_token = with_config("incoming_webhook", token="abc")
    assert ("trigger", "config.token", "extra_forbidden") in problems(doc(comment(), trigger=with_token))


# --------------------------------------------------------------------------------------------- 7.5 shortcut


def test_shortcut_label_is_required_and_at_most_30_characters() -> None:  # WF-TRG-SHORT-01
    assert trigger_problems(with_config("shortcut", label="x" * 30)) == set()
    assert trigger_problems(with_config("shortcut", label="  ")) == {("config.label", "required")}
    too_long = with_config("shortcut", label="x" * 31)
    assert problems(doc(comment(), trigger=too_long)) == {("trigger", "config.label", "string_too_long")}
    long_description = with_config("shortcut", description="d" * 256)
    assert problems(doc(comment(), trigger=long_description)) == {
        ("trigger", "config.description", "string_too_long")
    }


def test_shortcut_visibility_all_teams_or_users() -> None:  # WF-TRG-SHORT-01
    assert trigger_problems(with_config("shortcut", visibility="teams", teams=[VENTAS])) == set()
    assert trigger_problems(with_config("shortcut", visibility="users", users=[ANA])) == set()
    assert trigger_problems(with_config("shortcut", visibility="teams")) == {("config.teams", "required")}
    assert trigger_problems(with_config("shortcut", visibility="users")) == {("config.users", "required")}
    assert trigger_problems(
        with_config("shortcut", visibility="users", users=[{"ref": "user", "id": 1}])
    ) == {("config.users[0]", "reference_missing")}
    odd = with_config("shortcut", visibility="agents")
    assert ("trigger", "config.visibility", "literal_error") in problems(doc(comment(), trigger=odd))


def form_field(name: str, type: str = "text", **extra: Any) -> dict[str, Any]:
    return {"label": name.title(), "name": name, "type": type, **extra}


def test_shortcut_form_has_at_most_ten_typed_fields() -> None:  # WF-TRG-SHORT-01
    form = [
        form_field("motivo"),
        form_field("monto", "number", required=True),
        form_field("fecha", "date"),
        form_field("area", "list", options=["Ventas", "Soporte"]),
        form_field("urgente", "checkbox"),
    ]
    trigger = with_config("shortcut", form=form)
    assert trigger_problems(trigger) == set()
    # WF-TRG-SHORT-02: the form's values and the user running it
    assert text_problems(trigger, "$trigger.form.motivo $trigger.form.area por $trigger.user.name") == set()
    assert text_problems(trigger, "$trigger.form.otro") == {("config.text", "unknown_variable")}
    assert text_problems(trigger, "$trigger.user.firstname") == {("config.text", "unknown_variable")}
    eleven = with_config("shortcut", form=[form_field(f"f{i}") for i in range(11)])
    assert problems(doc(comment(), trigger=eleven)) == {("trigger", "config.form", "too_long")}
    ten = with_config("shortcut", form=[form_field(f"f{i}") for i in range(10)])
    assert trigger_problems(ten) == set()
    broken = with_config(
        "shortcut",
        form=[form_field("a", "list"), {"label": " ", "name": "b"}, form_field("a")],
    )
    assert trigger_problems(broken) == {
        ("config.form[0].options", "required"),
        ("config.form[1].label", "required"),
        ("config.form", "duplicate"),
    }
    wrong_type = with_config("shortcut", form=[form_field("a", "file")])
    assert ("trigger", "config.form[0].type", "literal_error") in problems(doc(comment(), trigger=wrong_type))


# ----------------------------------------------------------------------------------------------- 7.6 manual


def test_manual_trigger_declares_at_most_ten_inputs() -> None:  # WF-TRG-MAN-01
    inputs = [f"input_{i}" for i in range(10)]
    trigger = with_config("manual", inputs=inputs)
    assert trigger_problems(trigger) == set()
    assert text_problems(trigger, "$trigger.input_0 $trigger.input_9") == set()
    eleven = with_config("manual", inputs=[*inputs, "input_10"])
    assert problems(doc(comment(), trigger=eleven)) == {("trigger", "config.inputs", "too_long")}
    assert trigger_problems(with_config("manual", inputs=["order", "order"])) == {
        ("config.inputs", "duplicate")
    }
    bad_name = with_config("manual", inputs=["Order Id"])
    assert ("trigger", "config.inputs[0]", "string_pattern_mismatch") in problems(
        doc(comment(), trigger=bad_name)
    )


def test_manual_trigger_has_no_conditions() -> None:  # WF-TRG-MAN-01
    conditional = with_config("manual", conditions=group(TRIGGER_CONDITIONS["assignee"]))
    assert problems(doc(comment(), trigger=conditional)) == {
        ("trigger", "config.conditions", "extra_forbidden")
    }
