"""Helpers for the engine API tests: a Harness (engine + workspace) with signed-in API clients."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from convoflow.bootstrap import Container
from convoflow.contacts.models import Contact
from convoflow.conversations.models import Comment
from convoflow.testing.factories import make_contact
from convoflow.workflows import run_control, service
from convoflow.workflows.definition.graph import WorkflowSettings
from convoflow.workflows.models import Run, Workflow
from tests.support import login
from tests.workflows.engine.support import Harness, definition, step


class ApiHarness(Harness):
    """The engine harness plus helpers to arrange contacts, enrolments and workflow settings."""

    def __init__(self, session: Session, container: Container) -> None:
        super().__init__(session, container)

    def contact(self, first_name: str = "Ana", **values: Any) -> Contact:
        contact = make_contact(
            self.session, workspace_id=self.world.workspace.id, first_name=first_name, **values
        )
        self.session.commit()
        return contact

    def allow_stop(self, workflow: Workflow, allowed: bool = True) -> None:
        service.update_details(
            self.session,
            self.owner,
            workflow_id=workflow.id,
            name=None,
            description=None,
            settings=WorkflowSettings(allow_stop_for_contact=allowed),
        )
        self.session.commit()

    def enrol(self, workflow: Workflow, contact: Contact, **inputs: str) -> int:
        """Enrols through the manual-trigger service and runs the engine; returns the run id."""
        decision = run_control.enrol_by_hand(
            self.session, self.owner, workflow_id=workflow.id, contact_id=contact.id, inputs=inputs
        )
        self.session.commit()
        assert decision.outcome == "enrolled" and decision.run_id is not None, decision
        self.drain()
        return decision.run_id

    def drain(self) -> None:
        """Runs the engine; arranged objects stay loaded (reading an expired one would open a write
        transaction on the test session, which on SQLite blocks the API)."""
        self.engine.drain()

    def run(self, run_id: int) -> Run:
        with self.container.db.session(readonly=True) as s:
            row = s.get(Run, run_id)
        assert row is not None
        return row

    def runs_of(self, workflow_id: int) -> list[Run]:
        with self.container.db.session(readonly=True) as s:
            return list(s.scalars(select(Run).where(Run.workflow_id == workflow_id).order_by(Run.id)))

    def run_count(self) -> int:
        with self.container.db.session(readonly=True) as s:
            count = s.scalar(
                select(func.count()).select_from(Run).where(Run.workspace_id == self.world.workspace.id)
            )
        return int(count or 0)

    def comments(self, contact_id: int) -> list[str]:
        with self.container.db.session(readonly=True) as s:
            return list(
                s.scalars(select(Comment.text).where(Comment.contact_id == contact_id).order_by(Comment.id))
            )


def signed_in(client: TestClient, h: ApiHarness, role: str = "owner") -> TestClient:
    login(client, getattr(h.world, role))
    return client


def manual(*inputs: str) -> dict[str, Any]:
    return {"type": "manual", "config": {"inputs": list(inputs)}}


def tag(name: str) -> dict[str, Any]:
    return {"ref": "tag", "key": name}


def plan_flow() -> dict[str, Any]:
    """Manual trigger with input `plan`: "pro" waits an hour then tags `pro`; else tags `vip`."""
    return definition(
        manual("plan"),
        step(
            "s1",
            "branch",
            {
                "branches": [
                    {
                        "name": "Pro",
                        "logic": "and",
                        "conditions": [
                            {
                                "category": "variable",
                                "field": "$trigger.plan",
                                "operator": "is_equal_to",
                                "value": "pro",
                            }
                        ],
                    }
                ]
            },
            **{"branch:1": "s2", "else": "s3"},
        ),
        step("s2", "wait", {"amount": 1, "unit": "hours"}, next="s4"),
        step("s3", "update_tag", {"action": "add", "tags": [tag("vip")]}),
        step("s4", "update_tag", {"action": "add", "tags": [tag("pro")]}),
    )


def waiting_flow(trigger: dict[str, Any] | None = None) -> dict[str, Any]:
    """Waits an hour at `w1`, then comments."""
    return definition(
        trigger or manual(),
        step("w1", "wait", {"amount": 1, "unit": "hours"}, next="c1"),
        step("c1", "add_comment", {"text": "Done waiting"}),
    )
