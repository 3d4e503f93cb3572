"""Shortcut triggers in Messages (WF-TRG-SHORT-01/02); any role that can see the contact."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from convoflow.api.deps import PrincipalDep, SessionDep
from convoflow.api.ids import Id
from convoflow.workflows import run_control, shortcuts
from convoflow.workflows.run_control import EnrolResult
from convoflow.workflows.shortcuts import Shortcut

router = APIRouter(tags=["shortcuts"])


class ShortcutRun(BaseModel):
    model_config = ConfigDict(extra="forbid")

    form: dict[str, Any] = Field(default_factory=dict, max_length=50, description="Values by variable name")


@router.get("/contacts/{contact_id}/shortcuts", response_model=list[Shortcut])
def list_shortcuts(contact_id: Id, principal: PrincipalDep, session: SessionDep) -> list[Shortcut]:
    return shortcuts.list_shortcuts(session, principal, contact_id=contact_id)


@router.post("/contacts/{contact_id}/shortcuts/{workflow_id}", response_model=EnrolResult)
def run_shortcut(
    contact_id: Id,
    workflow_id: Id,
    principal: PrincipalDep,
    session: SessionDep,
    body: ShortcutRun | None = None,
) -> EnrolResult:
    """422 for a bad form; a refusal by the enrolment rules is a 200 with `status: refused`."""
    decision = shortcuts.run_shortcut(
        session,
        principal,
        contact_id=contact_id,
        workflow_id=workflow_id,
        values=(body or ShortcutRun()).form,
    )
    session.commit()
    return run_control.enrol_result(decision)
