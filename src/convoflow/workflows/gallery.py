"""The template gallery (WF-TPL-01/02): ready-made workflows shipped as JSON package data.

Pure: reads `convoflow/workflows/templates/<key>.json` and builds definitions; no database.

File format, one template per file, the file named after its key::

    {"key": "asignar-a-un-agente",            # [a-z0-9-], = the file name
     "category": "assignment",                # one of CATEGORIES
     "languages": ["es", "en"],               # languages with complete texts; English is required
     "name": {"es": "...", "en": "..."},      # <= 100 chars, becomes the workflow name
     "purpose": {"es": "...", "en": "..."},   # <= 255 chars, becomes the workflow description
     "expects": {"fields": [{"slug": "bot_activo", "name": "Bot activo", "type": "checkbox"}],
                 "tags": ["vip"], "teams": ["Ventas"], "categories": []},
     "texts": {"es": {"greeting": "Hola $contact.firstname"}, "en": {"greeting": "Hi $contact.firstname"}},
     "definition": {...a WorkflowDefinition document...}}

Texts (WF-TPL-02). In `definition` and `expects`, a string value exactly equal to `@name` (`name` in
`[a-z0-9_]`) is replaced by the text `name` of the chosen language, looked up in this order: the
template's texts in that language, SHARED_TEXTS in that language, the template's English texts, the
English SHARED_TEXTS. An unknown `@name` is a TemplateError. Step names, branch names, messages, question
options and the names of the workspace objects a template expects are all texts, so an English
workspace gets an English workflow (team "Sales") and a Spanish one the spec's names (team "Ventas").

References (WF-TPL-01). What the user must choose (a user, a channel, an optional closing category) is an
empty ref, `{"ref": "user", "label": "@choose_user"}`. Objects the template names (teams, tags, closing
categories, custom fields by slug) carry their natural key and no id, `{"ref": "team", "key": "@team_sales",
"label": "@team_sales"}`, and are listed in `expects`. instantiate() runs resolve_references(): named
objects the workspace has get their id, the others are stripped (reported and emptied); stripped and
empty refs then show as configuration errors until the user fills them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from convoflow.workflows.definition import limits
from convoflow.workflows.definition.catalog import Catalog
from convoflow.workflows.definition.graph import WorkflowDefinition
from convoflow.workflows.definition.portable import Stripped, resolve_references

Language = Literal["es", "en"]
LANGUAGES: tuple[Language, ...] = ("es", "en")
FALLBACK: Language = "en"
Category = Literal[
    "welcome", "away", "assignment", "routing", "notifications", "conversations", "contacts", "consent"
]
CATEGORIES: tuple[Category, ...] = get_args(Category)
FieldType = Literal["text", "list", "checkbox", "email", "number", "url", "date", "time"]  # CRM-FIELD-03

SHARED_TEXTS: dict[Language, dict[str, str]] = {
    "es": {
        "choose_user": "Elige un usuario",
        "choose_channel": "Elige un canal",
        "choose_category": "Categoría de cierre (opcional)",
    },
    "en": {
        "choose_user": "Choose a user",
        "choose_channel": "Choose a channel",
        "choose_category": "Closing category (optional)",
    },
}

_PACKAGE = "convoflow.workflows.templates"
_PLACEHOLDER = re.compile(r"^@([a-z0-9_]+)$")
TextKey = Annotated[str, Field(pattern=r"^[a-z0-9_]+$")]


class TemplateError(ValueError):
    """A shipped template file is malformed (a packaging bug, never a user error)."""


class UnknownTemplate(KeyError):
    """No template has this key."""


class ExpectedField(BaseModel):
    """A custom contact field the template uses; the Use-template dialog offers to create it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    slug: str = Field(pattern=r"^[A-Za-z0-9_]{1,50}$")
    name: str = Field(min_length=1, max_length=50)
    type: FieldType
    options: tuple[str, ...] = ()


