"""Request and response bodies of /api/workflows and /api/workflow-templates."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from convoflow.schema_types import Description255, Name100
from convoflow.workflows.definition import limits
from convoflow.workflows.definition.graph import WorkflowDefinition, WorkflowSettings


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _printable(value: str) -> str:
    """Line breaks and tabs are fine in a description; other control characters (NUL above all,
    which PostgreSQL cannot store) are not."""
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\r\t" for ch in value):
        raise ValueError("description must not contain control characters")
    return value


WorkflowDescription = Annotated[Description255, AfterValidator(_printable)]


class WorkflowCreate(_Body):
    name: Name100
    description: WorkflowDescription = ""


class WorkflowUpdate(_Body):
    name: Name100 | None = None
    description: WorkflowDescription | None = None
    settings: WorkflowSettings | None = None


class DefinitionSave(_Body):
    revision: int = Field(ge=1, description="The revision the editor loaded; a newer one is refused")
    definition: dict[str, Any] = Field(
        description="The workflow definition document (see /api/workflows/schema)"
    )


class PublishRequest(_Body):
    revision: int | None = Field(None, ge=1, description="Required with `definition`: the revision loaded")
    definition: dict[str, Any] | None = Field(None, description="Pending edits to save before publishing")

    @model_validator(mode="after")
    def _revision_with_definition(self) -> PublishRequest:
        if self.definition is not None and self.revision is None:
            raise ValueError("revision is required when pending edits are sent")
        return self


class ValidateRequest(_Body):
    definition: dict[str, Any] | None = Field(None, description="Validate this instead of the saved draft")


class TemplateUse(_Body):
    name: Name100 | None = None
    create_missing: bool = Field(False, description="Create the custom fields and tags the template expects")


class PersonRef(BaseModel):
    id: int
    name: str


class ProblemRead(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    step_key: str | None = Field(alias="stepKey")
    step_name: str | None = Field(alias="stepName")
    field: str
    code: str
    message: str


class WorkflowSummary(BaseModel):
    """A row of the list page (WF-LIST-01)."""

    id: int
    name: str
    description: str
    state: Literal["draft", "published", "stopped"]
    trigger_type: str | None
    last_published_by: PersonRef | None
    last_published_at: datetime | None
    created_by: PersonRef | None
    created_at: datetime
    updated_at: datetime


class WorkflowList(BaseModel):
    items: list[WorkflowSummary]
    count: int = Field(description="Workflows in the workspace, all states")
    limit: int = Field(description="At most this many per workspace")


class WorkflowDetail(WorkflowSummary):
    revision: int
    settings: WorkflowSettings
    definition: dict[str, Any]
    problems: list[ProblemRead]
    published_version: int | None
    has_unpublished_changes: bool
    webhook_path: str | None = Field(description="/hooks/wf/<token> for an Incoming Webhook trigger")
    import_report: list[dict[str, Any]] | None


class VersionRead(BaseModel):
    number: int
    published_by: PersonRef | None
    published_at: datetime
    content_hash: str
    current: bool


class VersionDetail(VersionRead):
    definition: dict[str, Any]


class ImportResult(BaseModel):
    workflow: WorkflowDetail
    stripped: list[dict[str, Any]]


class TemplateSummary(BaseModel):
    key: str
    category: str
    name: str
    purpose: str
    step_count: int
    expects: dict[str, Any]


class TemplatePreview(TemplateSummary):
    definition: dict[str, Any]


class HistoryEntry(BaseModel):
    action: str
    actor_kind: str
    actor: PersonRef | None
    data: dict[str, Any]
    at: datetime


class WorkflowDocument(WorkflowDefinition):
    """GET /api/workflows/schema: a definition as the builder saves it, or the `workflow` part of an
    export file (WF-IO-01), which adds the name, description and settings."""

    name: str | None = Field(None, min_length=1, max_length=limits.NAME_MAX)
    description: str | None = Field(None, max_length=limits.DESCRIPTION_MAX)
    settings: WorkflowSettings | None = None
