"""Loop detection across workflows at publish (WF-LOOP-01..03)."""

from __future__ import annotations

from typing import Any

from convoflow.workflows.definition.graph import WorkflowDefinition
from convoflow.workflows.definition.loops import Candidate, find_loop

VIP = {"ref": "tag", "id": 5, "key": "vip", "label": "vip"}
LEAD = {"ref": "tag", "id": 6, "key": "lead", "label": "lead"}


def workflow(workflow_id: int, trigger: dict[str, Any], *steps: dict[str, Any]) -> Candidate:
    definition = WorkflowDefinition.model_validate(
        {"trigger": trigger, "root": steps[0]["key"] if steps else None, "steps": list(steps)}
    )
    return Candidate(workflow_id, f"W{workflow_id}", definition)


def tag_trigger(tag: dict[str, Any], action: str = "added") -> dict[str, Any]:
    return {"type": "contact_tag_updated", "config": {"action": action, "tags": [tag]}}


def add_tag(key: str, tag: dict[str, Any], action: str = "add") -> dict[str, Any]:
    return {
        "key": key,
        "name": f"tag {key}",
        "type": "update_tag",
        "config": {"action": action, "tags": [tag]},
    }


def test_a_workflow_that_adds_its_own_trigger_tag_loops() -> None:  # WF-LOOP-01 self-trigger
    me = workflow(1, tag_trigger(VIP), add_tag("s1", VIP))
    loop = find_loop(me, [])
    assert loop is not None
    assert [(h.workflow_id, h.step_key) for h in loop.hops] == [(1, "s1")]
    assert "W1" in loop.describe()


def test_two_workflows_feeding_each_other_loop() -> None:  # WF-LOOP-01 A -> B -> A
    a = workflow(1, tag_trigger(VIP), add_tag("a1", LEAD))
    b = workflow(2, tag_trigger(LEAD), add_tag("b1", VIP))
    loop = find_loop(a, [b])
    assert loop is not None
    assert [(h.workflow_id, h.step_key) for h in loop.hops] == [(1, "a1"), (2, "b1")]


def test_a_longer_cycle_is_found() -> None:  # WF-LOOP-01 longer cycles
    field = {"type": "contact_field_updated", "config": {"fields": ["city"]}}
    a = workflow(
        1,
        tag_trigger(VIP),
        {
            "key": "a1",
            "name": "set",
            "type": "update_field",
            "config": {"rows": [{"field": "city", "value": "x"}]},
        },
    )
    b = workflow(2, field, {"key": "b1", "name": "open", "type": "open_conversation"})
    c = workflow(3, {"type": "conversation_opened", "config": {"sources": ["workflow"]}}, add_tag("c1", VIP))
    loop = find_loop(a, [b, c])
    assert loop is not None and [h.workflow_id for h in loop.hops] == [1, 2, 3]


def test_change_kind_sources_and_lists_separate_workflows() -> None:  # WF-LOOP-03
    removes = workflow(1, tag_trigger(VIP, "added"), add_tag("s1", VIP, action="remove"))
    assert find_loop(removes, []) is None
    other_tag = workflow(2, tag_trigger(VIP), add_tag("s1", LEAD))
    assert find_loop(other_tag, []) is None
    contact_only = workflow(
        3,
        {"type": "conversation_opened", "config": {"sources": ["contact"]}},
        {"key": "s1", "name": "o", "type": "open_conversation"},
    )
    assert find_loop(contact_only, []) is None


def test_conditions_count_as_true() -> None:  # WF-LOOP-03 conservative
    guarded = {
        "type": "contact_tag_updated",
        "config": {
            "action": "added",
            "tags": [VIP],
            "conditions": {
                "logic": "and",
                "conditions": [{"category": "conversation_status", "operator": "is_open"}],
            },
        },
    }
    assert find_loop(workflow(1, guarded, add_tag("s1", VIP)), []) is not None


def test_trigger_another_workflow_links_to_the_target_manual_trigger() -> None:  # WF-LOOP-02
    a = workflow(
        1,
        {"type": "manual", "config": {}},
        {
            "key": "a1",
            "name": "call",
            "type": "trigger_workflow",
            "config": {"workflow": {"ref": "workflow", "id": 2}},
        },
    )
    b = workflow(
        2,
        {"type": "manual", "config": {}},
        {
            "key": "b1",
            "name": "back",
            "type": "trigger_workflow",
            "config": {"workflow": {"ref": "workflow", "id": 1}},
        },
    )
    assert find_loop(a, [b]) is not None
    assert find_loop(a, []) is None


# --------------------------------------------------------------------------------------- WF-LOOP-02 effects

STAGE = {"ref": "stage", "id": 1, "key": "New Lead", "label": "New Lead"}
OTHER_STAGE = {"ref": "stage", "id": 2, "key": "Customer", "label": "Customer"}
ANA = {"ref": "user", "id": 12, "key": "ana@mail.example"}
BEA = {"ref": "user", "id": 14, "key": "bea@mail.example"}


def one(key: str, type: str, config: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"key": key, "name": f"{type} {key}", "type": type, "config": config or {}}


def loops(trigger: dict[str, Any], effect_step: dict[str, Any]) -> bool:
    return find_loop(workflow(1, trigger, effect_step), []) is not None


def test_tag_steps_fire_tag_triggers_of_the_same_kind_and_tag() -> None:  # WF-LOOP-02/03
    assert loops(tag_trigger(VIP, "removed"), add_tag("s1", VIP, "remove"))
    assert not loops(tag_trigger(VIP, "removed"), add_tag("s1", VIP, "add"))
    by_name = {"ref": "tag", "key": "VIP"}  # a tag the step creates on save, named only
    assert loops(tag_trigger(VIP), add_tag("s1", by_name))


