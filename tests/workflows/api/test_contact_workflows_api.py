"""GET /api/contacts/{id}/workflows and POST .../workflows/{run_id}/stop: the contact's Workflows panel
and Stop for one contact (WF-LIFE-10)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from convoflow.accounts.principal import Restrictions
from convoflow.audit.models import AuditEntry
from convoflow.testing.clock import FakeClock
from convoflow.testing.factories import make_member
from tests.support import assert_error, login, seed_world
from tests.workflows.api.support import ApiHarness, manual, plan_flow, signed_in, waiting_flow
from tests.workflows.lifecycle_support import make_draft, simple


def test_the_panel_lists_published_workflows_ongoing_first_WF_LIFE_10(
    client: TestClient, h: ApiHarness, clock: FakeClock
) -> None:
    stoppable = h.publish(waiting_flow(), name="Zeta follow-up")
    h.allow_stop(stoppable)
    fixed = h.publish(plan_flow(), name="Beta plan")
    idle = h.publish(waiting_flow(), name="Alpha idle")
    make_draft(h.session, h.owner, "Draft one", simple())
    h.session.commit()
    ana = h.contact("Ana")
    first = h.enrol(stoppable, ana)
    clock.advance(minutes=5)
    second = h.enrol(fixed, ana, plan="pro")

    body = signed_in(client, h, "agent").get(f"/api/contacts/{ana.id}/workflows").json()  # any role
    assert [(line["workflow_name"], line["ongoing"], line["run_id"], line["can_stop"]) for line in body] == [
        ("Beta plan", True, second, False),
        ("Zeta follow-up", True, first, True),
        ("Alpha idle", False, None, False),
    ]
    assert body[0]["current_step"] == {"key": "s2", "name": "Step s2", "type": "wait"}
    assert body[1]["current_step"]["key"] == "w1" and body[1]["wait_kind"] == "timer"
    assert body[1]["since"] == "2026-01-05T09:00:00Z" and body[2]["since"] is None
    assert idle.id == body[2]["workflow_id"]


def test_stop_for_one_contact_ends_the_run_and_allows_a_new_enrolment_WF_LIFE_10(
    client: TestClient, h: ApiHarness, clock: FakeClock
) -> None:
    workflow = h.publish(waiting_flow())
    h.allow_stop(workflow)
    ana, bea = h.contact("Ana"), h.contact("Bea")
    run_id = h.enrol(workflow, ana)
    other = h.enrol(workflow, bea)
    agent = signed_in(client, h, "agent")  # any user who can see the contact

    response = agent.post(f"/api/contacts/{ana.id}/workflows/{run_id}/stop")
    assert response.status_code == 200, response.text
    assert response.json() == {"run_id": run_id, "status": "ended", "end_reason": "stopped_for_contact"}
    assert (h.run(run_id).status, h.run(run_id).end_reason) == ("ended", "stopped_for_contact")
    assert h.run(other).status == "waiting"  # only this contact's run
    clock.advance(hours=2)
    h.drain()
    assert h.comments(ana.id) == []  # the stale timer did nothing
    assert h.comments(bea.id) == ["Done waiting"]
    with h.container.db.session(readonly=True) as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "run_stopped_for_contact")).one()
    assert (entry.target_id, entry.actor_id, entry.data) == (
        workflow.id,
        h.world.agent.id,
        {"run_id": run_id, "contact_id": ana.id},
    )
    again = h.enrol(workflow, ana)  # a later trigger may enrol the contact again
    assert again != run_id and h.run(again).status == "waiting"
    assert_error(agent.post(f"/api/contacts/{ana.id}/workflows/{run_id}/stop"), 409, "run_ended")


def test_stop_is_refused_when_the_workflow_does_not_allow_it_WF_LIFE_10(
    client: TestClient, h: ApiHarness
) -> None:
    workflow = h.publish(waiting_flow())
    ana = h.contact("Ana")
    run_id = h.enrol(workflow, ana)
    owner = signed_in(client, h)
    assert_error(
        owner.post(f"/api/contacts/{ana.id}/workflows/{run_id}/stop"), 409, "stop_for_contact_not_allowed"
    )
    assert h.run(run_id).status == "waiting"
    assert owner.get(f"/api/contacts/{ana.id}/workflows").json()[0]["can_stop"] is False


def test_stop_checks_the_contact_the_run_and_visibility_WF_LIFE_10(client: TestClient, h: ApiHarness) -> None:
    workflow = h.publish(waiting_flow(manual()))
    h.allow_stop(workflow)
    ana, bea = h.contact("Ana"), h.contact("Bea")
    run_id = h.enrol(workflow, ana)
    mine_only = make_member(
        h.session,
        h.container.hasher,
        workspace=h.world.workspace,
        role="agent",
        first_name="Mina",
        restrictions=Restrictions(contact_visibility="mine"),
    )
    h.session.commit()
    owner = signed_in(client, h)
    assert_error(owner.post(f"/api/contacts/{bea.id}/workflows/{run_id}/stop"), 404, "run_not_found")
    assert_error(owner.post(f"/api/contacts/{ana.id}/workflows/987654/stop"), 404, "run_not_found")
    assert_error(owner.post(f"/api/contacts/987654/workflows/{run_id}/stop"), 404, "not_found")
    assert_error(owner.post(f"/api/contacts/{ana.id}/workflows/0/stop"), 422, "validation_error")
    client.post("/api/auth/logout")
    login(client, mine_only)
    assert_error(client.get(f"/api/contacts/{ana.id}/workflows"), 404, "not_found")
    assert_error(client.post(f"/api/contacts/{ana.id}/workflows/{run_id}/stop"), 404, "not_found")
    client.post("/api/auth/logout")
    other = seed_world(h.session, h.container.hasher, name="Globex")
    login(client, other.owner)
    assert_error(client.get(f"/api/contacts/{ana.id}/workflows"), 404, "not_found")
    assert_error(client.post(f"/api/contacts/{ana.id}/workflows/{run_id}/stop"), 404, "not_found")
    assert h.run(run_id).status == "waiting"
