"""Step configuration rules (workflows.md §8): WF-STEP-01/02 and each configuration WF-STEP-<TYPE>-NN."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from convoflow.workflows.definition import limits
from convoflow.workflows.definition.steps import STEP_TYPES, allowed_outputs
from convoflow.workflows.definition.validate import check, parse
from tests.workflows.definition.builders import (
    ANA,
    CATALOG,
    NEW_LEAD,
    OLD,
    RESUELTO,
    SUB,
    VALID_TRIGGERS,
    VENTAS,
    VIP,
    WEBCHAT,
    WHATSAPP,
    doc,
    problems,
    step,
    step_problems,
)

IS_OPEN = {"category": "conversation_status", "operator": "is_open"}
# A minimal valid configuration of every step type.
VALID_STEPS: dict[str, dict[str, Any]] = {
    "send_message": {"text": "Hola $contact.firstname"},
    "ask_question": {"question": "¿Tu email?", "question_type": "email"},
    "assign_to": {"action": "user", "user": ANA},
    "branch": {"branches": [{"name": "Abierta", "conditions": [IS_OPEN]}]},
    "update_tag": {"action": "add", "tags": [VIP]},
    "update_field": {"rows": [{"field": "city", "value": "Madrid"}]},
    "update_lifecycle": {"stage": NEW_LEAD},
    "open_conversation": {},
    "close_conversation": {},
    "add_comment": {"text": "Nota"},
    "jump_to": {"target": "s0"},
    "wait": {},
    "date_time": {},
    "http_request": {"url": "https://api.example.com/x"},
    "trigger_workflow": {"workflow": SUB},
}


def config_of(type: str, **changes: Any) -> dict[str, Any]:
    return {**VALID_STEPS[type], **changes}


def only(type: str, **changes: Any) -> set[tuple[str, str]]:
    """Problems of one step of `type` whose valid config gets `changes`."""
    if type == "jump_to":
        document = doc(
            step("s0", "add_comment", {"text": "x"}, next="s1"),
            step("s1", type, config_of(type, **changes)),
            root="s0",
        )
        return {(p.field, p.code) for p in check(document, CATALOG)[1] if p.step_key == "s1"}
    return step_problems(type, config_of(type, **changes))


def shape(type: str, **changes: Any) -> set[tuple[str | None, str, str]]:
    """Problems of a document whose config does not even parse (limits, wrong types)."""
    document = doc(step("s1", type, config_of(type, **changes)))
    definition, found = check(document, CATALOG)
    assert definition is None
    return {(p.step_key, p.field, p.code) for p in found}


def config_defaults(type: str) -> dict[str, Any]:
    definition = parse(doc(step("s1", type)))[0]
    assert definition is not None
    dumped: dict[str, Any] = definition.steps[0].model_dump()["config"]
    return dumped


# ---------------------------------------------------------------------------------------------- 8.1 general


@pytest.mark.parametrize("type", STEP_TYPES)
def test_every_step_type_has_a_valid_configuration(type: str) -> None:  # WF-STEP-01, WF-STEP-02
    assert set(VALID_STEPS) == set(STEP_TYPES)
    assert only(type) == set()


@pytest.mark.parametrize(
    ("type", "config", "outputs"),
    [
        ("send_message", {}, ["next"]),
        ("send_message", {"failure_branch": True}, ["next", "failure"]),
        ("ask_question", {}, ["next"]),
        ("ask_question", {"timeout_branch": True, "failure_branch": True}, ["next", "timeout", "failure"]),
        ("assign_to", {}, ["next"]),
        ("assign_to", {"timeout_branch": True}, ["next"]),  # a specific user never waits
        ("assign_to", {"action": "team", "team": VENTAS, "timeout_branch": True}, ["next", "timeout"]),
        ("assign_to", {"action": "workspace", "timeout_branch": True}, ["next", "timeout"]),
        ("branch", {}, ["branch:1", "else"]),
        ("update_tag", {}, ["next"]),
        ("update_field", {}, ["next"]),
        ("update_lifecycle", {}, ["next"]),
        ("open_conversation", {}, ["next"]),
        ("close_conversation", {}, ["next"]),
        ("add_comment", {}, ["next"]),
        ("jump_to", {}, ["next"]),
        ("wait", {}, ["next"]),
        ("date_time", {}, ["next", "outside"]),
        ("http_request", {}, ["next"]),
        ("http_request", {"failure_branch": True}, ["next", "failure"]),
        ("trigger_workflow", {}, []),
    ],
)
def test_outputs_by_type_and_switches(
    type: str, config: dict[str, Any], outputs: list[str]
) -> None:  # WF-STEP-01; switches of WF-STEP-SEND-05, ASK-07/08, ASSIGN-06, JUMP-02, TIME-02, HTTP-01
    definition = parse(doc(step("s1", type, config_of(type, **config))))[0]
    assert definition is not None
    assert allowed_outputs(definition.steps[0]) == outputs
    for output in ("next", "failure", "timeout", "outside", "else", "branch:1", "branch:2"):
        document = doc(
            step("s0", "add_comment", {"text": "x"}, next="s1"),
            step("s1", type, config_of(type, **config), **{output: "s2"}),
            step("s2", "add_comment", {"text": "y"}),
            root="s0",
        )
        found = {(p.step_key, p.field, p.code) for p in check(document, CATALOG)[1]}
        assert (("s1", f"outputs.{output}", "unknown_output") in found) is (output not in outputs), output


def test_an_output_with_no_step_ends_the_run_and_is_no_error() -> None:  # WF-STEP-01, WF-STEP-BRANCH-02
    document = doc(step("s1", "send_message", {"text": "x", "failure_branch": True}, next=None, failure=None))
    assert problems(document) == set()


def test_unknown_and_missing_step_types_are_named() -> None:  # WF-STEP-01/02; WF-STEP-SHEET-01 is P2
    definition, found = check(doc(step("s1", "sheets_row"), {"key": "s2", "name": "Sin tipo"}), CATALOG)
    assert definition is None
    by_step = {p.step_key: p for p in found}
    assert (by_step["s1"].field, by_step["s1"].code, by_step["s1"].message) == (
        "type",
        "unknown_step_type",
        "Unknown step type 'sheets_row'",
    )
    assert (by_step["s2"].field, by_step["s2"].code, by_step["s2"].step_name) == (
        "type",
        "required",
        "Sin tipo",
    )


def test_a_step_has_a_key_a_name_and_known_config_fields() -> None:  # WF-STEP-01, WF-BLD-04
    assert shape("add_comment", colour="red") == {("s1", "config.colour", "extra_forbidden")}
    bad_key = {**step("s1", "wait"), "key": "s 1"}
    assert ("s 1", "key", "string_pattern_mismatch") in problems(doc(bad_key))
    long_name = {**step("s1", "wait"), "name": "n" * 51}
    assert ("s1", "name", "string_too_long") in problems(doc(long_name))
    unnamed = {**step("s1", "wait"), "name": " "}
    assert problems(doc(unnamed)) == {("s1", "name", "required")}


def test_wrong_field_types_are_listed_with_their_path() -> None:  # WF-STEP-02
    found = shape("update_field", rows=[{"field": "city", "value": 5}, {"field": ["x"], "clear": "maybe"}])
    assert found == {
        ("s1", "config.rows[0].value", "string_type"),
        ("s1", "config.rows[1].field", "string_type"),
        ("s1", "config.rows[1].clear", "bool_parsing"),
    }


# --------------------------------------------------------------------------------------- 8.2 send a message


def test_send_message_needs_text_or_media() -> None:  # WF-STEP-SEND table: default message required
    assert only("send_message", text="") == {("config.text", "required")}
    media = {"type": "image", "url": "https://cdn.example.com/a.png"}
    assert only("send_message", text="", media=media) == set()
    assert only("send_message", text="", media={**media, "url": "ftp://x/a.png"}) == {
        ("config.media.url", "invalid_url")
    }
    assert ("s1", "config.media.type", "literal_error") in shape(
        "send_message", media={**media, "type": "gif"}
    )


def test_message_text_is_at_most_2000_characters() -> None:  # WF-STEP-SEND table, §12
    assert only("send_message", text="😀" * limits.MESSAGE_MAX) == set()
    assert shape("send_message", text="x" * 2001) == {("s1", "config.text", "string_too_long")}


def test_channel_defaults_to_the_last_interacted_one_or_names_a_channel() -> None:  # WF-STEP-SEND-01
    assert config_defaults("send_message")["channel"] is None
    assert only("send_message", channel=WEBCHAT) == set()
    assert only("send_message", channel={"ref": "channel", "id": 99, "label": "Gone"}) == {
        ("config.channel", "reference_missing")
    }
    assert only("send_message", channel=VENTAS) == {("config.channel", "wrong_reference")}


def test_channel_responses_are_one_per_channel() -> None:  # WF-STEP-SEND-02 table: one per channel
    responses = [
        {"channel": WEBCHAT, "text": "Hola web"},
        {"channel": WHATSAPP, "kind": "whatsapp_template", "template": {"name": "hi", "language_code": "es"}},
    ]
    assert only("send_message", channel_responses=responses) == set()
    twice = [{"channel": WEBCHAT, "text": "a"}, {"channel": WEBCHAT, "text": "b"}]
    assert only("send_message", channel_responses=twice) == {
        ("config.channel_responses[1].channel", "duplicate")
    }


@pytest.mark.parametrize(
    ("response", "field"),
    [
        ({"kind": "text", "text": " "}, "text"),
        ({"kind": "media"}, "media"),
        ({"kind": "whatsapp_template"}, "template"),
        ({"kind": "custom_payload"}, "payload"),
    ],
)
def test_a_channel_response_needs_its_content(
    response: dict[str, Any], field: str
) -> None:  # WF-STEP-SEND-02
    found = only("send_message", channel_responses=[{"channel": WEBCHAT, **response}])
    assert found == {(f"config.channel_responses[0].{field}", "required")}


def test_email_content_subject_and_at_most_five_attachments() -> None:  # WF-STEP-SEND table: email
    attachment = {"type": "file", "url": "https://cdn.example.com/a.pdf", "name": "a.pdf"}
    email = {
        "subject": "Tu pedido $contact.firstname",
        "cc": ["a@example.com"],
        "attachments": [attachment] * 5,
    }
    assert only("send_message", email=email) == set()
    assert shape("send_message", email={**email, "attachments": [attachment] * 6}) == {
        ("s1", "config.email.attachments", "too_long")
    }
    assert shape("send_message", email={"subject": "s" * 256}) == {
        ("s1", "config.email.subject", "string_too_long")
    }
    assert only("send_message", email={"subject": "$contact.nope"}) == {
        ("config.email.subject", "unknown_variable")
    }
    in_response = [{"channel": WEBCHAT, "kind": "email", "email": {"attachments": [attachment] * 6}}]
    assert shape("send_message", channel_responses=in_response) == {
        ("s1", "config.channel_responses[0].email.attachments", "too_long")
    }


def test_media_and_attachments_are_http_urls() -> None:  # WF-STEP-SEND table: media
    ftp = {"type": "file", "url": "file:///etc/passwd"}
    assert only("send_message", email={"attachments": [ftp]}) == {
        ("config.email.attachments[0].url", "invalid_url")
    }
    response = [{"channel": WEBCHAT, "kind": "media", "media": ftp}]
    assert only("send_message", channel_responses=response) == {
        ("config.channel_responses[0].media.url", "invalid_url")
    }


def test_send_message_failure_branch_defaults_off() -> None:  # WF-STEP-SEND table, WF-STEP-SEND-05
    assert config_defaults("send_message")["failure_branch"] is False


# --------------------------------------------------------------------------------------- 8.3 ask a question


def test_ask_question_defaults() -> None:  # WF-STEP-ASK table
    defaults = config_defaults("ask_question")
    assert defaults["question_type"] == "text"
    assert defaults["max_attempts"] == 3
    assert defaults["timeout_seconds"] == 7 * 24 * 3600
    assert defaults["timeout_branch"] is False and defaults["failure_branch"] is False


@pytest.mark.parametrize(
    "question_type",
    ["text", "multiple_choice", "number", "date", "phone", "email", "url", "rating", "location"],
)
def test_every_question_type_is_known(question_type: str) -> None:  # WF-STEP-ASK table: types
    options = ["Sí", "No"] if question_type == "multiple_choice" else []
    assert only("ask_question", question_type=question_type, options=options) == set()


def test_question_text_is_required_and_at_most_2000_characters() -> None:  # WF-STEP-ASK table
    assert only("ask_question", question=" ") == {("config.question", "required")}
    assert shape("ask_question", question="x" * 2001) == {("s1", "config.question", "string_too_long")}
    assert ("s1", "config.question_type", "literal_error") in shape("ask_question", question_type="color")


def test_multiple_choice_options_1_to_10_of_at_most_20_characters_unique() -> None:  # WF-STEP-ASK table
    choice = {"question_type": "multiple_choice"}
    assert only("ask_question", **choice, options=["x" * 20]) == set()
    assert only("ask_question", **choice, options=[f"o{i}" for i in range(10)]) == set()
    assert only("ask_question", **choice, options=[]) == {("config.options", "required")}
    assert shape("ask_question", **choice, options=[f"o{i}" for i in range(11)]) == {
        ("s1", "config.options", "too_long")
    }
    assert shape("ask_question", **choice, options=["x" * 21]) == {
        ("s1", "config.options[0]", "string_too_long")
    }
    assert only("ask_question", **choice, options=["Sí", " sí "]) == {("config.options", "duplicate")}
    assert only("ask_question", **choice, options=["Sí", " "]) == {("config.options", "required")}
    assert only("ask_question", question_type="text", options=["a"]) == {("config.options", "not_allowed")}


def test_number_range_is_ordered() -> None:  # WF-STEP-ASK table: number range
    assert only("ask_question", question_type="number", min_value=1, max_value=10) == set()
    assert only("ask_question", question_type="number", min_value=10, max_value=1) == {
        ("config.min_value", "invalid_value")
    }


def test_save_as_variable_name_rule() -> None:  # WF-STEP-ASK table: Variable ([a-z0-9_], <= 50)
    assert only("ask_question", save_variable="v" * 50) == set()
    assert shape("ask_question", save_variable="v" * 51) == {
        ("s1", "config.save_variable", "string_pattern_mismatch")
    }
    assert shape("ask_question", save_variable="Mi-Var") == {
        ("s1", "config.save_variable", "string_pattern_mismatch")
    }


def test_save_as_tag_only_for_multiple_choice() -> None:  # WF-STEP-ASK table: Tag (multiple choice only)
    assert only("ask_question", question_type="multiple_choice", options=["A"], save_tag=True) == set()
    assert only("ask_question", question_type="text", save_tag=True) == {("config.save_tag", "not_allowed")}


def test_answers_can_be_saved_in_several_ways_at_once() -> None:  # WF-STEP-ASK table: any combination
    config = {
        "question_type": "multiple_choice",
        "options": ["Free", "Pro"],
        "save_field": "plan",
        "save_variable": "plan",
        "save_tag": True,
    }
    assert only("ask_question", **config) == set()


# WF-STEP-ASK-05: question type → field types it may be saved into (custom slugs of builders.CATALOG, or
# the standard phone / email / first_name fields).
COMPATIBLE = {
    "text": {"city"},
    "location": {"city"},
    "multiple_choice": {"city", "plan"},
    "number": {"age", "city"},
    "rating": {"age", "city"},
    "date": {"birthday", "city"},
    "phone": {"phone", "city"},
    "email": {"email", "work_email", "city"},
    "url": {"site", "city"},
}
for _targets in COMPATIBLE.values():
    _targets.add("first_name")  # a standard text field: text is the universal target
TARGETS = {
    "city",
    "first_name",
    "plan",
    "age",
    "birthday",
    "vip_flag",
    "work_email",
    "site",
    "opens_at",
    "phone",
    "email",
}


@pytest.mark.parametrize("question_type", sorted(COMPATIBLE))
def test_save_as_field_only_into_compatible_field_types(question_type: str) -> None:  # WF-STEP-ASK-05
    options = ["Free", "Pro"] if question_type == "multiple_choice" else []
    for target in sorted(TARGETS):
        found = only("ask_question", question_type=question_type, options=options, save_field=target)
        expected = (
            set() if target in COMPATIBLE[question_type] else {("config.save_field", "incompatible_field")}
        )
        assert found == expected, (question_type, target)


def test_multiple_choice_into_a_list_field_needs_allowed_options() -> None:  # WF-STEP-ASK-05
    config = {"question_type": "multiple_choice", "save_field": "plan"}
    assert only("ask_question", **config, options=["free", "PRO"]) == set()  # ignoring case
    assert only("ask_question", **config, options=["Free", "Gold"]) == {
        ("config.save_field", "incompatible_field")
    }


def test_save_field_must_exist_and_be_settable() -> None:  # WF-STEP-ASK-05
    assert only("ask_question", save_field="nope") == {("config.save_field", "reference_missing")}
    assert only("ask_question", save_field="") == {("config.save_field", "required")}
    assert only("ask_question", question_type="number", save_field="id") != set()


def test_attempts_one_to_five() -> None:  # WF-STEP-ASK table: max attempts 1-5
    for attempts in (1, 5):
        assert only("ask_question", max_attempts=attempts) == set()
    for attempts in (0, 6):
        found = shape("ask_question", max_attempts=attempts)
        assert {(k, f) for k, f, _c in found} == {("s1", "config.max_attempts")}
    assert only("ask_question", invalid_message="Responde $contact.nope") == {
        ("config.invalid_message", "unknown_variable")
    }


def test_question_timeout_one_minute_to_seven_days() -> None:  # WF-STEP-ASK table, WF-STEP-ASK-07
    for seconds in (60, 7 * 24 * 3600):
        assert only("ask_question", timeout_seconds=seconds) == set()
    assert shape("ask_question", timeout_seconds=59) == {
        ("s1", "config.timeout_seconds", "greater_than_equal")
    }
    assert shape("ask_question", timeout_seconds=7 * 24 * 3600 + 1) == {
        ("s1", "config.timeout_seconds", "less_than_equal")
    }


# -------------------------------------------------------------------------------------------- 8.4 assign to


def test_assign_to_actions() -> None:  # WF-STEP-ASSIGN table: action
    assert only("assign_to", action="team", user=None, team=VENTAS) == set()
    assert only("assign_to", action="workspace", user=None) == set()
    assert only("assign_to", action="unassign", user=None) == set()
    assert only("assign_to", user=None) == {("config.user", "required")}
    assert only("assign_to", action="team", user=None) == {("config.team", "required")}
    assert only("assign_to", action="team", team={"ref": "team", "id": 77}) == {
        ("config.team", "reference_missing")
    }
    assert ("s1", "config.action", "literal_error") in shape("assign_to", action="robot")


def test_assigning_a_deactivated_user_is_a_configuration_error() -> None:  # WF-STEP-ASSIGN-01
    found = check(doc(step("s1", "assign_to", {"action": "user", "user": OLD})), CATALOG)[1]
    assert [(p.field, p.code) for p in found] == [("config.user", "user_deactivated")]
    assert "deactivated" in found[0].message
    reactivated = replace(CATALOG, users={**CATALOG.users, 13: replace(CATALOG.users[13], active=True)})
    assert check(doc(step("s1", "assign_to", {"action": "user", "user": OLD})), reactivated)[1] == []


def test_assign_to_logic_filters_and_timeout_defaults() -> None:  # WF-STEP-ASSIGN table
    defaults = config_defaults("assign_to")
    assert defaults["logic"] == "round_robin"
    assert defaults["online_only"] is False and defaults["max_open_contacts"] is None
    assert defaults["timeout_seconds"] == 7 * 24 * 3600 and defaults["timeout_branch"] is False
    team = {"action": "team", "team": VENTAS, "logic": "least_open", "online_only": True}
    for capacity in (1, 999):
        assert only("assign_to", **team, max_open_contacts=capacity) == set()
    assert shape("assign_to", **team, max_open_contacts=0) == {
        ("s1", "config.max_open_contacts", "greater_than_equal")
    }
    assert shape("assign_to", **team, max_open_contacts=1000) == {
        ("s1", "config.max_open_contacts", "less_than_equal")
    }
    assert shape("assign_to", **team, timeout_seconds=30) == {
        ("s1", "config.timeout_seconds", "greater_than_equal")
    }
    assert shape("assign_to", **team, timeout_seconds=8 * 86400) == {
        ("s1", "config.timeout_seconds", "less_than_equal")
    }
    assert ("s1", "config.logic", "literal_error") in shape("assign_to", logic="random")


# ----------------------------------------------------------------------------------------------- 8.5 branch


def branch(name: str = "B", *conditions: dict[str, Any], logic: str = "and") -> dict[str, Any]:
    return {"name": name, "logic": logic, "conditions": list(conditions or [IS_OPEN])}


def test_one_to_nine_branches_plus_else() -> None:  # WF-STEP-BRANCH-01
    nine = [branch(f"B{i}") for i in range(9)]
    assert only("branch", branches=nine) == set()
    assert only("branch", branches=[]) == {("config.branches", "required")}
    assert shape("branch", branches=[*nine, branch("B9")]) == {("s1", "config.branches", "too_long")}
    definition = parse(doc(step("s1", "branch", {"branches": nine})))[0]
    assert definition is not None
    assert allowed_outputs(definition.steps[0]) == [f"branch:{i}" for i in range(1, 10)] + ["else"]


def test_a_branch_has_a_name_and_one_to_ten_conditions() -> None:  # WF-STEP-BRANCH-01
    assert only("branch", branches=[branch("n" * 50)]) == set()
    assert shape("branch", branches=[branch("n" * 51)]) == {
        ("s1", "config.branches[0].name", "string_too_long")
    }
    assert only("branch", branches=[branch(" ")]) == {("config.branches[0].name", "required")}
    assert only("branch", branches=[branch("B", *[IS_OPEN] * 10, logic="or")]) == set()
    assert only("branch", branches=[{"name": "B", "conditions": []}]) == {
        ("config.branches[0].conditions", "required")
    }
    assert shape("branch", branches=[branch("B", *[IS_OPEN] * 11)]) == {
        ("s1", "config.branches[0].conditions", "too_long")
    }
    assert ("s1", "config.branches[0].logic", "literal_error") in shape(
        "branch", branches=[branch("B", logic="nor")]
    )


# ---------------------------------------------------------------------------------------- 8.6 contact steps


def test_update_tag_add_or_remove_one_to_ten_tags() -> None:  # WF-STEP-TAG-01
    assert only("update_tag", action="remove", tags=[VIP]) == set()
    assert only("update_tag", tags=[]) == {("config.tags", "required")}
    assert shape("update_tag", tags=[VIP] * 11) == {("s1", "config.tags", "too_long")}
    new_tag = {"ref": "tag", "key": "nuevo-cliente", "label": "nuevo-cliente"}
    assert only("update_tag", action="add", tags=[new_tag]) == set()  # created on save
    assert only("update_tag", action="remove", tags=[new_tag]) == {("config.tags[0]", "reference_missing")}
    assert only("update_tag", tags=[{"ref": "tag", "id": 99}]) == {("config.tags[0]", "reference_missing")}
    assert ("s1", "config.action", "literal_error") in shape("update_tag", action="toggle")


def test_update_field_one_to_ten_rows_of_field_and_value() -> None:  # WF-STEP-FIELD-01
    rows = [
        {"field": "first_name", "value": "$trigger.source"},
        {"field": "CITY", "value": "Madrid"},
        {"field": "age", "clear": True},
    ]
    assert only("update_field", rows=rows) == set()
    assert only("update_field", rows=[]) == {("config.rows", "required")}
    ten = [{"field": f, "value": "x"} for f in ("first_name", "last_name", "email", "phone", "language")] + [
        {"field": f, "value": "x"} for f in ("country_code", "city", "plan", "age", "birthday")
    ]
    assert only("update_field", rows=ten) == set()
    assert shape("update_field", rows=[*ten, {"field": "site", "value": "x"}]) == {
        ("s1", "config.rows", "too_long")
    }
    bad = [
        {"field": "", "value": "x"},
        {"field": "nope", "value": "x"},
        {"field": "city", "value": " "},
        {"field": "City", "value": "$contact.nada"},
    ]
    assert only("update_field", rows=bad) == {
        ("config.rows[0].field", "required"),
        ("config.rows[1].field", "reference_missing"),
        ("config.rows[2].value", "required"),
        ("config.rows[3].field", "duplicate"),
        ("config.rows[3].value", "unknown_variable"),
    }


def test_contact_id_and_profile_picture_are_not_settable() -> None:  # WF-STEP-FIELD-01
    rows = [{"field": "id", "value": "1"}, {"field": "profile_pic", "value": "https://x/y.png"}]
    assert only("update_field", rows=rows) == {
        ("config.rows[0].field", "not_settable"),
        ("config.rows[1].field", "not_settable"),
    }


def test_update_lifecycle_sets_a_stage_or_clears_it() -> None:  # WF-STEP-LIFE-01
    assert only("update_lifecycle", stage=None, clear=True) == set()
    assert only("update_lifecycle", stage=None) == {("config.stage", "required")}
    assert only("update_lifecycle", stage={"ref": "stage", "id": 9}) == {
        ("config.stage", "reference_missing")
    }
    assert only("update_lifecycle", stage=RESUELTO) == {("config.stage", "wrong_reference")}


def test_open_conversation_has_no_settings() -> None:  # WF-STEP-OPEN-01
    assert shape("open_conversation", channel=WEBCHAT) == {("s1", "config.channel", "extra_forbidden")}


def test_close_conversation_category_summary() -> None:  # WF-STEP-CLOSE-01
    assert only("close_conversation", category=RESUELTO, summary="Cerrada por $trigger.user.name") == set()
    assert only("close_conversation", summary="s" * 512) == set()
    assert shape("close_conversation", summary="s" * 513) == {("s1", "config.summary", "string_too_long")}
    assert only("close_conversation", category={"ref": "category", "id": 9}) == {
        ("config.category", "reference_missing")
    }
    assert only("close_conversation", summary="$contact.nope") == {("config.summary", "unknown_variable")}


def test_the_category_is_required_when_the_workspace_requires_it() -> None:  # WF-STEP-CLOSE-01, CRM-CONV-04
    strict = replace(CATALOG, closing_category_required=True)
    assert step_problems("close_conversation", {}, strict) == {("config.category", "required")}
    assert step_problems("close_conversation", {"category": RESUELTO}, strict) == set()


def test_the_summary_is_required_when_the_workspace_requires_it() -> None:  # WF-STEP-CLOSE-01, CRM-CONV-04
    strict = replace(CATALOG, closing_category_required=True, closing_summary_required=True)
    assert step_problems("close_conversation", {"category": RESUELTO}, strict) == {
        ("config.summary", "required")
    }
    assert step_problems("close_conversation", {"category": RESUELTO, "summary": "ok"}, strict) == set()


def test_add_comment_text_at_most_1000_characters_with_mentions() -> None:  # WF-STEP-NOTE-01
    assert only("add_comment", text="n" * 1000, mentions=[ANA]) == set()
    assert shape("add_comment", text="n" * 1001) == {("s1", "config.text", "string_too_long")}
    assert only("add_comment", text=" ") == {("config.text", "required")}
    assert only("add_comment", mentions=[OLD, {"ref": "user", "id": 5}]) == {
        ("config.mentions[0]", "user_deactivated"),
        ("config.mentions[1]", "reference_missing"),
    }


# ----------------------------------------------------------------------------------------- 8.7 flow control


def test_jump_to_target_exists_and_is_not_itself() -> None:  # WF-STEP-JUMP-01
    assert only("jump_to", target="s0") == set()
    assert only("jump_to", target="") == {("config.target", "required")}
    assert only("jump_to", target="s1") == {("config.target", "jump_to_self")}
    assert only("jump_to", target="gone") == {("config.target", "jump_target_missing")}


def test_jump_to_either_direction() -> None:  # WF-STEP-JUMP-01: any step but itself, either direction
    document = doc(
        step("s1", "jump_to", {"target": "s2"}, next="s2"),
        step("s2", "add_comment", {"text": "x"}),
    )
    assert problems(document) == set()


def test_jump_to_allows_one_to_ten_jumps_default_three() -> None:  # WF-STEP-JUMP-01
    assert config_defaults("jump_to")["max_jumps"] == 3
    for jumps in (1, 10):
        assert only("jump_to", max_jumps=jumps) == set()
    for jumps in (0, 11):
        document = doc(
            step("s0", "add_comment", {"text": "x"}, next="s1"),
            step("s1", "jump_to", config_of("jump_to", max_jumps=jumps)),
            root="s0",
        )
        definition, found = check(document, CATALOG)
        assert definition is None and {(p.step_key, p.field) for p in found} == {("s1", "config.max_jumps")}


def test_deleting_the_jump_target_makes_the_jump_an_error() -> None:  # WF-STEP-JUMP-01
    with_target = doc(
        step("s1", "add_comment", {"text": "x"}, next="s2"),
        step("s2", "add_comment", {"text": "y"}, next="s3"),
        step("s3", "jump_to", {"target": "s2"}),
    )
    assert problems(with_target) == set()
    without = doc(
        step("s1", "add_comment", {"text": "x"}, next="s3"), step("s3", "jump_to", {"target": "s2"})
    )
    assert problems(without) == {("s3", "config.target", "jump_target_missing")}


@pytest.mark.parametrize(
    ("amount", "unit", "ok"),
    [
        (1, "minutes", True),
        (59, "seconds", False),
        (7, "days", True),
        (8, "days", False),
        (168, "hours", True),
        (169, "hours", False),
        (10_080, "minutes", True),
        (0, "minutes", False),
    ],
)
def test_wait_one_minute_to_seven_days(amount: int, unit: str, ok: bool) -> None:  # WF-STEP-WAIT-01
    _definition, found = check(doc(step("s1", "wait", {"amount": amount, "unit": unit})), CATALOG)
    assert (found == []) is ok, found
    assert all(p.field.startswith("config.") for p in found)


def test_wait_defaults_to_one_hour() -> None:  # WF-STEP-WAIT-01
    defaults = config_defaults("wait")
    assert (defaults["amount"], defaults["unit"]) == (1, "hours")


def test_date_time_business_hours() -> None:  # WF-STEP-TIME-01
    defaults = config_defaults("date_time")
    assert defaults["mode"] == "business_hours" and defaults["use_workspace_hours"] is True
    assert defaults["timezone"] is None  # the workspace's zone
    three = [
        {"start": "08:00", "end": "10:00"},
        {"start": "12:00", "end": "14:00"},
        {"start": "16:00", "end": "24:00"},
    ]
    own = {"use_workspace_hours": False, "timezone": "America/Bogota", "days": {"mon": three, "sat": []}}
    assert only("date_time", **own) == set()
    four = [*three[:2], {"start": "15:00", "end": "16:00"}, {"start": "17:00", "end": "18:00"}]
    assert only("date_time", **{**own, "days": {"mon": four}}) == {("config.days.mon", "invalid_value")}
    overlap = [{"start": "08:00", "end": "12:00"}, {"start": "11:00", "end": "13:00"}]
    assert only("date_time", **{**own, "days": {"tue": overlap}}) == {("config.days.tue", "invalid_value")}
    backwards = [{"start": "12:00", "end": "08:00"}]
    assert only("date_time", **{**own, "days": {"tue": backwards}}) == {("config.days.tue", "invalid_value")}
    assert only("date_time", **{**own, "days": {"sun": []}}) == {("config.days", "required")}  # never open
    assert only("date_time", timezone="Mars/Base") == {("config.timezone", "invalid_value")}
    assert ("s1", "config.days.mon[0].start", "string_pattern_mismatch") in shape(
        "date_time", **{**own, "days": {"mon": [{"start": "25:00", "end": "26:00"}]}}
    )
    assert ("s1", "config.days.funday", "literal_error") in shape(
        "date_time", **{**own, "days": {"funday": []}}
    )


def test_date_time_date_range() -> None:  # WF-STEP-TIME-01
    good = {
        "mode": "date_range",
        "start": "2026-12-24T18:00",
        "end": "2026-12-26T09:00",
        "timezone": "Europe/Madrid",
    }
    assert only("date_time", **good) == set()
    assert only("date_time", mode="date_range") == {("config.start", "required")}
    assert only("date_time", **{**good, "end": "2026-12-24T18:00"}) == {("config.end", "invalid_value")}
    assert only("date_time", **{**good, "start": "2026-02-30T10:00"}) == {("config.start", "invalid_value")}
    assert shape("date_time", **{**good, "start": "24/12/2026"}) == {
        ("s1", "config.start", "string_pattern_mismatch")
    }


# ----------------------------------------------------------------------------------------- 8.8 http request


def test_http_request_defaults() -> None:  # WF-STEP-HTTP table
    defaults = config_defaults("http_request")
    assert defaults["method"] == "GET" and defaults["timeout_seconds"] == 10
    assert defaults["failure_branch"] is False and defaults["status_variable"] is None


def test_http_url_is_required_http_or_https_and_at_most_2048() -> None:  # WF-STEP-HTTP table: URL
    for url in ("http://10.0.0.1:8080/x?a=$contact.id", "HTTPS://api.example.com"):
        assert only("http_request", url=url) == set()
    assert only("http_request", url="") == {("config.url", "required")}
    assert only("http_request", url="ftp://example.com") == {("config.url", "invalid_url")}
    assert only("http_request", url="https://x/" + "a" * 2038) == set()
    assert shape("http_request", url="https://x/" + "a" * 2039) == {("s1", "config.url", "string_too_long")}
    assert only("http_request", url="https://x/$var.nope") == {("config.url", "unknown_variable")}


def test_http_methods() -> None:  # WF-STEP-HTTP table: method
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert only("http_request", method=method, body_type="json", body='{"a": 1}') == set()
    assert ("s1", "config.method", "literal_error") in shape("http_request", method="HEAD")


def test_http_at_most_ten_headers_with_valid_names() -> None:  # WF-STEP-HTTP table: headers
    headers = [{"name": f"X-H{i}", "value": "$contact.id"} for i in range(10)]
    assert only("http_request", headers=headers) == set()
    assert shape("http_request", headers=[*headers, {"name": "X", "value": "y"}]) == {
        ("s1", "config.headers", "too_long")
    }
    bad = [{"name": "Bad Name", "value": "x"}, {"name": "X-Ok", "value": "$var.nope"}]
    assert only("http_request", headers=bad) == {
        ("config.headers[0].name", "invalid_value"),
        ("config.headers[1].value", "unknown_variable"),
    }


def test_http_body_at_most_64_kb_and_no_body_on_get() -> None:  # WF-STEP-HTTP table: body
    post = {"method": "POST", "body_type": "raw"}
    assert only("http_request", **post, body="b" * limits.HTTP_BODY_MAX) == set()
    assert shape("http_request", **post, body="b" * (limits.HTTP_BODY_MAX + 1)) == {
        ("s1", "config.body", "string_too_long")
    }
    assert only("http_request", body_type="json", body="{}") == {("config.body_type", "not_allowed")}
    assert only("http_request", body="x=1") == {("config.body", "not_allowed")}
    for body_type in ("json", "form", "raw"):
        assert only("http_request", method="POST", body_type=body_type, body="a=$contact.id") == set()
    assert only("http_request", method="POST", body_type="json", body='{"x": "$var.nope"}') == {
        ("config.body", "unknown_variable")
    }


def test_http_response_mappings_at_most_ten_with_valid_json_paths() -> None:  # WF-STEP-HTTP table: mapping
    mappings = [{"path": f"$.data.contacts[{i}].firstName", "variable": f"v{i}"} for i in range(10)]
    assert only("http_request", mappings=mappings, status_variable="status") == set()
    assert shape("http_request", mappings=[*mappings, {"path": "$.x", "variable": "x"}]) == {
        ("s1", "config.mappings", "too_long")
    }
    bad = [{"path": "data.phone", "variable": "phone"}, {"path": "$.phone", "variable": "phone"}]
    assert only("http_request", mappings=bad) == {
        ("config.mappings[0].path", "invalid_path"),
        ("config.mappings", "duplicate"),
    }
    assert only("http_request", mappings=[{"path": "$.a", "variable": "s"}], status_variable="s") == {
        ("config.mappings", "duplicate")
    }


def test_http_timeout_one_to_thirty_seconds() -> None:  # WF-STEP-HTTP table: timeout
    for seconds in (1, 30):
        assert only("http_request", timeout_seconds=seconds) == set()
    assert shape("http_request", timeout_seconds=0) == {
        ("s1", "config.timeout_seconds", "greater_than_equal")
    }
    assert shape("http_request", timeout_seconds=31) == {("s1", "config.timeout_seconds", "less_than_equal")}


# ----------------------------------------------------------------------------------------- trigger workflow


def test_trigger_another_workflow_needs_a_manual_target() -> None:  # WF-STEP-CALL-01
    assert only("trigger_workflow", workflow=None) == {("config.workflow", "required")}
    assert only("trigger_workflow", workflow={"ref": "workflow", "id": 42, "key": "Tagged"}) == {
        ("config.workflow", "not_manual")
    }
    assert only("trigger_workflow", workflow={"ref": "workflow", "id": 404, "key": "Gone"}) == {
        ("config.workflow", "reference_missing")
    }


def test_trigger_another_workflow_passes_known_inputs() -> None:  # WF-STEP-CALL-01, WF-TRG-MAN-01
    assert only("trigger_workflow", inputs={"order": "$contact.id"}) == set()
    assert only("trigger_workflow", inputs={"nope": "1"}) == {("config.inputs.nope", "unknown_input")}
    assert only("trigger_workflow", inputs={"order": "$var.nope"}) == {
        ("config.inputs.order", "unknown_variable")
    }


def test_trigger_another_workflow_cannot_target_itself() -> None:  # WF-STEP-CALL-01
    me = {"ref": "workflow", "id": 41, "key": "Me"}
    manual = VALID_TRIGGERS["manual"]
    found = check(doc(step("s1", "trigger_workflow", {"workflow": me}), trigger=manual), CATALOG)[1]
    assert {(p.field, p.code) for p in found} == {("config.workflow", "not_allowed")}
