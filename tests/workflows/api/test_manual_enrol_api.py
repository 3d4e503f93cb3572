"""POST /api/workflows/{id}/enrol: the web app's Enrol contact action for Manual triggers (WF-TRG-MAN-01)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from convoflow.contacts.tags import contact_tag_names
from tests.support import assert_error, login, seed_world
from tests.workflows.api.support import ApiHarness, plan_flow, signed_in, waiting_flow
from tests.workflows.engine.support import OPENED, definition, step
from tests.workflows.lifecycle_support import make_draft


def test_manual_enrol_runs_with_inputs_as_trigger_variables_WF_TRG_MAN_01(
    client: TestClient, h: ApiHarness
) -> None:
    workflow = h.publish(plan_flow())
    ana = h.contact("Ana")
    owner = signed_in(client, h)
    response = owner.post(
        f"/api/workflows/{workflow.id}/enrol", json={"contact_id": ana.id, "inputs": {"plan": "pro"}}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "enrolled" and body["reason"] is None
    h.drain()
    run = h.run(body["run_id"])
    assert (run.contact_id, run.cursor, run.variables["trigger"]) == (ana.id, "s2", {"plan": "pro"})
    assert run.trigger_event_id is None


def test_manual_enrol_reports_a_refusal_with_its_reason_WF_TRG_MAN_01(
    client: TestClient, h: ApiHarness
) -> None:
    # WF-RUN-02: already enrolled is a refusal by the normal rules, not an error.
    workflow = h.publish(waiting_flow())
    ana = h.contact("Ana")
    owner = signed_in(client, h)
    first = owner.post(f"/api/workflows/{workflow.id}/enrol", json={"contact_id": ana.id}).json()
    assert first["status"] == "enrolled"
    again = owner.post(f"/api/workflows/{workflow.id}/enrol", json={"contact_id": ana.id})
    assert again.status_code == 200
    assert again.json() == {
        "status": "refused",
        "reason": "already_enrolled",
        "message": "The contact is already in this workflow",
        "run_id": None,
    }
    assert h.run_count() == 1


def test_manual_enrol_refuses_bad_requests_without_changing_data_WF_TRG_MAN_01(
    client: TestClient, h: ApiHarness
) -> None:
    manual_flow = h.publish(plan_flow(), name="Manual")
    opened = h.publish(definition(OPENED, step("s1", "add_comment", {"text": "x"})), name="Opened")
    draft = make_draft(h.session, h.owner, "Draft", plan_flow())
    h.session.commit()
    ana = h.contact("Ana")
    owner = signed_in(client, h)
    enrol = "/api/workflows/{}/enrol"
    assert_error(owner.post(enrol.format(opened.id), json={"contact_id": ana.id}), 409, "not_manual_trigger")
    assert_error(
        owner.post(enrol.format(draft.id), json={"contact_id": ana.id}), 409, "workflow_not_published"
    )
    assert_error(
        owner.post(enrol.format(manual_flow.id), json={"contact_id": ana.id, "inputs": {"other": "x"}}),
        422,
        "unknown_inputs",
    )
    assert_error(owner.post(enrol.format(manual_flow.id), json={"contact_id": 987654}), 404, "not_found")
    assert_error(owner.post(enrol.format(987654), json={"contact_id": ana.id}), 404, "not_found")
    assert_error(owner.post(enrol.format(manual_flow.id), json={}), 422, "validation_error")
    assert_error(
        owner.post(enrol.format(manual_flow.id), json={"contact_id": ana.id, "inputs": {"plan": 5}}),
        422,
        "validation_error",
    )
    assert_error(
        owner.post(enrol.format(manual_flow.id), content=b"{", headers={"Content-Type": "application/json"}),
        400,
        "malformed_json",
    )
    client.post("/api/auth/logout")
    login(client, h.world.agent)
    assert_error(client.post(enrol.format(manual_flow.id), json={"contact_id": ana.id}), 403, "role_required")
    client.post("/api/auth/logout")
    other = seed_world(h.session, h.container.hasher, name="Globex")
    login(client, other.owner)
    assert_error(client.post(enrol.format(manual_flow.id), json={"contact_id": ana.id}), 404, "not_found")
    assert h.run_count() == 0
    with h.container.db.session(readonly=True) as s:
        assert contact_tag_names(s, ana.id) == []
