"""The template gallery: §5.1/§5.2 templates in Spanish and English (WF-TPL-01, WF-TPL-02)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from convoflow.workflows.definition.catalog import Catalog, CatalogChannel, CatalogField, CatalogUser
from convoflow.workflows.definition.graph import WorkflowDefinition
from convoflow.workflows.definition.loops import Candidate, find_loop
from convoflow.workflows.definition.steps import (
    AddCommentStep,
    AskQuestionStep,
    BranchStep,
    CloseConversationStep,
    SendMessageStep,
    UpdateFieldStep,
)
from convoflow.workflows.definition.validate import check, validate
from convoflow.workflows.gallery import (
    CATEGORIES,
    LANGUAGES,
    Language,
    Template,
    TemplateError,
    UnknownTemplate,
    get_template,
    instantiate,
    list_templates,
    pick_language,
)

SPANISH_EXAMPLES = {  # §5.1
    "cerrar-conversacion-y-prender-bot": "Cerrar conversación y prender Bot",
    "asignar-a-un-agente": "Asignar a un Agente",
    "asignacion-automatica-para-equipos-de-ventas": "Asignación automática para equipos de ventas",
    "asignacion-automatica-para-equipos-de-soporte": "Asignación automática para equipos de soporte",
    "asignacion-automatica-para-equipos-de-soporte-alto": (
        "Asignación automática para equipos de soporte alto"
    ),
    "mensaje-de-agente-asignado": "Mensaje de agente asignado",
    "mensajes-de-fuera-de-horario": "Mensajes de fuera de horario",
    "mensaje-de-agentes-al-maximo-de-capacidad": "Mensaje de agentes al máximo de capacidad",
    "enrutamiento-de-agentes": "Enrutamiento de Agentes",
}
GALLERY_P1 = {  # §5.2, P1 rows
    "welcome-message": "Welcome Message",
    "welcome-ask-for-email": "Welcome & Ask for Email",
    "welcome-ask-for-phone": "Welcome & Ask for Phone",
    "welcome-channel-specific": "Welcome: Channel Specific",
    "away-message": "Away Message",
    "assignment-round-robin": "Assignment: Round Robin",
    "assignment-round-robin-online-only": "Assignment: Round Robin + Online Only",
    "assignment-least-open-contacts": "Assignment: Least Open Contacts",
    "unassign-after-close": "Unassign After Close",
    "multi-team-routing-shifts": "Multi-Team Routing: Shifts",
    "mark-contact-as-spam": "Mark Contact as Spam",
    "new-vs-returning-contacts": "New vs Returning Contacts",
    "privacy-consent": "Privacy Consent",
}
KEYS = sorted(SPANISH_EXAMPLES | GALLERY_P1)
CASES = [(key, language) for key in KEYS for language in LANGUAGES]
PLACEHOLDER = re.compile(r"^@[a-z0-9_]+$")


# ---------------------------------------------------------------------------------------------- helpers


def workspace(template: Template, language: Language, *, category_required: bool = False) -> Catalog:
    """A workspace with everything the template expects, one active user and one webchat channel."""
    expects = template.expects_in(language)
    return Catalog(
        users={1: CatalogUser(1, "ana@mail.example", "Ana Pérez")},
        teams={100 + i: name for i, name in enumerate(expects.teams)},
        channels={7: CatalogChannel(7, "webchat", "Web Chat")},
        fields={f.slug: CatalogField(f.slug, f.name, f.type, f.options) for f in expects.fields},
        tags={200 + i: name for i, name in enumerate(expects.tags)},
        categories={300: "Resuelto", **{301 + i: name for i, name in enumerate(expects.categories)}},
        closing_category_required=category_required,
    )


def empty_refs(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """(path, ref) of every ref with neither id nor key in a JSON document."""
    if isinstance(node, dict):
        if "ref" in node and node.get("id") is None and not node.get("key"):
            yield path, node
        for key, value in node.items():
            yield from empty_refs(value, f"{path}.{key}" if path else key)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from empty_refs(item, f"{path}[{index}]")


def fill_choices(definition: WorkflowDefinition, catalog: Catalog) -> dict[str, Any]:
    """The definition as JSON with every empty ref filled with an object of its kind from the catalog,
    as the user does in the builder (WF-TPL-01)."""
    document = definition.to_json()
    tables: dict[str, dict[int, Any]] = {
        "user": dict(catalog.users),
        "team": dict(catalog.teams),
        "channel": dict(catalog.channels),
        "tag": dict(catalog.tags),
        "stage": dict(catalog.stages),
        "category": dict(catalog.categories),
        "workflow": dict(catalog.workflows),
    }
    for _path, ref in list(empty_refs(document)):
        ref["id"] = min(tables[ref["ref"]])
    return document


def needing_input(document: dict[str, Any]) -> set[str]:
    """Owners (step keys, "trigger") holding a required empty ref; a Close Conversation category is
    optional unless the workspace requires one (WF-STEP-CLOSE-01)."""
    owners: set[str] = set()
    if document["trigger"] is not None and any(True for _ in empty_refs(document["trigger"])):
        owners.add("trigger")
    for step in document["steps"]:
        for path, _ref in empty_refs(step["config"]):
            if not (step["type"] == "close_conversation" and path == "category"):
                owners.add(step["key"])
    return owners


def strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings(item)


def message_texts(definition: WorkflowDefinition) -> dict[str, str]:
    """What the contact or the team reads, by step key."""
    texts: dict[str, str] = {}
    for step in definition.steps:
        match step:
            case SendMessageStep():
                texts[step.key] = step.config.text
            case AskQuestionStep():
                texts[step.key] = step.config.question
            case AddCommentStep():
                texts[step.key] = step.config.text
            case CloseConversationStep():
                texts[step.key] = step.config.summary
    return texts


def parsed(key: str, language: Language) -> WorkflowDefinition:
    return WorkflowDefinition.model_validate(get_template(key).render(language))


# ---------------------------------------------------------------------------------------------- the gallery


def test_the_gallery_ships_the_spec_templates() -> None:  # WF-TPL-01, §5.1, §5.2
    infos = list_templates()
    assert sorted(info.key for info in infos) == KEYS
    by_key = {info.key: info for info in infos}
    for key, name in SPANISH_EXAMPLES.items():
        assert by_key[key].name["es"] == name
    for key, name in GALLERY_P1.items():
        assert by_key[key].name["en"] == name
    for info in infos:
        assert info.category in CATEGORIES
        assert set(info.languages) == {"es", "en"}
        assert info.step_count == len(get_template(info.key).definition["steps"]) >= 1
        assert all(info.purpose[language] for language in LANGUAGES)


def test_an_unknown_template_is_a_key_error() -> None:
    with pytest.raises(UnknownTemplate):
        get_template("teleport")
    with pytest.raises(KeyError):
        get_template("")


@pytest.mark.parametrize(("key", "language"), CASES)
def test_every_template_renders_and_parses(key: str, language: Language) -> None:  # WF-TPL-01/02
    template = get_template(key)
    document = template.render(language)
    assert not [s for s in strings(document) if PLACEHOLDER.match(s)]  # WF-TPL-02
    assert not [s for s in strings(template.expects_in(language).model_dump()) if PLACEHOLDER.match(s)]
    definition = WorkflowDefinition.model_validate(document)
    keys = [step.key for step in definition.steps]
    names = [step.name.strip().casefold() for step in definition.steps]
    assert len(set(keys)) == len(keys) and len(set(names)) == len(names)  # WF-BLD-04
    assert all(0 < len(step.name) <= 50 for step in definition.steps)
    assert definition.trigger is not None and definition.root == definition.steps[0].key
    assert definition.reachable() == set(keys)


@pytest.mark.parametrize(("key", "language"), CASES)
def test_filled_in_templates_are_valid(key: str, language: Language) -> None:  # WF-TPL-01
    template = get_template(key)
    catalog = workspace(template, language)
    definition, stripped = instantiate(template, language, catalog)
    assert stripped == []
    document = fill_choices(definition, catalog)
    result, problems = check(document, catalog)
    assert result is not None
    assert problems == []


@pytest.mark.parametrize(("key", "language"), CASES)
def test_in_an_empty_workspace_only_the_user_inputs_are_flagged(key: str, language: Language) -> None:
    # WF-TPL-01: named objects the workspace lacks are stripped and, like the values to choose, shown red
    template = get_template(key)
    empty = Catalog()
    definition, stripped = instantiate(template, language, empty)
    expects = template.expects_in(language)
    named = {*expects.teams, *expects.tags, *expects.categories, *(f.slug for f in expects.fields)}
    assert {s.label for s in stripped} == named
    problems = validate(definition, empty)
    assert {p.code for p in problems} <= {"required"}
    assert {p.step_key for p in problems} == {s.step_key for s in stripped} | needing_input(
        template.render(language)
    )


def test_branches_compare_a_variable_with_text() -> None:  # WF-STEP-BRANCH-03/04, §5.1 Enrutamiento
    for key in ("enrutamiento-de-agentes", "privacy-consent"):
        template = get_template(key)
        catalog = workspace(template, "es")
        definition, _stripped = instantiate(template, "es", catalog)
        assert validate(definition, catalog) == []


def test_a_required_closing_category_must_be_chosen() -> None:  # WF-TPL-01, WF-STEP-CLOSE-01
    for key, step_key in (("cerrar-conversacion-y-prender-bot", "s1"), ("mark-contact-as-spam", "s2")):
        template = get_template(key)
        catalog = workspace(template, "es", category_required=True)
        definition, _stripped = instantiate(template, "es", catalog)
        assert (step_key, "config.category", "required") in {
            (p.step_key, p.field, p.code) for p in validate(definition, catalog)
        }
        assert check(fill_choices(definition, catalog), catalog)[1] == []


def test_named_objects_are_pointed_at_the_workspace() -> None:  # WF-TPL-01, WF-IO-05
    template = get_template("asignacion-automatica-para-equipos-de-soporte-alto")
    catalog = Catalog(teams={9: "soporte alto"}, tags={4: "VIP"})
    definition, stripped = instantiate(template, "es", catalog)
    document: dict[str, Any] = definition.to_json()
    steps = {step["key"]: step for step in document["steps"]}
    assert steps["s1"]["config"]["team"] == {
        "ref": "team",
        "id": 9,
        "key": "soporte alto",
        "label": "soporte alto",
    }
    tags = document["trigger"]["config"]["conditions"]["contact"]["conditions"][1]["value"]
    assert tags == [
        {"ref": "tag", "id": 4, "key": "VIP", "label": "VIP"},
        {"ref": "tag", "id": None, "key": None, "label": None},
    ]
    assert {(s.step_key, s.label) for s in stripped} == {
        ("trigger", "prioridad-alta"),
        ("s2", "atendido-soporte-alto"),
    }


def test_templates_never_loop_even_all_published_together() -> None:  # WF-LOOP-01, WF-TPL-03
    for language in LANGUAGES:
        candidates = [Candidate(i, key, parsed(key, language)) for i, key in enumerate(KEYS, start=1)]
        for candidate in candidates:
            assert find_loop(candidate, [c for c in candidates if c is not candidate]) is None


# ---------------------------------------------------------------------------------------------- languages


@pytest.mark.parametrize("key", KEYS)
def test_spanish_and_english_texts_differ(key: str) -> None:  # WF-TPL-02
    template = get_template(key)
    assert template.texts["es"].keys() == template.texts["en"].keys()
    assert template.render("es") != template.render("en")
    spanish, english = message_texts(parsed(key, "es")), message_texts(parsed(key, "en"))
    assert spanish.keys() == english.keys()
    for step_key, text in spanish.items():
        assert text and text != english[step_key], (key, step_key)
    assert template.name["es"] != template.name["en"]
    assert template.purpose["es"] != template.purpose["en"]


def test_missing_texts_fall_back_to_english() -> None:  # WF-TPL-02
    template = Template.model_validate(
        {
            "key": "demo",
            "category": "welcome",
            "languages": ["en"],
            "name": {"en": "Demo"},
            "purpose": {"en": "Demo"},
            "texts": {"es": {"hello": "Hola"}, "en": {"hello": "Hello", "bye": "Bye"}},
            "definition": {
                "trigger": {"type": "conversation_opened"},
                "root": "s1",
                "steps": [
                    {"key": "s1", "name": "@hello", "type": "send_message", "config": {"text": "@bye"}},
                    {
                        "key": "s2",
                        "name": "x",
                        "type": "assign_to",
                        "config": {"user": {"ref": "user", "label": "@choose_user"}},
                    },
                ],
            },
        }
    )
    spanish = template.render("es")
    assert spanish["steps"][0]["name"] == "Hola" and spanish["steps"][0]["config"]["text"] == "Bye"
    assert spanish["steps"][1]["config"]["user"]["label"] == "Elige un usuario"  # shared texts
    assert template.name_in("es") == "Demo"
    broken = template.model_copy(update={"definition": {"root": "@nope"}})
    with pytest.raises(TemplateError):
        broken.render("en")


def test_the_workspace_language_picks_the_texts() -> None:  # WF-TPL-02
    assert [pick_language(x) for x in ("es", "es-MX", "ES_ar", "en", "fr", "", None)] == [
        "es",
        "es",
        "es",
        "en",
        "en",
        "en",
        "en",
    ]


# ------------------------------------------------------------------------------------ §5.1 as specified


def outline(definition: WorkflowDefinition) -> list[tuple[str, str, dict[str, str]]]:
    """(key, type, connected outputs) per step."""
    return [
        (step.key, step.type, {out: to for out, to in step.outputs.items() if to is not None})
        for step in definition.steps
    ]


SPEC_OUTLINES: dict[str, list[tuple[str, str, dict[str, str]]]] = {
    "cerrar-conversacion-y-prender-bot": [
        ("s1", "close_conversation", {"next": "s2"}),
        ("s2", "update_field", {"next": "s3"}),
        ("s3", "assign_to", {"next": "s4"}),
        ("s4", "add_comment", {}),
    ],
    "asignar-a-un-agente": [("s1", "branch", {"else": "s2"}), ("s2", "assign_to", {})],
    "asignacion-automatica-para-equipos-de-ventas": [
        ("s1", "assign_to", {"timeout": "s2"}),
        ("s2", "send_message", {"next": "s3"}),
        ("s3", "assign_to", {}),
    ],
    "asignacion-automatica-para-equipos-de-soporte": [
        ("s1", "assign_to", {"timeout": "s2"}),
        ("s2", "assign_to", {}),
    ],
    "asignacion-automatica-para-equipos-de-soporte-alto": [
        ("s1", "assign_to", {"next": "s2", "timeout": "s3"}),
        ("s2", "update_tag", {}),
        ("s3", "add_comment", {"next": "s4"}),
        ("s4", "assign_to", {}),
    ],
    "mensaje-de-agente-asignado": [("s1", "send_message", {"failure": "s2"}), ("s2", "add_comment", {})],
    "mensajes-de-fuera-de-horario": [
        ("s1", "date_time", {"outside": "s2"}),
        ("s2", "send_message", {"next": "s3"}),
        ("s3", "update_tag", {}),
    ],
    "mensaje-de-agentes-al-maximo-de-capacidad": [
        ("s1", "assign_to", {"timeout": "s2"}),
        ("s2", "send_message", {"next": "s3"}),
        ("s3", "assign_to", {"timeout": "s4"}),
        ("s4", "add_comment", {}),
    ],
    "enrutamiento-de-agentes": [
        ("s1", "ask_question", {"next": "s2", "timeout": "s6", "failure": "s7"}),
        ("s2", "branch", {"branch:1": "s3", "branch:2": "s4", "branch:3": "s5"}),
        ("s3", "assign_to", {}),
        ("s4", "assign_to", {}),
        ("s5", "assign_to", {}),
        ("s6", "assign_to", {}),
        ("s7", "assign_to", {}),
    ],
}

# (template, step) -> config subset, Spanish rendering.
SPEC_CONFIGS: dict[tuple[str, str], dict[str, Any]] = {
    ("cerrar-conversacion-y-prender-bot", "s1"): {"summary": "Cerrada por $trigger.user.name con atajo"},
    ("cerrar-conversacion-y-prender-bot", "s2"): {
        "rows": [{"field": "bot_activo", "value": "true", "clear": False}]
    },
    ("cerrar-conversacion-y-prender-bot", "s3"): {"action": "unassign"},
    ("cerrar-conversacion-y-prender-bot", "s4"): {"text": "Bot reactivado por $trigger.user.name."},
    ("asignar-a-un-agente", "s2"): {
        "action": "user",
        "user": {"ref": "user", "id": None, "key": None, "label": "Elige un usuario"},
    },
    ("asignacion-automatica-para-equipos-de-ventas", "s1"): {
        "action": "team",
        "logic": "round_robin",
        "online_only": True,
        "max_open_contacts": None,
        "timeout_seconds": 600,
        "timeout_branch": True,
    },
    ("asignacion-automatica-para-equipos-de-ventas", "s2"): {
        "text": "Hola $contact.firstname, en un momento te atiende un asesor."
    },
    ("asignacion-automatica-para-equipos-de-ventas", "s3"): {
        "action": "team",
        "logic": "round_robin",
        "online_only": False,
        "max_open_contacts": None,
    },
    ("asignacion-automatica-para-equipos-de-soporte", "s1"): {
        "logic": "least_open",
        "online_only": True,
        "timeout_seconds": 1800,
        "timeout_branch": True,
    },
    ("asignacion-automatica-para-equipos-de-soporte", "s2"): {
        "logic": "least_open",
        "online_only": False,
        "max_open_contacts": None,
    },
    ("asignacion-automatica-para-equipos-de-soporte-alto", "s1"): {
        "logic": "least_open",
        "online_only": True,
        "max_open_contacts": 5,
        "timeout_seconds": 900,
        "timeout_branch": True,
    },
    ("asignacion-automatica-para-equipos-de-soporte-alto", "s2"): {"action": "add"},
    ("asignacion-automatica-para-equipos-de-soporte-alto", "s3"): {
        "text": "Sin agente de Soporte Alto disponible en 15 min."
    },
    ("asignacion-automatica-para-equipos-de-soporte-alto", "s4"): {
        "logic": "least_open",
        "online_only": False,
        "max_open_contacts": None,
    },
    ("mensaje-de-agente-asignado", "s1"): {
        "channel": None,
        "failure_branch": True,
        "text": "Hola $contact.firstname, soy $assignee.firstname y continuaré con tu atención.",
    },
    ("mensaje-de-agente-asignado", "s2"): {"text": "No se pudo avisar al contacto del cambio de agente."},
    ("mensajes-de-fuera-de-horario", "s1"): {"mode": "business_hours", "use_workspace_hours": True},
    ("mensajes-de-fuera-de-horario", "s2"): {
        "text": "¡Gracias por escribirnos! Atendemos de lunes a viernes de 9:00 a 18:00; "
        "te responderemos en cuanto abramos."
    },
    ("mensaje-de-agentes-al-maximo-de-capacidad", "s1"): {
        "action": "workspace",
        "logic": "least_open",
        "online_only": True,
        "max_open_contacts": 10,
        "timeout_seconds": 300,
        "timeout_branch": True,
    },
    ("mensaje-de-agentes-al-maximo-de-capacidad", "s2"): {
        "text": "Todos nuestros agentes están atendiendo a otros clientes. "
        "Te asignaremos uno en cuanto se libere."
    },
    ("mensaje-de-agentes-al-maximo-de-capacidad", "s3"): {
        "action": "workspace",
        "logic": "least_open",
        "online_only": True,
        "max_open_contacts": 10,
        "timeout_seconds": 7 * 86400,
        "timeout_branch": True,
    },
    ("mensaje-de-agentes-al-maximo-de-capacidad", "s4"): {"text": "Sin agente disponible tras 7 días."},
    ("enrutamiento-de-agentes", "s1"): {
        "question": "¿Con qué área quieres hablar?",
        "question_type": "multiple_choice",
        "options": ["Ventas", "Soporte", "Facturación"],
        "save_variable": "area",
        "save_tag": True,
        "timeout_seconds": 3600,
        "timeout_branch": True,
        "failure_branch": True,
    },
    ("enrutamiento-de-agentes", "s3"): {"action": "team", "logic": "round_robin"},
    ("enrutamiento-de-agentes", "s4"): {"action": "team", "logic": "least_open"},
    ("enrutamiento-de-agentes", "s5"): {"action": "team", "logic": "round_robin"},
    ("enrutamiento-de-agentes", "s6"): {"action": "workspace", "logic": "round_robin"},
    ("enrutamiento-de-agentes", "s7"): {"action": "workspace", "logic": "round_robin"},
}

# Teams and tags the §5.1 templates name, per step (Spanish).
SPEC_NAMES: dict[tuple[str, str], str] = {
    ("asignacion-automatica-para-equipos-de-ventas", "s1"): "Ventas",
    ("asignacion-automatica-para-equipos-de-ventas", "s3"): "Ventas",
    ("asignacion-automatica-para-equipos-de-soporte", "s1"): "Soporte",
    ("asignacion-automatica-para-equipos-de-soporte", "s2"): "Soporte",
    ("asignacion-automatica-para-equipos-de-soporte-alto", "s1"): "Soporte Alto",
    ("asignacion-automatica-para-equipos-de-soporte-alto", "s2"): "atendido-soporte-alto",
    ("asignacion-automatica-para-equipos-de-soporte-alto", "s4"): "Soporte Alto",
    ("mensajes-de-fuera-de-horario", "s3"): "fuera-de-horario",
    ("enrutamiento-de-agentes", "s3"): "Ventas",
    ("enrutamiento-de-agentes", "s4"): "Soporte",
    ("enrutamiento-de-agentes", "s5"): "Facturación",
}


@pytest.mark.parametrize("key", sorted(SPANISH_EXAMPLES))
def test_spanish_examples_follow_the_spec(key: str) -> None:  # §5.1
    definition = parsed(key, "es")
    assert outline(definition) == SPEC_OUTLINES[key]
    for step in definition.steps:
        config = step.config.model_dump(mode="json")
        expected = SPEC_CONFIGS.get((key, step.key), {})
        assert {name: config[name] for name in expected} == expected, step.key
        if (key, step.key) in SPEC_NAMES:
            refs = [config["team"]] if "team" in config else config["tags"]
            assert [ref["key"] for ref in refs] == [SPEC_NAMES[key, step.key]]


def trigger_json(key: str) -> dict[str, Any]:
    trigger = parsed(key, "es").trigger
    assert trigger is not None
    return trigger.model_dump(mode="json", by_alias=True)


def test_spanish_example_triggers_follow_the_spec() -> None:  # §5.1, §7
    unassigned = {"category": "assignee", "field": None, "operator": "is_unassigned", "value": None}
    shortcut = trigger_json("cerrar-conversacion-y-prender-bot")
    assert shortcut["type"] == "shortcut"
    assert shortcut["config"]["label"] == "Cerrar y prender bot"
    assert shortcut["config"]["visibility"] == "all" and shortcut["config"]["form"] == []
    for key in ("asignar-a-un-agente", "mensajes-de-fuera-de-horario"):
        assert trigger_json(key)["config"] == {"sources": ["contact"], "conditions": {}}
    for key in (
        "asignacion-automatica-para-equipos-de-ventas",
        "mensaje-de-agentes-al-maximo-de-capacidad",
        "enrutamiento-de-agentes",
    ):
        config = trigger_json(key)["config"]
        assert config["sources"] == ["contact"]
        assert config["conditions"] == {"contact": {"logic": "and", "conditions": [unassigned]}}
    for key, operator in (
        ("asignacion-automatica-para-equipos-de-soporte", "has_none_of"),
        ("asignacion-automatica-para-equipos-de-soporte-alto", "has_any_of"),
    ):
        group = trigger_json(key)["config"]["conditions"]["contact"]
        assert group["logic"] == "and" and group["conditions"][0] == unassigned
        assert group["conditions"][1]["category"] == "tags"
        assert group["conditions"][1]["operator"] == operator
        assert [ref["key"] for ref in group["conditions"][1]["value"]] == ["vip", "prioridad-alta"]
    assigned = trigger_json("mensaje-de-agente-asignado")
    assert assigned["type"] == "assignee_updated"
    assert assigned["config"]["change"] == "assigned"
    assert sorted(assigned["config"]["sources"]) == ["api", "system", "user", "workflow"]
    assert assigned["config"]["conditions"]["conditions"] == [
        {"category": "conversation_status", "field": None, "operator": "is_open", "value": None}
    ]


def test_routing_branches_on_the_answer() -> None:  # §5.1 Enrutamiento de Agentes
    answers: list[tuple[Language, list[str]]] = [
        ("es", ["Ventas", "Soporte", "Facturación"]),
        ("en", ["Sales", "Support", "Billing"]),
    ]
    for language, options in answers:
        definition = parsed("enrutamiento-de-agentes", language)
        ask, branch = definition.steps[0], definition.steps[1]
        assert isinstance(ask, AskQuestionStep) and ask.config.options == options
        assert isinstance(branch, BranchStep)
        conditions = [b.conditions[0] for b in branch.config.branches]
        assert [b.name for b in branch.config.branches] == options
        assert [(c.category, c.field, c.operator, c.value) for c in conditions] == [
            ("variable", "$var.area", "is_equal_to", option) for option in options
        ]


# ------------------------------------------------------------------------------------ §5.2 as specified


def test_gallery_templates_follow_the_spec() -> None:  # §5.2
    for key in ("welcome-message", "away-message"):
        assert outline(parsed(key, "en")) == [("s1", "send_message", {})]
    for key, field, question_type in (
        ("welcome-ask-for-email", "email", "email"),
        ("welcome-ask-for-phone", "phone", "phone"),
    ):
        definition = parsed(key, "en")
        assert outline(definition) == [
            ("s1", "send_message", {"next": "s2"}),
            ("s2", "branch", {"else": "s3"}),
            ("s3", "ask_question", {}),
        ]
        branch, ask = definition.steps[1], definition.steps[2]
        assert branch.type == "branch" and isinstance(ask, AskQuestionStep)
        condition = branch.config.branches[0].conditions[0]
        assert (condition.category, condition.field, condition.operator) == ("contact_field", field, "exists")
        assert (ask.config.question_type, ask.config.save_field) == (question_type, field)
    channel = parsed("welcome-channel-specific", "en")
    assert outline(channel)[0] == ("s1", "branch", {"branch:1": "s2", "branch:2": "s3", "else": "s4"})
    assert {step.type for step in channel.steps[1:]} == {"send_message"}
    for key, logic, online in (
        ("assignment-round-robin", "round_robin", False),
        ("assignment-round-robin-online-only", "round_robin", True),
        ("assignment-least-open-contacts", "least_open", False),
    ):
        step = parsed(key, "en").steps[0].config.model_dump()
        assert (step["action"], step["logic"], step["online_only"]) == ("workspace", logic, online)
    unassign = parsed("unassign-after-close", "en")
    assert unassign.trigger is not None and unassign.trigger.type == "conversation_closed"
    assert sorted(unassign.trigger.config.model_dump()["sources"]) == ["api", "system", "user", "workflow"]
    assert unassign.steps[0].config.model_dump()["action"] == "unassign"
    spam = parsed("mark-contact-as-spam", "es")
    assert spam.trigger is not None and spam.trigger.model_dump()["config"]["label"] == "Spam"
    assert outline(spam) == [("s1", "update_tag", {"next": "s2"}), ("s2", "close_conversation", {})]
    assert spam.steps[0].config.model_dump(mode="json")["tags"][0]["key"] == "spam"
    shifts = parsed("multi-team-routing-shifts", "es")
    assert [step.type for step in shifts.steps] == [
        "date_time",
        "assign_to",
        "date_time",
        "assign_to",
        "assign_to",
    ]
    returning = parsed("new-vs-returning-contacts", "es")
    tags = returning.steps[0].config.model_dump(mode="json")["branches"][0]["conditions"][0]
    assert (tags["category"], tags["operator"], tags["value"][0]["key"]) == ("tags", "has_any_of", "cliente")
    consent = parsed("privacy-consent", "es")
    assert consent.trigger is not None and consent.trigger.trigger_once_per_contact
    ask = consent.steps[0]
    assert isinstance(ask, AskQuestionStep) and ask.config.options == ["Sí", "No"]
    assert [step.type for step in consent.steps] == ["ask_question", "branch", "update_field", "update_field"]
    saves = [step for step in consent.steps if isinstance(step, UpdateFieldStep)]
    assert [(row.field, row.value) for step in saves for row in step.config.rows] == [
        ("consentimiento_privacidad", "true"),
        ("consentimiento_privacidad", "false"),
    ]
