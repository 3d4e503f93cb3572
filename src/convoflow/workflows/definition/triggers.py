"""Trigger types and their configuration (workflows.md §7)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from convoflow.workflows.definition import limits
from convoflow.workflows.definition.conditions import ConditionGroup, ConditionValue, Operator
from convoflow.workflows.definition.refs import Ref

VariableName = Annotated[str, Field(pattern=r"^[a-z0-9_]{1,50}$")]
OpenSource = Literal["contact", "user", "workflow", "api"]
CloseSource = Literal["user", "workflow", "api", "system"]


def _contact_only() -> list[OpenSource]:
    return ["contact"]


def _all_close_sources() -> list[CloseSource]:
    return ["user", "workflow", "api", "system"]


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConversationOpenedConfig(_Config):
    """WF-TRG-OPEN-01: sources (≥ 1, default Contact), each with an optional condition group."""

    sources: list[OpenSource] = Field(default_factory=_contact_only, max_length=4)
    conditions: dict[OpenSource, ConditionGroup] = Field(default_factory=dict)


class ConversationClosedConfig(_Config):
    """WF-TRG-CLOSE-01: sources (default all) and an optional condition group."""

    sources: list[CloseSource] = Field(default_factory=_all_close_sources, max_length=4)
    conditions: ConditionGroup | None = None


class ContactTagUpdatedConfig(_Config):
    """WF-TRG-TAG-01."""

    action: Literal["added", "removed"] = "added"
    tags: list[Ref] = Field(default_factory=list, max_length=limits.TAGS_PER_STEP_MAX)
    conditions: ConditionGroup | None = None


class ValueTest(_Config):
    """A test of the new value: the operators and values of WF-STEP-BRANCH-04 for the field's type."""

    operator: Operator
    value: ConditionValue = None


class ContactFieldUpdatedConfig(_Config):
    """WF-TRG-FIELD-01: standard field names or custom slugs; an optional test of the new value."""

    fields: list[Annotated[str, Field(max_length=50)]] = Field(default_factory=list, max_length=10)
    new_value: ValueTest | None = None


class StageChoice(_Config):
    mode: Literal["any", "none", "stages"] = "any"
    stages: list[Ref] = Field(default_factory=list, max_length=20)


class LifecycleUpdatedConfig(_Config):
    """WF-TRG-LIFE-01: From (any / none / stages), To (any / cleared = none / stages)."""

    from_stage: StageChoice = Field(default_factory=StageChoice)
    to_stage: StageChoice = Field(default_factory=StageChoice)


class AssigneeUpdatedConfig(_Config):
    """WF-TRG-ASSIGN-01."""

    change: Literal["assigned", "unassigned", "any"] = "assigned"
    users: list[Ref] = Field(default_factory=list, max_length=50)
    teams: list[Ref] = Field(default_factory=list, max_length=50)
    sources: list[CloseSource] = Field(default_factory=_all_close_sources, max_length=4)
    conditions: ConditionGroup | None = None


class FormField(_Config):
    label: str = Field(max_length=50)
    name: VariableName
    type: Literal["text", "number", "date", "list", "checkbox"] = "text"
    required: bool = False
    options: list[Annotated[str, Field(max_length=100)]] = Field(default_factory=list, max_length=100)


class ShortcutConfig(_Config):
    """WF-TRG-SHORT-01."""

    label: str = Field("", max_length=limits.SHORTCUT_LABEL_MAX)
    description: str = Field("", max_length=limits.DESCRIPTION_MAX)
    visibility: Literal["all", "teams", "users"] = "all"
    teams: list[Ref] = Field(default_factory=list, max_length=100)
    users: list[Ref] = Field(default_factory=list, max_length=100)
    form: list[FormField] = Field(default_factory=list, max_length=limits.FORM_FIELDS_MAX)


class Mapping(_Config):
    path: str = Field(max_length=500)
    name: VariableName


class IncomingWebhookConfig(_Config):
    """WF-TRG-HOOK-01..03. The URL token lives on the workflow, never in the definition (WF-IO-03)."""

    identify_by: Literal["phone", "email", "id"] = "phone"
    contact_path: str = Field("", max_length=500)
    create_if_missing: bool = False
    first_name_path: str | None = Field(None, max_length=500)
    last_name_path: str | None = Field(None, max_length=500)
    mappings: list[Mapping] = Field(default_factory=list, max_length=limits.WEBHOOK_MAPPINGS_MAX)
    require_signature: bool = False


class ManualConfig(_Config):
    """WF-TRG-MAN-01: declared input names, read as $trigger.<name>."""

    inputs: list[VariableName] = Field(default_factory=list, max_length=limits.MANUAL_INPUTS_MAX)


class _Trigger(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    trigger_once_per_contact: bool = Field(False, alias="triggerOncePerContact")


class ConversationOpenedTrigger(_Trigger):
    type: Literal["conversation_opened"]
    config: ConversationOpenedConfig = Field(default_factory=ConversationOpenedConfig)


class ConversationClosedTrigger(_Trigger):
    type: Literal["conversation_closed"]
    config: ConversationClosedConfig = Field(default_factory=ConversationClosedConfig)


class ContactTagUpdatedTrigger(_Trigger):
    type: Literal["contact_tag_updated"]
    config: ContactTagUpdatedConfig = Field(default_factory=ContactTagUpdatedConfig)


class ContactFieldUpdatedTrigger(_Trigger):
    type: Literal["contact_field_updated"]
    config: ContactFieldUpdatedConfig = Field(default_factory=ContactFieldUpdatedConfig)


class LifecycleUpdatedTrigger(_Trigger):
    type: Literal["lifecycle_updated"]
    config: LifecycleUpdatedConfig = Field(default_factory=LifecycleUpdatedConfig)


class AssigneeUpdatedTrigger(_Trigger):
    type: Literal["assignee_updated"]
    config: AssigneeUpdatedConfig = Field(default_factory=AssigneeUpdatedConfig)


class ShortcutTrigger(_Trigger):
    type: Literal["shortcut"]
    config: ShortcutConfig = Field(default_factory=ShortcutConfig)


class IncomingWebhookTrigger(_Trigger):
    type: Literal["incoming_webhook"]
    config: IncomingWebhookConfig = Field(default_factory=IncomingWebhookConfig)


class ManualTrigger(_Trigger):
    type: Literal["manual"]
    config: ManualConfig = Field(default_factory=ManualConfig)


Trigger = Annotated[
    ConversationOpenedTrigger
    | ConversationClosedTrigger
    | ContactTagUpdatedTrigger
    | ContactFieldUpdatedTrigger
    | LifecycleUpdatedTrigger
    | AssigneeUpdatedTrigger
    | ShortcutTrigger
    | IncomingWebhookTrigger
    | ManualTrigger,
    Field(discriminator="type"),
]
TRIGGER_TYPES = (
    "conversation_opened",
    "conversation_closed",
    "contact_tag_updated",
    "contact_field_updated",
    "lifecycle_updated",
    "assignee_updated",
    "shortcut",
    "incoming_webhook",
    "manual",
)
