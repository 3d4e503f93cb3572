"""Shortcut triggers in Messages (WF-TRG-SHORT-01/02): the menu a user sees, and running one."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from convoflow.accounts.models import User
from convoflow.accounts.principal import Principal
from convoflow.contacts import service as contacts
from convoflow.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from convoflow.workflows.definition.graph import WorkflowDefinition
from convoflow.workflows.definition.triggers import FormField, ShortcutConfig, ShortcutTrigger
from convoflow.workflows.enrolment import Decision, enrol
from convoflow.workflows.models import Workflow, WorkflowVersion
from convoflow.workflows.run_control import published_definition

TEXT_MAX = 2000  # as a message text (workflows.md §12)


class Shortcut(BaseModel):
    workflow_id: int
    label: str
    description: str
    form: list[FormField]


def _visible(config: ShortcutConfig, principal: Principal) -> bool:
    """Visibility (WF-TRG-SHORT-01); Agents restricted from shortcuts see none (CRM-ROLE-03)."""
    if principal.role == "agent" and principal.restrictions.restrict_shortcuts:
        return False
    match config.visibility:
        case "all":
            return True
        case "teams":
            return principal.team_id is not None and principal.team_id in {t.id for t in config.teams}
        case "users":
            return principal.user_id is not None and principal.user_id in {u.id for u in config.users}
    return False


def list_shortcuts(session: Session, principal: Principal, *, contact_id: int) -> list[Shortcut]:
    """WF-TRG-SHORT-02: only Published shortcuts the caller may see, by label."""
    contacts.get_contact(session, principal, contact_id)
    rows = session.execute(
        select(Workflow.id, WorkflowVersion.definition)
        .join(WorkflowVersion, WorkflowVersion.id == Workflow.published_version_id)
        .where(
            Workflow.workspace_id == principal.workspace_id,
            Workflow.state == "published",
            Workflow.trigger_type == "shortcut",
        )
    ).all()
    found = []
    for workflow_id, document in rows:
        trigger = WorkflowDefinition.model_validate(document).trigger
        if isinstance(trigger, ShortcutTrigger) and _visible(trigger.config, principal):
            config = trigger.config
            found.append(
                Shortcut(
                    workflow_id=workflow_id,
                    label=config.label,
                    description=config.description,
                    form=config.form,
                )
            )
    return sorted(found, key=lambda s: (s.label.casefold(), s.workflow_id))


def _number(raw: Any) -> int | float:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise ValueError("must be a number")
    try:
        value = float(raw) if isinstance(raw, str) else raw
    except ValueError:
        raise ValueError("must be a number") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("must be a finite number")
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _field_value(field: FormField, raw: Any) -> Any:
    match field.type:
        case "text":
            if not isinstance(raw, str):
                raise ValueError("must be text")
            if len(raw) > TEXT_MAX:
                raise ValueError(f"must be at most {TEXT_MAX} characters")
            return raw
        case "number":
            return _number(raw)
        case "date":
            if not isinstance(raw, str):
                raise ValueError("must be a date (YYYY-MM-DD)")
            try:
                return date.fromisoformat(raw.strip()).isoformat()
            except ValueError:
                raise ValueError("must be a date (YYYY-MM-DD)") from None
        case "list":
            choice = next(
                (o for o in field.options if isinstance(raw, str) and o.casefold() == raw.strip().casefold()),
                None,
            )
            if choice is None:
                raise ValueError(f"must be one of: {', '.join(field.options)}")
            return choice
        case "checkbox":
            if not isinstance(raw, bool):
                raise ValueError("must be true or false")
            return raw
    raise ValueError("unknown field type")


def validate_form(fields: list[FormField], values: dict[str, Any]) -> dict[str, Any]:
    """The form values by variable name, typed; every problem at once as a 422 (WF-TRG-SHORT-01)."""
    known = {field.name: field for field in fields}
    problems = [
        {"field": f"form.{name}", "message": "This form has no such field"}
        for name in values
        if name not in known
    ]
    clean: dict[str, Any] = {}
    for field in fields:
        raw = values.get(field.name)
        if raw is None or (isinstance(raw, str) and not raw.strip() and field.type != "text"):
            if field.required:
                problems.append({"field": f"form.{field.name}", "message": f"{field.label} is required"})
            continue
        if field.required and isinstance(raw, str) and not raw.strip():
            problems.append({"field": f"form.{field.name}", "message": f"{field.label} is required"})
            continue
        try:
            clean[field.name] = _field_value(field, raw)
        except ValueError as exc:
            problems.append({"field": f"form.{field.name}", "message": f"{field.label} {exc}"})
    if problems:
        raise InvalidInput(problems[0]["message"], error="invalid_form", details=problems)
    return clean


def run_shortcut(
    session: Session, principal: Principal, *, contact_id: int, workflow_id: int, values: dict[str, Any]
) -> Decision:
    """WF-TRG-SHORT-02: enrols the contact under the normal rules with $trigger.form.* and $trigger.user.*."""
    user_id = principal.require_user()
    contact = contacts.get_contact(session, principal, contact_id)
    workflow = session.scalar(
        select(Workflow).where(Workflow.id == workflow_id, Workflow.workspace_id == principal.workspace_id)
    )
    if workflow is None:
        raise NotFound("Shortcut not found", error="shortcut_not_found")
    definition = published_definition(session, workflow)
    trigger = definition.trigger
    if not isinstance(trigger, ShortcutTrigger):
        raise Conflict("This workflow is not started by a Shortcut", error="not_a_shortcut")
    if not _visible(trigger.config, principal):
        raise PermissionDenied("This shortcut is not available to you", error="shortcut_not_visible")
    form = validate_form(trigger.config.form, values)
    user = session.get(User, user_id)
    assert user is not None and workflow.published_version_id is not None
    return enrol(
        session,
        workspace_id=workflow.workspace_id,
        workflow_id=workflow.id,
        workflow_name=workflow.name,
        version_id=workflow.published_version_id,
        definition=definition,
        contact_id=contact.id,
        variables={
            "form": form,
            "user": {
                "id": user.id,
                "name": f"{user.first_name} {user.last_name}".strip(),
                "firstname": user.first_name,
                "lastname": user.last_name,
                "email": user.email,
            },
        },
        event_id=None,
    )
