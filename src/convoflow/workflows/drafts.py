"""Checking a draft before it is stored: the definition layer's checks plus what needs the workspace."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from convoflow.contacts.tags import NAME_MAX as TAG_NAME_MAX
from convoflow.contacts.tags import ensure_tags
from convoflow.errors import WorkflowInvalid
from convoflow.validators import clean_name
from convoflow.workflows.catalog_source import build_catalog
from convoflow.workflows.definition.catalog import Catalog
from convoflow.workflows.definition.graph import WorkflowDefinition
from convoflow.workflows.definition.problems import Problem
from convoflow.workflows.definition.refs import Ref
from convoflow.workflows.definition.steps import UpdateTagStep
from convoflow.workflows.definition.text_safety import nul_problems
from convoflow.workflows.definition.validate import check
from convoflow.workflows.models import Workflow


def problems_of(session: Session, workflow: Workflow) -> list[Problem]:
    """The draft's configuration errors, as the builder shows them (WF-BLD-06)."""
    catalog = build_catalog(session, workspace_id=workflow.workspace_id, workflow_id=workflow.id)
    return all_problems(workflow.draft, catalog)[1]


def _tags_to_create(definition: WorkflowDefinition) -> list[tuple[UpdateTagStep, int, Ref]]:
    """(step, index, ref) of every tag an Add step names by key only (WF-STEP-TAG-01)."""
    return [
        (step, index, ref)
        for step in definition.steps
        if isinstance(step, UpdateTagStep) and step.config.action == "add"
        for index, ref in enumerate(step.config.tags)
        if ref.ref == "tag" and ref.id is None and ref.key
    ]


def _new_tag_problems(definition: WorkflowDefinition) -> list[Problem]:
    """A name the tag could not have (empty, too long, control characters) is a configuration error."""
    problems = []
    for step, index, ref in _tags_to_create(definition):
        try:
            clean_name(ref.key or "", field="tag name", max_length=TAG_NAME_MAX)
        except ValueError as exc:
            problems.append(Problem(step.key, f"config.tags[{index}]", "invalid_value", str(exc), step.name))
    return problems


def _create_named_tags(session: Session, workspace_id: int, definition: WorkflowDefinition) -> None:
    """WF-STEP-TAG-01 (our decision): tags an Add step names by key only are created on save."""
    for _step, _index, ref in _tags_to_create(definition):
        tag = ensure_tags(session, workspace_id=workspace_id, names=[ref.key or ""])[0]
        ref.id, ref.key, ref.label = tag.id, tag.name, tag.name


def all_problems(raw: Any, catalog: Catalog) -> tuple[WorkflowDefinition | None, list[Problem]]:
    """check() plus what the service adds: NUL characters and names no new tag could have."""
    definition, problems = check(raw, catalog)
    problems = problems + nul_problems(raw)
    if definition is not None:
        problems += _new_tag_problems(definition)
    return definition, problems


def checked(session: Session, workflow: Workflow, raw: Any) -> WorkflowDefinition:
    """The definition if it has no configuration error; WorkflowInvalid listing them otherwise.

    Tags an Add step names by key only are created once the definition is known to be clean, so a
    refused save creates nothing."""
    catalog = build_catalog(session, workspace_id=workflow.workspace_id, workflow_id=workflow.id)
    definition, problems = all_problems(raw, catalog)
    if definition is None or problems:
        count = len(problems)
        raise WorkflowInvalid(
            f"The workflow has {count} configuration error{'s' if count != 1 else ''}",
            details=[p.as_json() for p in problems],
        )
    _create_named_tags(session, workflow.workspace_id, definition)
    return definition
