"""Checking the trigger's configuration (workflows.md §7)."""

from __future__ import annotations

from collections.abc import Sequence

from convoflow.workflows.definition import jsonpath
from convoflow.workflows.definition.catalog import Catalog
from convoflow.workflows.definition.check_conditions import check_condition, check_group
from convoflow.workflows.definition.check_refs import KnownVariables, check_refs, contact_field_type
from convoflow.workflows.definition.conditions import (
    CLOSE_TRIGGER_CATEGORIES,
    TRIGGER_CATEGORIES,
    Condition,
)
from convoflow.workflows.definition.problems import TRIGGER_KEY, Problems
from convoflow.workflows.definition.triggers import (
    AssigneeUpdatedTrigger,
    ContactFieldUpdatedTrigger,
    ContactTagUpdatedTrigger,
    ConversationClosedTrigger,
    ConversationOpenedTrigger,
    IncomingWebhookTrigger,
    LifecycleUpdatedTrigger,
    ManualTrigger,
    ShortcutTrigger,
    Trigger,
)


def check_trigger(
    problems: Problems, trigger: Trigger | None, catalog: Catalog, known: KnownVariables
) -> None:
    out = problems.at(TRIGGER_KEY, "Trigger")
    if trigger is None:
        out.add("type", "trigger_missing", "Choose and configure a trigger")  # WF-TRG-01
        return
    if isinstance(trigger, ManualTrigger) and trigger.trigger_once_per_contact:
        out.add("triggerOncePerContact", "not_allowed", "A Manual trigger has no 'once per contact' option")
    match trigger:
        case ConversationOpenedTrigger():
            config = trigger.config
            if not config.sources:
                out.add("config.sources", "required", "Choose at least one source")
            _unique(out, "config.sources", config.sources)
            for source, group in config.conditions.items():
                if source not in config.sources:
                    out.add(
                        f"config.conditions.{source}", "not_allowed", f"{source} is not a selected source"
                    )
                check_group(
                    out,
                    f"config.conditions.{source}",
                    group,
                    catalog,
                    known,
                    categories=TRIGGER_CATEGORIES,
                    required=False,
                )
        case ConversationClosedTrigger():
            if not trigger.config.sources:
                out.add("config.sources", "required", "Choose at least one source")
            _unique(out, "config.sources", trigger.config.sources)
            if trigger.config.conditions is not None:
                check_group(
                    out,
                    "config.conditions",
                    trigger.config.conditions,
                    catalog,
                    known,
                    categories=CLOSE_TRIGGER_CATEGORIES,
                    required=False,
                )
        case ContactTagUpdatedTrigger():
            if not trigger.config.tags:
                out.add("config.tags", "required", "Choose at least one tag")
            check_refs(out, "config.tags", trigger.config.tags, catalog, kind="tag")
            seen: set[int] = set()
            for ref in trigger.config.tags:
                if ref.id is not None and ref.id in seen:
                    name = catalog.tags.get(ref.id, ref.label or ref.key or str(ref.id))
                    out.add("config.tags", "duplicate", f"The tag {name!r} is listed twice")
                if ref.id is not None:
                    seen.add(ref.id)
            if trigger.config.conditions is not None:
                check_group(
                    out,
                    "config.conditions",
                    trigger.config.conditions,
                    catalog,
                    known,
                    categories=TRIGGER_CATEGORIES,
                    required=False,
                )
        case ContactFieldUpdatedTrigger():
            _check_field_trigger(out, trigger, catalog, known)
        case LifecycleUpdatedTrigger():
            for side, choice in (
                ("from_stage", trigger.config.from_stage),
                ("to_stage", trigger.config.to_stage),
            ):
                if choice.mode == "stages":
                    if not choice.stages:
                        out.add(f"config.{side}.stages", "required", "Choose at least one stage")
                    check_refs(out, f"config.{side}.stages", choice.stages, catalog, kind="stage")
        case AssigneeUpdatedTrigger():
            check_refs(out, "config.users", trigger.config.users, catalog, kind="user")
            check_refs(out, "config.teams", trigger.config.teams, catalog, kind="team")
            if not trigger.config.sources:
                out.add("config.sources", "required", "Choose at least one source")
            _unique(out, "config.sources", trigger.config.sources)
            if trigger.config.conditions is not None:
                check_group(
                    out,
                    "config.conditions",
                    trigger.config.conditions,
                    catalog,
                    known,
                    categories=TRIGGER_CATEGORIES,
                    required=False,
                )
        case ShortcutTrigger():
            _check_shortcut(out, trigger, catalog)
        case IncomingWebhookTrigger():
            _check_webhook(out, trigger)
        case ManualTrigger():
            _unique(out, "config.inputs", trigger.config.inputs)


