"""Export and import of workflow files (WF-IO-01..07)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.orm import Session

from convoflow.accounts.principal import Principal
from convoflow.db.session import now
from convoflow.errors import MalformedRequest, PayloadTooLarge, WorkflowInvalid
from convoflow.validators import clean_name
from convoflow.workflows import service
from convoflow.workflows.catalog_source import build_catalog
from convoflow.workflows.definition import limits
from convoflow.workflows.definition.graph import WorkflowDefinition, WorkflowSettings
from convoflow.workflows.definition.portable import (
    Stripped,
    resolve_references,
    with_natural_keys,
    without_secrets,
)
from convoflow.workflows.definition.problems import Problem
from convoflow.workflows.definition.validate import parse, structure_problems
from convoflow.workflows.models import Workflow

FORMAT = "convoflow.workflow"
FORMAT_VERSION = 1
_UNSAFE_FILENAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


class _ExportedWorkflow(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str = Field(max_length=10_000)
    description: str = Field("", max_length=10_000)
    settings: WorkflowSettings = Field(default_factory=WorkflowSettings)


class ExportFile(BaseModel):
    """The file's envelope; `workflow` holds name, description, settings, trigger, root and steps."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    format: Literal["convoflow.workflow"]
    format_version: Literal[1] = Field(alias="formatVersion")
    exported_at: str | None = Field(None, alias="exportedAt")
    workflow: _ExportedWorkflow


@dataclass(frozen=True, slots=True)
class Imported:
    workflow: Workflow
    stripped: list[Stripped]


def export_document(
    session: Session, principal: Principal, *, workflow_id: int
) -> tuple[str, dict[str, Any]]:
    """(file name, document): the saved draft, refs with natural keys, secrets emptied (WF-IO-01..03)."""
    workflow = service.get_workflow(session, principal, workflow_id)
    catalog = build_catalog(session, workspace_id=workflow.workspace_id, workflow_id=workflow.id)
    definition = without_secrets(with_natural_keys(service.definition_of(workflow), catalog))
    body = definition.to_json()
    body.pop("schemaVersion", None)
    document = {
        "format": FORMAT,
        "formatVersion": FORMAT_VERSION,
        "exportedAt": _timestamp(now(session)),
        "workflow": {
            "name": workflow.name,
            "description": workflow.description,
            "settings": WorkflowSettings.model_validate(workflow.settings).model_dump(by_alias=True),
            **body,
        },
    }
    return f"{_UNSAFE_FILENAME.sub('_', workflow.name).strip() or 'workflow'}.json", document


def content_disposition(filename: str) -> str:
    """The download header for `filename` (WF-IO-01). HTTP header values are latin-1, so a name outside
    printable ASCII (accents, emoji) gets an ASCII fallback plus its UTF-8 form (RFC 6266, RFC 5987)."""
    fallback = "".join(ch if " " <= ch <= "~" and ch not in '"\\' else "_" for ch in filename)
    if fallback == filename:
        return f'attachment; filename="{filename}"'
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _timestamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _problem(field: str, code: str, message: str) -> Problem:
    return Problem(None, field, code, message)


def _envelope_problem(error: Any) -> Problem:
    loc = [str(part) for part in error.get("loc", ())]
    return _problem(".".join(loc) or "file", str(error.get("type", "invalid")), str(error.get("msg", "")))


def read_file(raw: bytes) -> tuple[ExportFile, WorkflowDefinition]:
    """Checks an uploaded file: size, JSON, envelope, definition shape, limits and tree structure
    (WF-IO-04).

    Every problem is listed at once in a WorkflowInvalid; nothing is stored by this function.
    """
    if len(raw) > limits.IMPORT_MAX_BYTES:
        raise PayloadTooLarge(
            f"A workflow file is at most {limits.IMPORT_MAX_BYTES // 1024} KB", error="import_too_large"
        )
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedRequest(f"The file is not valid JSON: {exc}", error="malformed_json") from None
    except RecursionError:
        raise MalformedRequest(
            "The file is not valid JSON: nested too deeply", error="malformed_json"
        ) from None
    problems: list[Problem] = []
    envelope: ExportFile | None = None
    try:
        envelope = ExportFile.model_validate(data)
    except ValidationError as exc:
        problems += [_envelope_problem(error) for error in exc.errors()]
    if envelope is not None:
        try:
            clean_name(envelope.workflow.name, field="name", max_length=limits.NAME_MAX)
        except ValueError as exc:
            problems.append(_problem("workflow.name", "invalid_value", str(exc)))
        if len(envelope.workflow.description) > limits.DESCRIPTION_MAX:
            problems.append(
                _problem(
                    "workflow.description",
                    "string_too_long",
                    f"At most {limits.DESCRIPTION_MAX} characters",
                )
            )
    workflow = data.get("workflow") if isinstance(data, dict) else None
    definition: WorkflowDefinition | None = None
    if isinstance(workflow, dict):
        # The definition is checked even when the envelope is wrong, so that every problem is listed.
        raw_definition = {k: v for k, v in workflow.items() if k not in _ExportedWorkflow.model_fields}
        definition, shape_problems = parse(raw_definition)
        problems += shape_problems
        if definition is not None:
            problems += structure_problems(definition)
    if problems or envelope is None or definition is None:
        count = len(problems)
        raise WorkflowInvalid(
            f"The workflow file has {count} problem{'s' if count != 1 else ''}; nothing was imported",
            error="invalid_file",
            details=[p.as_json() for p in problems],
        )
    return envelope, definition


def import_file(session: Session, principal: Principal, *, raw: bytes) -> Imported:
    """WF-IO-04..07: a new Draft named as in the file (" (imported)" on a clash); references the
    workspace lacks are stripped and reported; the report stays on the workflow until its first save."""
    principal.require_manager()
    envelope, definition = read_file(raw)
    service.reserve_slot(session, principal.workspace_id)
    catalog = build_catalog(session, workspace_id=principal.workspace_id)
    resolved, stripped = resolve_references(definition, catalog)
    name = clean_name(envelope.workflow.name, field="name", max_length=limits.NAME_MAX)
    workflow = service.new_workflow(
        session,
        principal,
        name=service.free_name(session, principal.workspace_id, name, " (imported)"),
        description=envelope.workflow.description.strip(),
        definition=resolved,
        settings=envelope.workflow.settings,
        report=[s.as_json() for s in stripped],
        action="imported",
        audit_data={"stripped": len(stripped)},
    )
    return Imported(workflow, stripped)