def test_field_updates_and_answers_saved_to_a_field_fire_field_triggers() -> None:  # WF-LOOP-02
    field_trigger = {"type": "contact_field_updated", "config": {"fields": ["City", "email"]}}
    assert loops(field_trigger, one("s1", "update_field", {"rows": [{"field": "city", "value": "x"}]}))
    assert not loops(field_trigger, one("s1", "update_field", {"rows": [{"field": "age", "value": "1"}]}))
    ask = {"question": "¿Email?", "question_type": "email", "save_field": "email"}
    assert loops(field_trigger, one("s1", "ask_question", ask))
    assert not loops(field_trigger, one("s1", "ask_question", {**ask, "save_field": None}))


def test_answers_saved_as_tags_fire_tag_added_for_any_option() -> None:  # WF-LOOP-02, WF-STEP-ASK-06
    ask = {
        "question": "¿Tipo?",
        "question_type": "multiple_choice",
        "options": ["Lead", "Otro"],
        "save_tag": True,
    }
    assert loops(tag_trigger(LEAD), one("s1", "ask_question", ask))
    assert not loops(tag_trigger(LEAD, "removed"), one("s1", "ask_question", ask))
    assert not loops(tag_trigger(VIP), one("s1", "ask_question", ask))
    assert not loops(tag_trigger(LEAD), one("s1", "ask_question", {**ask, "save_tag": False}))


def test_lifecycle_updates_fire_lifecycle_triggers_by_target_stage() -> None:  # WF-LOOP-02/03
    def life(to: dict[str, Any]) -> dict[str, Any]:
        return {"type": "lifecycle_updated", "config": {"to_stage": to}}

    set_stage = one("s1", "update_lifecycle", {"stage": STAGE})
    clear = one("s1", "update_lifecycle", {"clear": True})
    assert loops(life({"mode": "any"}), set_stage) and loops(life({"mode": "any"}), clear)
    assert loops(life({"mode": "stages", "stages": [STAGE]}), set_stage)
    assert not loops(life({"mode": "stages", "stages": [OTHER_STAGE]}), set_stage)
    assert loops(life({"mode": "none"}), clear) and not loops(life({"mode": "none"}), set_stage)


def test_open_and_close_steps_fire_conversation_triggers_with_the_workflow_source() -> None:  # WF-LOOP-02/03
    opened = {"type": "conversation_opened", "config": {"sources": ["contact", "workflow"]}}
    closed = {"type": "conversation_closed", "config": {"sources": ["workflow"]}}
    assert loops(opened, one("s1", "open_conversation"))
    assert not loops(opened, one("s1", "close_conversation"))
    assert loops(closed, one("s1", "close_conversation"))
    assert not loops(
        {"type": "conversation_closed", "config": {"sources": ["user", "api"]}},
        one("s1", "close_conversation"),
    )


def test_assign_to_fires_assignee_triggers_by_change_kind_sources_and_users() -> None:  # WF-LOOP-02/03
    def assignee(**config: Any) -> dict[str, Any]:
        return {"type": "assignee_updated", "config": config}

    to_ana = one("s1", "assign_to", {"action": "user", "user": ANA})
    unassign = one("s1", "assign_to", {"action": "unassign"})
    to_team = one("s1", "assign_to", {"action": "workspace"})
    assert loops(assignee(change="assigned"), to_ana) and loops(assignee(change="any"), unassign)
    assert not loops(assignee(change="assigned"), unassign)
    assert not loops(assignee(change="unassigned"), to_team)
    assert not loops(assignee(change="any", sources=["user", "api"]), to_ana)
    assert loops(assignee(change="assigned", users=[ANA]), to_ana)
    assert not loops(assignee(change="assigned", users=[BEA]), to_ana)
    assert loops(assignee(change="assigned", users=[BEA]), to_team)  # anyone may be picked


def test_steps_without_effects_never_loop() -> None:  # WF-LOOP-02
    opened = {"type": "conversation_opened", "config": {"sources": ["contact", "user", "workflow", "api"]}}
    for quiet in (
        one("s1", "send_message", {"text": "x"}),
        one("s1", "add_comment", {"text": "x"}),
        one("s1", "wait"),
        one("s1", "http_request", {"url": "https://x"}),
        one("s1", "branch"),
        one("s1", "date_time"),
    ):
        assert not loops(opened, quiet), quiet["type"]


def test_a_cycle_among_other_workflows_is_not_the_candidates_loop() -> None:  # WF-LOOP-01
    a = workflow(1, tag_trigger(VIP), add_tag("a1", LEAD))
    b = workflow(2, tag_trigger(LEAD), add_tag("b1", LEAD))  # b loops on itself, a feeds it
    assert find_loop(a, [b]) is None
    loop = find_loop(b, [a])
    assert loop is not None and [h.workflow_id for h in loop.hops] == [2]


def test_the_loop_names_every_workflow_and_step_of_the_cycle() -> None:  # WF-LOOP-01
    a = workflow(1, tag_trigger(VIP), add_tag("a1", LEAD))
    b = workflow(2, tag_trigger(LEAD), add_tag("b1", VIP))
    loop = find_loop(b, [a])
    assert loop is not None
    assert [(h.workflow_name, h.step_key, h.step_name) for h in loop.hops] == [
        ("W2", "b1", "tag b1"),
        ("W1", "a1", "tag a1"),
    ]
    assert loop.describe() == "W2 (step 'tag b1') → W1 (step 'tag a1') → W2"