def _unique(out: Problems, path: str, values: Sequence[str]) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            out.add(path, "duplicate", f"{value!r} is listed twice")
        seen.add(value)


def _check_field_trigger(
    out: Problems, trigger: ContactFieldUpdatedTrigger, catalog: Catalog, known: KnownVariables
) -> None:
    config = trigger.config
    if not config.fields:
        out.add("config.fields", "required", "Choose at least one contact field")
    known_fields: list[str] = []
    for index, name in enumerate(config.fields):
        if contact_field_type(catalog, name) is None:
            out.add(
                f"config.fields[{index}]", "reference_missing", f"The contact field {name!r} does not exist"
            )
        else:
            known_fields.append(name)
    _unique(out, "config.fields", [name.strip().lower() for name in config.fields])
    if config.new_value is not None:
        # The new value is tested as a Branch tests the field (WF-STEP-BRANCH-04), once per field.
        found = Problems()
        for name in known_fields:
            condition = Condition(
                category="contact_field",
                field=name,
                operator=config.new_value.operator,
                value=config.new_value.value,
            )
            check_condition(
                found, "config.new_value", condition, catalog, known, categories={"contact_field"}
            )
        for problem in dict.fromkeys((p.field, p.code, p.message) for p in found.items):
            out.add(*problem)


def _check_shortcut(out: Problems, trigger: ShortcutTrigger, catalog: Catalog) -> None:
    config = trigger.config
    if not config.label.strip():
        out.add("config.label", "required", "Give the shortcut a label")
    if config.visibility == "teams":
        if not config.teams:
            out.add("config.teams", "required", "Choose at least one team")
        check_refs(out, "config.teams", config.teams, catalog, kind="team")
    if config.visibility == "users":
        if not config.users:
            out.add("config.users", "required", "Choose at least one user")
        check_refs(out, "config.users", config.users, catalog, kind="user")
    _unique(out, "config.form", [field.name for field in config.form])
    for index, field in enumerate(config.form):
        if not field.label.strip():
            out.add(f"config.form[{index}].label", "required", "Give the form field a label")
        if field.type == "list" and not field.options:
            out.add(f"config.form[{index}].options", "required", "A list field needs options")


def _check_webhook(out: Problems, trigger: IncomingWebhookTrigger) -> None:
    config = trigger.config
    if not config.contact_path:
        out.add("config.contact_path", "required", "Give the JSON path that identifies the contact")
    elif not jsonpath.is_valid(config.contact_path):
        out.add("config.contact_path", "invalid_path", "Use a JSON path such as $.customer.phone")
    for name in ("first_name_path", "last_name_path"):
        value = getattr(config, name)
        if value and not jsonpath.is_valid(value):
            out.add(f"config.{name}", "invalid_path", "Use a JSON path such as $.customer.name")
    _unique(out, "config.mappings", [mapping.name for mapping in config.mappings])
    for index, mapping in enumerate(config.mappings):
        if not jsonpath.is_valid(mapping.path):
            out.add(f"config.mappings[{index}].path", "invalid_path", "Use a JSON path such as $.order.id")
