"""Does a domain event fire a trigger? Pure functions of the event and the trigger (workflows.md §7).

A match carries the trigger variables ($trigger.*) and the condition group still to check against the
fresh contact; conditions are evaluated by the dispatcher (WF-RUN-01 order).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from convoflow.workflows.definition.conditions import Condition, ConditionGroup
from convoflow.workflows.definition.refs import Ref
from convoflow.workflows.definition.triggers import (
    AssigneeUpdatedTrigger,
    ContactFieldUpdatedTrigger,
    ContactTagUpdatedTrigger,
    ConversationClosedTrigger,
    ConversationOpenedTrigger,
    LifecycleUpdatedTrigger,
    StageChoice,
    Trigger,
)


@dataclass(frozen=True)
class EventView:
    """The parts of a domain event the matchers read."""

    id: int
    type: str
    source: str
    actor_id: int | None
    payload: dict[str, Any]
    user: dict[str, Any] | None = None  # the acting user's id, names and email when source is user
    channel_name: str | None = None


@dataclass(frozen=True)
class TriggerMatch:
    variables: dict[str, Any]
    conditions: ConditionGroup | None = None
    extras: dict[str, Any] = field(default_factory=dict)


# Which trigger types each event type can fire.
EVENT_TRIGGERS: dict[str, str] = {
    "conversation.opened": "conversation_opened",
    "conversation.closed": "conversation_closed",
    "contact.tag.updated": "contact_tag_updated",
    "contact.updated": "contact_field_updated",
    "contact.lifecycle.updated": "lifecycle_updated",
    "contact.assignee.updated": "assignee_updated",
}


def _ids(refs: list[Ref]) -> set[int]:
    return {ref.id for ref in refs if ref.id is not None}


def _user_vars(user: dict[str, Any] | None) -> dict[str, Any]:
    return {"user": user} if user else {}


def match(trigger: Trigger, event: EventView) -> TriggerMatch | None:
    match trigger:
        case ConversationOpenedTrigger():
            source = event.payload.get("source", event.source)
            if source not in trigger.config.sources:
                return None
            channel = {"id": event.payload.get("channel_id"), "name": event.channel_name}
            return TriggerMatch(
                {"source": source, "channel": channel, **_user_vars(event.user)},
                trigger.config.conditions.get(source),
            )
        case ConversationClosedTrigger():
            source = event.payload.get("source", event.source)
            if source not in trigger.config.sources:
                return None
            category = event.payload.get("category") or {}
            return TriggerMatch(
                {
                    "source": source,
                    "category": category.get("name"),
                    "summary": event.payload.get("summary"),
                    **_user_vars(event.user),
                },
                trigger.config.conditions,
                {
                    "closing_category_id": category.get("id"),
                    "closed_by_user_id": event.actor_id if event.source == "user" else None,
                },
            )
        case ContactTagUpdatedTrigger():
            key = "added_ids" if trigger.config.action == "added" else "removed_ids"
            names = "added" if trigger.config.action == "added" else "removed"
            changed = dict(zip(event.payload.get(key, []), event.payload.get(names, []), strict=False))
            hit = next((tag_id for tag_id in changed if tag_id in _ids(trigger.config.tags)), None)
            if hit is None:
                return None
            return TriggerMatch({"tag": changed[hit]}, trigger.config.conditions)
        case ContactFieldUpdatedTrigger():
            wanted = {name.strip().lower() for name in trigger.config.fields}
            for change in event.payload.get("changes", []):
                name = str(change.get("field", "")).lower()
                if name not in wanted:
                    continue
                test = trigger.config.new_value
                group = None
                if test is not None:
                    condition = Condition(
                        category="contact_field", field=name, operator=test.operator, value=test.value
                    )
                    group = ConditionGroup(logic="and", conditions=[condition])
                return TriggerMatch(
                    {"field": name, "old_value": change.get("old"), "new_value": change.get("new")}, group
                )
            return None
        case LifecycleUpdatedTrigger():
            before, after = event.payload.get("from"), event.payload.get("to")
            if not (
                _stage_fits(trigger.config.from_stage, before) and _stage_fits(trigger.config.to_stage, after)
            ):
                return None
            return TriggerMatch(
                {"from_stage": (before or {}).get("name"), "to_stage": (after or {}).get("name")}
            )
        case AssigneeUpdatedTrigger():
            config = trigger.config
            if event.source not in config.sources:
                return None
            assignee = event.payload.get("assignee")
            kind = "assigned" if assignee else "unassigned"
            if config.change not in ("any", kind):
                return None
            extras: dict[str, Any] = {}
            if assignee and (config.users or config.teams):
                # WF-TRG-ASSIGN-01: the new assignee must be one of the users or in one of the teams;
                # team membership is read from the fresh contact by the dispatcher.
                extras["assignee_filter"] = (_ids(config.users), _ids(config.teams))
            previous = event.payload.get("previous") or {}
            return TriggerMatch(
                {
                    "source": event.source,
                    "previous_assignee": {
                        "id": previous.get("id"),
                        "firstname": previous.get("first_name"),
                        "lastname": previous.get("last_name"),
                        "name": f"{previous.get('first_name', '')} {previous.get('last_name', '')}".strip(),
                        "email": previous.get("email"),
                    },
                },
                config.conditions,
                extras,
            )
    return None


def _stage_fits(choice: StageChoice, stage: dict[str, Any] | None) -> bool:
    if choice.mode == "any":
        return True
    if choice.mode == "none":
        return stage is None
    return stage is not None and stage.get("id") in _ids(choice.stages)
