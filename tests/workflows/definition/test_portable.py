"""Moving definitions between workspaces (WF-IO-02, WF-IO-03, WF-IO-05, WF-IO-06), without a database."""

from __future__ import annotations

import json
from typing import Any

import pytest

from convoflow.workflows.definition.catalog import (
    Catalog,
    CatalogChannel,
    CatalogField,
    CatalogUser,
    CatalogWorkflow,
)
from convoflow.workflows.definition.graph import WorkflowDefinition
from convoflow.workflows.definition.portable import (
    header_is_secret,
    resolve_references,
    with_natural_keys,
    without_secrets,
)
from convoflow.workflows.definition.steps import Header
from convoflow.workflows.definition.validate import check
from tests.workflows.definition.builders import CATALOG, doc, step


def definition_of(document: dict[str, Any]) -> WorkflowDefinition:
    return WorkflowDefinition.model_validate(document)


def as_json(definition: WorkflowDefinition) -> dict[str, Any]:
    return json.loads(json.dumps(definition.to_json()))  # type: ignore[no-any-return]


def first_config(definition: WorkflowDefinition) -> dict[str, Any]:
    config: dict[str, Any] = as_json(definition)["steps"][0]["config"]
    return config


# ------------------------------------------------------------------------------------------------- WF-IO-03


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("Authorization", True),
        ("authorization", True),
        ("X-Api-Key", True),
        ("X-Auth-Token", True),
        ("Client-Secret", True),
        ("Content-Type", False),
        ("Accept", False),
        ("X-Request-Source", False),
    ],
)
def test_credential_looking_headers_are_secret_by_default(name: str, secret: bool) -> None:  # WF-IO-03
    assert header_is_secret(Header(name=name, value="v")) is secret


def test_the_secret_flag_wins_over_the_name() -> None:  # WF-IO-03
    assert header_is_secret(Header(name="Authorization", value="v", secret=False)) is False
    assert header_is_secret(Header(name="X-Custom", value="v", secret=True)) is True


def test_secret_header_values_are_exported_empty() -> None:  # WF-IO-03
    headers = [
        {"name": "Authorization", "value": "Bearer abc"},
        {"name": "X-Api-Key", "value": "k"},
        {"name": "X-Custom", "value": "hidden", "secret": True},
        {"name": "Accept", "value": "application/json"},
        {"name": "Token-Free", "value": "shown", "secret": False},
    ]
    original = definition_of(doc(step("s1", "http_request", {"url": "https://x", "headers": headers})))
    exported = without_secrets(original)
    assert [(h["name"], h["value"]) for h in first_config(exported)["headers"]] == [
        ("Authorization", ""),
        ("X-Api-Key", ""),
        ("X-Custom", ""),
        ("Accept", "application/json"),
        ("Token-Free", "shown"),
    ]
    assert first_config(original)["headers"][0]["value"] == "Bearer abc"  # the draft keeps its secrets


# ------------------------------------------------------------------------------------------------- WF-IO-02


def test_export_writes_every_reference_with_its_natural_key() -> None:  # WF-IO-02
    document = doc(
        step(
            "s1",
            "send_message",
            {"text": "x", "channel": {"ref": "channel", "id": 7}},
            next="s2",
        ),
        step(
            "s2",
            "assign_to",
            {"action": "user", "user": {"ref": "user", "id": 12, "label": "old label"}},
            next="s3",
        ),
        step("s3", "assign_to", {"action": "team", "team": {"ref": "team", "id": 3}}, next="s4"),
        step("s4", "update_tag", {"tags": [{"ref": "tag", "id": 5}]}, next="s5"),
        step("s5", "update_lifecycle", {"stage": {"ref": "stage", "id": 1}}, next="s6"),
        step("s6", "close_conversation", {"category": {"ref": "category", "id": 2}}, next="s7"),
        step("s7", "trigger_workflow", {"workflow": {"ref": "workflow", "id": 40}}),
    )
    exported = as_json(with_natural_keys(definition_of(document), CATALOG))
    refs = [s["config"] for s in exported["steps"]]
    assert refs[0]["channel"] == {"ref": "channel", "id": 7, "key": "webchat:Web Chat", "label": "Web Chat"}
    assert refs[1]["user"] == {"ref": "user", "id": 12, "key": "ana@mail.example", "label": "Ana Pérez"}
    assert refs[2]["team"] == {"ref": "team", "id": 3, "key": "Ventas", "label": "Ventas"}
    assert refs[3]["tags"] == [{"ref": "tag", "id": 5, "key": "vip", "label": "vip"}]
    assert refs[4]["stage"] == {"ref": "stage", "id": 1, "key": "New Lead", "label": "New Lead"}
    assert refs[5]["category"] == {"ref": "category", "id": 2, "key": "Resuelto", "label": "Resuelto"}
    assert refs[6]["workflow"] == {"ref": "workflow", "id": 40, "key": "Sub", "label": "Sub"}


