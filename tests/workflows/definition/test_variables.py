"""Dynamic variable syntax (WF-VAR-01, WF-VAR-04)."""

from __future__ import annotations

from typing import Any

import pytest

from convoflow.workflows.definition.validate import check
from convoflow.workflows.definition.variables import Token, render, tokens
from tests.workflows.definition.builders import CATALOG, SUB, WEBCHAT, comment, doc, problems, step


def test_tokens_end_at_the_first_other_character_and_ignore_case() -> None:  # WF-VAR-01
    found = list(tokens("Hola $Contact.FirstName! Tu pedido $trigger.order.id, $var.x."))
    assert [(t.namespace, t.path) for t in found] == [
        ("contact", "firstname"),
        ("trigger", "order.id"),
        ("var", "x"),
    ]


def test_double_dollar_and_unknown_namespaces_are_plain_text() -> None:  # WF-VAR-01
    assert list(tokens("Cuesta $$5 o $price.total o $5")) == []
    assert render("Cuesta $$5 y $price.total", lambda _t: "X") == "Cuesta $5 y $price.total"


def test_known_variable_without_value_renders_empty() -> None:  # WF-VAR-04
    def resolve(token: Token) -> str | None:
        return "Ana" if token.path == "firstname" else None

    assert render("Hola $contact.firstname $contact.lastname!", resolve) == "Hola Ana !"


# ------------------------------------------------------------------------------------------- in definitions


def test_a_token_ends_at_the_first_other_character() -> None:  # WF-VAR-01
    found = [t.text for t in tokens("($contact.firstname), $contact.lastname. $contact.first-name")]
    assert found == ["$contact.firstname", "$contact.lastname", "$contact.first"]
    assert [t.text for t in tokens("$var.a_1.b2!")] == ["$var.a_1.b2"]
    assert list(tokens("$contact. $contact $ contact.x")) == []


def test_double_dollar_before_a_variable_is_a_literal_dollar() -> None:  # WF-VAR-01
    assert list(tokens("$$contact.name")) == []
    assert render("$$contact.name $$$contact.name", lambda _t: "Ana") == "$contact.name $Ana"


def test_known_namespaces_in_a_workflow() -> None:  # WF-VAR-02
    ask = step("s1", "ask_question", {"question": "¿Área?", "save_variable": "area"}, next="s2")
    http = step(
        "s2",
        "http_request",
        {
            "url": "https://x.example",
            "mappings": [{"path": "$.a", "variable": "answer"}],
            "status_variable": "code",
        },
        next="s3",
    )
    text = " ".join(
        [
            "$contact.id $contact.name $contact.firstname $contact.lastname $contact.email $contact.phone",
            "$contact.language $contact.country $contact.lifecycle $contact.city $CONTACT.Plan",
            "$assignee.id $assignee.name $assignee.firstname $assignee.lastname",
            "$assignee.email $assignee.team",
            "$system.current_datetime $system.current_date $system.current_time",
            "$trigger.source $var.area $var.answer $var.code $var.last_error",
        ]
    )
    assert problems(doc(ask, http, comment("s3", text))) == set()


@pytest.mark.parametrize(
    "token",
    [
        "$contact.nope",
        "$contact.first_name",
        "$contact.email.domain",
        "$assignee.phone",
        "$system.now",
        "$trigger.order",
        "$var.area",
        "$var.last_error.reason",
    ],
)
def test_an_unknown_variable_is_a_configuration_error(token: str) -> None:  # WF-VAR-04, WF-STEP-02
    found = check(doc(comment(text=f"Hola {token}")), CATALOG)[1]
    assert [(p.step_key, p.field, p.code) for p in found] == [("s1", "config.text", "unknown_variable")]
    assert token in found[0].message


def test_other_dollar_words_are_plain_text() -> None:  # WF-VAR-01/04
    assert problems(doc(comment(text="Cuesta $5, $$10 o $price.total"))) == set()


# Every text setting that takes variables is checked (WF-STEP-02, WF-VAR-04).
TEXT_SETTINGS: list[tuple[dict[str, Any], str]] = [
    (step("s1", "send_message", {"text": "$contact.nope"}), "config.text"),
    (
        step(
            "s1",
            "send_message",
            {"text": "x", "channel_responses": [{"channel": WEBCHAT, "text": "$contact.nope"}]},
        ),
        "config.channel_responses[0].text",
    ),
    (
        step(
            "s1",
            "send_message",
            {
                "text": "x",
                "channel_responses": [
                    {
                        "channel": WEBCHAT,
                        "kind": "whatsapp_template",
                        "template": {"name": "t", "language_code": "es", "parameters": ["$contact.nope"]},
                    }
                ],
            },
        ),
        "config.channel_responses[0].template.parameters[0]",
    ),
    (
        step("s1", "send_message", {"text": "x", "email": {"subject": "$contact.nope"}}),
        "config.email.subject",
    ),
    (step("s1", "ask_question", {"question": "$contact.nope"}), "config.question"),
    (
        step("s1", "ask_question", {"question": "q", "invalid_message": "$contact.nope"}),
        "config.invalid_message",
    ),
    (
        step("s1", "update_field", {"rows": [{"field": "city", "value": "$contact.nope"}]}),
        "config.rows[0].value",
    ),
    (step("s1", "close_conversation", {"summary": "$contact.nope"}), "config.summary"),
    (step("s1", "add_comment", {"text": "$contact.nope"}), "config.text"),
    (step("s1", "http_request", {"url": "https://x/$contact.nope"}), "config.url"),
    (
        step(
            "s1", "http_request", {"url": "https://x", "headers": [{"name": "X", "value": "$contact.nope"}]}
        ),
        "config.headers[0].value",
    ),
    (
        step(
            "s1",
            "http_request",
            {"url": "https://x", "method": "POST", "body_type": "raw", "body": "$contact.nope"},
        ),
        "config.body",
    ),
    (
        step("s1", "trigger_workflow", {"workflow": SUB, "inputs": {"order": "$contact.nope"}}),
        "config.inputs.order",
    ),
]


@pytest.mark.parametrize(("document_step", "field"), TEXT_SETTINGS)
def test_every_text_setting_is_checked_for_unknown_variables(
    document_step: dict[str, Any], field: str
) -> None:
    # WF-VAR-04, WF-STEP-02
    assert problems(doc(document_step)) == {("s1", field, "unknown_variable")}
