"""Small builders for definition documents and a workspace catalog, shared by the definition tests."""

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
from convoflow.workflows.definition.validate import check

CATALOG = Catalog(
    users={
        12: CatalogUser(12, "ana@mail.example", "Ana Pérez"),
        13: CatalogUser(13, "old@mail.example", "Old", active=False),
    },
    teams={3: "Ventas", 4: "Soporte"},
    channels={7: CatalogChannel(7, "webchat", "Web Chat"), 8: CatalogChannel(8, "whatsapp", "WA")},
    fields={
        "city": CatalogField("city", "City", "text"),
        "plan": CatalogField("plan", "Plan", "list", ("Free", "Pro")),
        "age": CatalogField("age", "Age", "number"),
        "birthday": CatalogField("birthday", "Birthday", "date"),
        "vip_flag": CatalogField("vip_flag", "VIP", "checkbox"),
        "work_email": CatalogField("work_email", "Work email", "email"),
        "site": CatalogField("site", "Site", "url"),
        "opens_at": CatalogField("opens_at", "Opens at", "time"),
    },
    tags={5: "vip", 6: "lead"},
    stages={1: "New Lead", 2: "Customer"},
    categories={2: "Resuelto"},
    workflows={
        40: CatalogWorkflow(40, "Sub", "manual", "published", ("order",)),
        42: CatalogWorkflow(42, "Tagged", "contact_tag_updated", "published"),
        41: CatalogWorkflow(41, "Me", "manual", "draft", ()),
    },
    workflow_id=41,
)

VIP = {"ref": "tag", "id": 5, "key": "vip", "label": "vip"}
LEAD = {"ref": "tag", "id": 6, "key": "lead", "label": "lead"}
ANA = {"ref": "user", "id": 12, "key": "ana@mail.example", "label": "Ana Pérez"}
OLD = {"ref": "user", "id": 13, "key": "old@mail.example", "label": "Old"}
VENTAS = {"ref": "team", "id": 3, "key": "Ventas", "label": "Ventas"}
WEBCHAT = {"ref": "channel", "id": 7, "key": "webchat:Web Chat", "label": "Web Chat"}
WHATSAPP = {"ref": "channel", "id": 8, "key": "whatsapp:WA", "label": "WA"}
NEW_LEAD = {"ref": "stage", "id": 1, "key": "New Lead", "label": "New Lead"}
RESUELTO = {"ref": "category", "id": 2, "key": "Resuelto", "label": "Resuelto"}
SUB = {"ref": "workflow", "id": 40, "key": "Sub", "label": "Sub"}

OPENED = {"type": "conversation_opened", "config": {"sources": ["contact"]}}
# A minimal valid configuration of every trigger type (WF-TRG-*).
VALID_TRIGGERS: dict[str, dict[str, Any]] = {
    "conversation_opened": OPENED,
    "conversation_closed": {"type": "conversation_closed", "config": {}},
    "contact_tag_updated": {"type": "contact_tag_updated", "config": {"action": "added", "tags": [VIP]}},
    "contact_field_updated": {"type": "contact_field_updated", "config": {"fields": ["city"]}},
    "lifecycle_updated": {"type": "lifecycle_updated", "config": {}},
    "assignee_updated": {"type": "assignee_updated", "config": {}},
    "shortcut": {"type": "shortcut", "config": {"label": "Spam"}},
    "incoming_webhook": {"type": "incoming_webhook", "config": {"contact_path": "$.customer.phone"}},
    "manual": {"type": "manual", "config": {}},
}


def doc(
    *steps: dict[str, Any], trigger: dict[str, Any] | None = None, root: str | None = "s1"
) -> dict[str, Any]:
    """A definition document; the trigger defaults to Conversation Opened by the contact."""
    return {"trigger": OPENED if trigger is None else trigger, "root": root, "steps": list(steps)}


def step(key: str, type: str, config: dict[str, Any] | None = None, **outputs: str | None) -> dict[str, Any]:
    return {"key": key, "name": f"Step {key}", "type": type, "config": config or {}, "outputs": outputs}


def comment(key: str = "s1", text: str = "Hola", **outputs: str | None) -> dict[str, Any]:
    return step(key, "add_comment", {"text": text}, **outputs)


def codes(problems: list[Problem]) -> set[tuple[str | None, str, str]]:
    return {(p.step_key, p.field, p.code) for p in problems}


def problems(document: Any, catalog: Catalog = CATALOG) -> set[tuple[str | None, str, str]]:
    """(step key, field, code) of every problem of `document`."""
    return codes(check(document, catalog)[1])


def step_problems(
    type: str, config: dict[str, Any], catalog: Catalog = CATALOG, **outputs: str | None
) -> set[tuple[str, str]]:
    """(field, code) of the problems of a one-step workflow whose only step is `type` with `config`."""
    found = check(doc(step("s1", type, config, **outputs)), catalog)[1]
    return {(p.field, p.code) for p in found}


def trigger_problems(trigger: dict[str, Any], catalog: Catalog = CATALOG) -> set[tuple[str, str]]:
    """(field, code) of the trigger's problems, under a valid one-step workflow."""
    found = check(doc(comment(), trigger=trigger), catalog)[1]
    assert all(p.step_key == "trigger" for p in found), found
    return {(p.field, p.code) for p in found}


def text_problems(trigger: dict[str, Any], text: str, catalog: Catalog = CATALOG) -> set[tuple[str, str]]:
    """Problems of a comment step whose text uses variables, under `trigger`."""
    found = check(doc(comment(text=text), trigger=trigger), catalog)[1]
    return {(p.field, p.code) for p in found if p.step_key == "s1"}