def test_contact_fields_travel_by_slug() -> None:  # WF-IO-02: contact field → slug
    document = doc(step("s1", "update_field", {"rows": [{"field": "city", "value": "x"}]}))
    exported = with_natural_keys(definition_of(document), CATALOG)
    assert first_config(exported)["rows"][0]["field"] == "city"


# ---------------------------------------------------------------------------------------------- WF-IO-05/06

TARGET = Catalog(
    users={
        50: CatalogUser(50, "ana@mail.example", "Ana P."),
        12: CatalogUser(12, "someone@else.example", "Someone Else"),
    },
    teams={60: "ventas"},
    channels={70: CatalogChannel(70, "webchat", "Web Chat")},
    fields={"city": CatalogField("city", "Ciudad", "text")},
    tags={5: "vip"},
    stages={1: "New Lead"},
    categories={},
    workflows={
        40: CatalogWorkflow(40, "Other", "manual", "draft"),
        90: CatalogWorkflow(90, "Sub", "manual", "draft"),
    },
)


def test_references_resolve_by_id_when_it_names_the_same_object_else_by_natural_key() -> None:  # WF-IO-05
    document = doc(
        step(
            "s1",
            "assign_to",
            {"action": "user", "user": {"ref": "user", "id": 12, "key": "ana@mail.example"}},
            next="s2",
        ),
        step(
            "s2", "update_tag", {"tags": [{"ref": "tag", "id": 5, "key": "VIP", "label": "VIP"}]}, next="s3"
        ),
        step(
            "s3",
            "assign_to",
            {"action": "team", "team": {"ref": "team", "id": 3, "key": "Ventas"}},
            next="s4",
        ),
        step(
            "s4",
            "send_message",
            {"text": "x", "channel": {"ref": "channel", "id": 7, "key": "webchat:web chat"}},
            next="s5",
        ),
        step("s5", "trigger_workflow", {"workflow": {"ref": "workflow", "id": 40, "key": "Sub"}}),
    )
    resolved, stripped = resolve_references(definition_of(document), TARGET)
    configs = [s["config"] for s in as_json(resolved)["steps"]]
    # id 12 exists but is someone else: the email finds Ana
    assert configs[0]["user"] == {"ref": "user", "id": 50, "key": "ana@mail.example", "label": "Ana P."}
    # same id, same tag (ignoring case): kept, key and label refreshed
    assert configs[1]["tags"] == [{"ref": "tag", "id": 5, "key": "vip", "label": "vip"}]
    # unknown id: found by name, ignoring case
    assert configs[2]["team"] == {"ref": "team", "id": 60, "key": "ventas", "label": "ventas"}
    assert configs[3]["channel"] == {
        "ref": "channel",
        "id": 70,
        "key": "webchat:Web Chat",
        "label": "Web Chat",
    }
    assert configs[4]["workflow"] == {"ref": "workflow", "id": 90, "key": "Sub", "label": "Sub"}
    assert stripped == []


