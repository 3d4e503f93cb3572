"""Runs of a workflow and their execution log (WF-RUN-18), manual enrolment (WF-TRG-MAN-01), and the
contact's Workflows panel with Stop for one contact (WF-LIFE-10)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from convoflow.api.deps import PrincipalDep, SessionDep
from convoflow.api.ids import MAX_ID, Id
from convoflow.api.pagination import Page, PageDep, id_page
from convoflow.workflows import run_control, run_queries
from convoflow.workflows.definition.triggers import VariableName
from convoflow.workflows.run_control import ContactWorkflow, EnrolResult
from convoflow.workflows.run_queries import RunDetail, RunFilter, RunSummary, StepCounts

router = APIRouter(tags=["workflow-runs"])


class EnrolRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contact_id: Id
    inputs: dict[VariableName, Annotated[str, Field(max_length=2000)]] = Field(
        default_factory=dict, max_length=10
    )


class StoppedRun(BaseModel):
    run_id: int
    status: str
    end_reason: str | None


@router.get("/workflows/{workflow_id}/runs", response_model=Page[RunSummary])
def list_runs(
    workflow_id: Id,
    principal: PrincipalDep,
    session: SessionDep,
    page: PageDep,
    status: RunFilter | None = None,
    end_reason: Annotated[str | None, Query(max_length=32)] = None,
    contact_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Page[RunSummary]:
    """Newest first; `status=active|ended`, an end reason (WF-RUN-09) or one contact."""
    items = run_queries.list_runs(
        session,
        principal,
        workflow_id=workflow_id,
        status=status,
        end_reason=end_reason,
        contact_id=contact_id,
        before_id=page.before_id(),
        limit=page.limit,
    )
    return id_page(items, [run.id for run in items], page.limit)


@router.get("/workflows/{workflow_id}/runs/{run_id}", response_model=RunDetail)
def get_run(workflow_id: Id, run_id: Id, principal: PrincipalDep, session: SessionDep) -> RunDetail:
    """The run's version, trigger, steps with timings, outcomes, chosen branches, errors and effects;
    secret HTTP headers and credential-looking values are redacted."""
    return run_queries.get_run(session, principal, workflow_id=workflow_id, run_id=run_id)


@router.get("/workflows/{workflow_id}/step-counts", response_model=StepCounts)
def step_counts(workflow_id: Id, principal: PrincipalDep, session: SessionDep) -> StepCounts:
    return run_queries.step_counts(session, principal, workflow_id=workflow_id)


@router.post("/workflows/{workflow_id}/enrol", response_model=EnrolResult)
def enrol_contact(
    workflow_id: Id, body: EnrolRequest, principal: PrincipalDep, session: SessionDep
) -> EnrolResult:
    """WF-TRG-MAN-01: 409 unless the workflow is published with a Manual trigger; a refusal by the
    enrolment rules is a 200 with `status: refused` and the reason."""
    decision = run_control.enrol_by_hand(
        session, principal, workflow_id=workflow_id, contact_id=body.contact_id, inputs=body.inputs
    )
    session.commit()
    return run_control.enrol_result(decision)


@router.get("/contacts/{contact_id}/workflows", response_model=list[ContactWorkflow])
def contact_workflows(contact_id: Id, principal: PrincipalDep, session: SessionDep) -> list[ContactWorkflow]:
    """WF-LIFE-10, any role that can see the contact: published workflows, ongoing runs first."""
    return run_control.contact_workflows(session, principal, contact_id=contact_id)


@router.post("/contacts/{contact_id}/workflows/{run_id}/stop", response_model=StoppedRun)
def stop_for_contact(contact_id: Id, run_id: Id, principal: PrincipalDep, session: SessionDep) -> StoppedRun:
    """WF-LIFE-10: 409 when the workflow does not allow it or the run already ended."""
    run = run_control.stop_for_contact(session, principal, contact_id=contact_id, run_id=run_id)
    session.commit()
    return StoppedRun(run_id=run.id, status=run.status, end_reason=run.end_reason)
