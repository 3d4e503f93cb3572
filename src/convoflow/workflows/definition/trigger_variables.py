"""The `$trigger.*` variables each trigger type exposes (workflows.md §7)."""

from __future__ import annotations

from convoflow.workflows.definition.triggers import (
    IncomingWebhookTrigger,
    ManualTrigger,
    ShortcutTrigger,
    Trigger,
)

_USER = {"user.id", "user.name", "user.firstname", "user.lastname", "user.email"}
_PREVIOUS = {f"previous_assignee.{p}" for p in ("id", "name", "firstname", "lastname", "email", "team")}
_FIXED: dict[str, set[str]] = {
    "conversation_opened": {"source", "channel.id", "channel.name"} | _USER,
    "conversation_closed": {"source", "category", "summary"} | _USER,
    "contact_tag_updated": {"tag"},
    "contact_field_updated": {"field", "old_value", "new_value"},
    "lifecycle_updated": {"from_stage", "to_stage"},
    "assignee_updated": {"source"} | _PREVIOUS,
    "shortcut": {"user.id", "user.name", "user.email"},
    "incoming_webhook": set(),
    "manual": set(),
}


def trigger_variables(trigger: Trigger | None) -> set[str]:
    """Lower-case dotted paths usable as `$trigger.<path>`."""
    if trigger is None:
        return set()
    paths = set(_FIXED[trigger.type])
    match trigger:
        case ShortcutTrigger():
            paths |= {f"form.{field.name}" for field in trigger.config.form}
        case IncomingWebhookTrigger():
            paths |= {mapping.name for mapping in trigger.config.mappings}
        case ManualTrigger():
            paths |= set(trigger.config.inputs)
    return paths