class Expects(BaseModel):
    """Workspace objects the template names, in one language: fields and tags can be created for it,
    teams and closing categories must be picked or created by hand."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fields: tuple[ExpectedField, ...] = ()
    tags: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()


class Template(BaseModel):
    """One gallery template as stored; `expects` and `definition` still hold `@text` placeholders."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=100)
    category: Category
    languages: tuple[Language, ...] = Field(min_length=1)
    name: dict[Language, Annotated[str, Field(min_length=1, max_length=limits.NAME_MAX)]]
    purpose: dict[Language, Annotated[str, Field(max_length=limits.DESCRIPTION_MAX)]]
    expects: dict[str, Any] = Field(default_factory=dict)
    texts: dict[Language, dict[TextKey, str]] = Field(default_factory=dict)
    definition: dict[str, Any]

    def name_in(self, language: Language) -> str:
        return self.name.get(language) or self.name[FALLBACK]

    def purpose_in(self, language: Language) -> str:
        return self.purpose.get(language) or self.purpose.get(FALLBACK, "")

    def text(self, language: Language, key: str) -> str:
        """The text `key` in `language`, falling back to English (WF-TPL-02)."""
        for lang in dict.fromkeys((language, FALLBACK)):
            for table in (self.texts.get(lang, {}), SHARED_TEXTS[lang]):
                if key in table:
                    return table[key]
        raise TemplateError(f"template {self.key!r}: no text {key!r}")

    def expects_in(self, language: Language) -> Expects:
        return Expects.model_validate(self._substitute(self.expects, language))

    def render(self, language: Language) -> dict[str, Any]:
        """The definition document with the texts of `language` in place of the placeholders."""
        rendered: dict[str, Any] = self._substitute(self.definition, language)
        return rendered

    @property
    def step_count(self) -> int:
        steps = self.definition.get("steps")
        return len(steps) if isinstance(steps, list) else 0

    def _substitute(self, node: Any, language: Language) -> Any:
        if isinstance(node, str):
            match = _PLACEHOLDER.match(node)
            return self.text(language, match.group(1)) if match else node
        if isinstance(node, list):
            return [self._substitute(item, language) for item in node]
        if isinstance(node, dict):
            return {key: self._substitute(value, language) for key, value in node.items()}
        return node


@dataclass(frozen=True, slots=True)
class TemplateInfo:
    """What the gallery lists (WF-TPL-01): name, purpose, category; the graph preview comes from
    get_template(key).render(language)."""

    key: str
    category: Category
    languages: tuple[Language, ...]
    name: dict[Language, str]
    purpose: dict[Language, str]
    expects: dict[Language, Expects]
    step_count: int


def list_templates() -> list[TemplateInfo]:
    """Every template, by category (CATEGORIES order) then key."""
    return [
        TemplateInfo(
            key=template.key,
            category=template.category,
            languages=template.languages,
            name={lang: template.name_in(lang) for lang in LANGUAGES},
            purpose={lang: template.purpose_in(lang) for lang in LANGUAGES},
            expects={lang: template.expects_in(lang) for lang in LANGUAGES},
            step_count=template.step_count,
        )
        for template in sorted(_templates().values(), key=lambda t: (CATEGORIES.index(t.category), t.key))
    ]


def get_template(key: str) -> Template:
    try:
        return _templates()[key]
    except KeyError:
        raise UnknownTemplate(key) from None


def pick_language(workspace_language: str | None) -> Language:
    """The template language for a workspace language such as "es-MX"; English otherwise (WF-TPL-02)."""
    base = (workspace_language or "").strip().lower().replace("_", "-").split("-")[0]
    return "es" if base == "es" else "en"


def instantiate(
    template: Template, language: Language, catalog: Catalog
) -> tuple[WorkflowDefinition, list[Stripped]]:
    """The template's definition for a workspace: texts of `language`, named objects re-pointed at the
    workspace's, the missing ones stripped and reported (WF-TPL-01, WF-IO-05/06). The result still has
    the empty refs the user must fill; validate() reports them as `required`."""
    definition = _parse(template, language)
    return resolve_references(definition, catalog)


def _parse(template: Template, language: Language) -> WorkflowDefinition:
    try:
        return WorkflowDefinition.model_validate(template.render(language))
    except ValidationError as exc:
        raise TemplateError(f"template {template.key!r} ({language}): {exc}") from exc


@cache
def _templates() -> dict[str, Template]:
    found: dict[str, Template] = {}
    for entry in sorted(resources.files(_PACKAGE).iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".json"):
            continue
        try:
            template = Template.model_validate(json.loads(entry.read_text(encoding="utf-8")))
            for language in LANGUAGES:
                template.expects_in(language)
                _parse(template, language)
        except ValueError as exc:  # also JSON and pydantic errors
            raise TemplateError(f"{entry.name}: {exc}") from exc
        if f"{template.key}.json" != entry.name:
            raise TemplateError(f"{entry.name}: key {template.key!r} does not match the file name")
        if FALLBACK not in template.languages or FALLBACK not in template.name:
            raise TemplateError(f"{entry.name}: English texts are required")
        found[template.key] = template
    return found