def test_what_resolves_to_nothing_is_stripped_and_reported() -> None:  # WF-IO-05, WF-IO-06
    trigger = {
        "type": "contact_tag_updated",
        "config": {
            "tags": [
                {"ref": "tag", "id": 5, "key": "vip"},
                {"ref": "tag", "id": 6, "key": "lead", "label": "Lead"},
            ]
        },
    }
    document = doc(
        step(
            "s1",
            "update_tag",
            {"action": "add", "tags": [{"ref": "tag", "key": "nuevo", "label": "nuevo"}]},
            next="s2",
        ),
        step(
            "s2",
            "close_conversation",
            {"category": {"ref": "category", "id": 2, "key": "Resuelto"}},
            next="s3",
        ),
        step(
            "s3",
            "update_field",
            {"rows": [{"field": "city", "value": "x"}, {"field": "plan", "value": "Pro"}]},
            next="s4",
        ),
        step("s4", "ask_question", {"question": "q", "save_field": "birthday"}, next="s5"),
        step(
            "s5",
            "branch",
            {
                "branches": [
                    {
                        "name": "B",
                        "conditions": [{"category": "contact_field", "field": "age", "operator": "exists"}],
                    }
                ]
            },
        ),
        trigger=trigger,
    )
    resolved, stripped = resolve_references(definition_of(document), TARGET)
    assert [s.as_json() for s in stripped] == [
        {"stepKey": "trigger", "stepName": "Trigger", "setting": "config.tags[1]", "label": "Lead"},
        {"stepKey": "s1", "stepName": "Step s1", "setting": "config.tags[0]", "label": "nuevo"},
        {"stepKey": "s2", "stepName": "Step s2", "setting": "config.category", "label": "Resuelto"},
        {"stepKey": "s3", "stepName": "Step s3", "setting": "config.rows[1].field", "label": "plan"},
        {"stepKey": "s4", "stepName": "Step s4", "setting": "config.save_field", "label": "birthday"},
        {
            "stepKey": "s5",
            "stepName": "Step s5",
            "setting": "config.branches[0].conditions[0].field",
            "label": "age",
        },
    ]
    document_after = as_json(resolved)
    steps = document_after["steps"]
    assert document_after["trigger"]["config"]["tags"][1] == {
        "ref": "tag",
        "id": None,
        "key": None,
        "label": None,
    }
    assert steps[0]["config"]["tags"] == [
        {"ref": "tag", "id": None, "key": None, "label": None}
    ]  # not created
    assert steps[1]["config"]["category"] == {"ref": "category", "id": None, "key": None, "label": None}
    assert [row["field"] for row in steps[2]["config"]["rows"]] == ["city", ""]
    assert steps[3]["config"]["save_field"] == ""
    assert steps[4]["config"]["branches"][0]["conditions"][0]["field"] is None
    # WF-IO-06: the stripped required values are configuration errors
    found = {(p.step_key, p.field, p.code) for p in check(document_after, TARGET)[1]}
    assert found >= {
        ("trigger", "config.tags[1]", "required"),
        ("s1", "config.tags[0]", "required"),
        ("s3", "config.rows[1].field", "required"),
        ("s4", "config.save_field", "required"),
        ("s5", "config.branches[0].conditions[0].field", "required"),
    }


def test_field_trigger_keeps_only_the_fields_the_workspace_has() -> None:  # WF-IO-05
    trigger = {"type": "contact_field_updated", "config": {"fields": ["city", "plan", "email"]}}
    resolved, stripped = resolve_references(definition_of(doc(step("s1", "wait"), trigger=trigger)), TARGET)
    assert resolved.trigger is not None and resolved.trigger.model_dump()["config"]["fields"] == [
        "city",
        "email",
    ]
    assert [(s.step_key, s.setting, s.label) for s in stripped] == [("trigger", "config.fields", "plan")]


def test_empty_references_stay_empty_and_are_not_reported() -> None:  # WF-IO-05, WF-TPL-01
    document = doc(step("s1", "assign_to", {"action": "user", "user": {"ref": "user", "label": "Elige"}}))
    resolved, stripped = resolve_references(definition_of(document), TARGET)
    assert stripped == []
    assert first_config(resolved)["user"] == {"ref": "user", "id": None, "key": None, "label": "Elige"}


def test_resolving_in_the_same_workspace_changes_nothing() -> None:  # WF-IO-05 round trip
    document = doc(
        step("s1", "assign_to", {"action": "user", "user": {"ref": "user", "id": 12}}, next="s2"),
        step("s2", "update_tag", {"tags": [{"ref": "tag", "id": 5}]}),
    )
    exported = with_natural_keys(definition_of(document), CATALOG)
    resolved, stripped = resolve_references(exported, CATALOG)
    assert stripped == [] and resolved == exported
