"""POST /hooks/wf/{token}: the Incoming Webhook trigger (WF-TRG-HOOK-01..04)."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from convoflow.contacts.models import Contact
from convoflow.contacts.service import set_blocked
from convoflow.events.actor import Actor
from convoflow.testing.clock import FakeClock
from convoflow.workflows import service
from convoflow.workflows.hooks import signature_of
from convoflow.workflows.models import Workflow
from tests.support import assert_error
from tests.workflows.api.support import ApiHarness, signed_in
from tests.workflows.engine.support import definition, step


def hook(*, once: bool = False, **config: Any) -> dict[str, Any]:
    return {
        "type": "incoming_webhook",
        "config": {
            "identify_by": "phone",
            "contact_path": "$.customer.phone",
            "mappings": [
                {"path": "$.order.id", "name": "order_id"},
                {"path": "$.order.items[0]", "name": "item"},
            ],
            **config,
        },
        "triggerOncePerContact": once,
    }


def hook_flow(*, wait: bool = False, **config: Any) -> dict[str, Any]:
    steps = [
        step(
            "s1",
            "add_comment",
            {"text": "Order $trigger.order_id ($trigger.item)"},
            next="s2" if wait else None,
        )
    ]
    if wait:
        steps.append(step("s2", "wait", {"amount": 1, "unit": "hours"}))
    return definition(hook(**config), *steps)


def token_of(h: ApiHarness, workflow: Workflow) -> str:
    with h.container.db.session(readonly=True) as s:
        token = s.scalar(select(Workflow.hook_token).where(Workflow.id == workflow.id))
    assert token is not None and len(token) == 32
    return token


def order(phone: str = "+34600111222", **extra: Any) -> dict[str, Any]:
    return {"customer": {"phone": phone, **extra}, "order": {"id": 5501, "items": ["sku-1", "sku-2"]}}


def test_a_request_enrols_the_identified_contact_with_mapped_variables_WF_TRG_HOOK_02_03_04(
    client: TestClient, h: ApiHarness
) -> None:
    workflow = h.publish(hook_flow())
    ana = h.contact("Ana", phone="+34600111222")
    response = client.post(f"/hooks/wf/{token_of(h, workflow)}", json=order())
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "enrolled", "reason": None}
    [run] = h.runs_of(workflow.id)
    assert run.contact_id == ana.id and run.variables["trigger"] == {"order_id": 5501, "item": "sku-1"}
    h.drain()  # the run proceeds in the worker like any other
    assert h.comments(ana.id) == ["Order 5501 (sku-1)"]
    assert h.run(run.id).end_reason == "completed"


def test_contacts_are_found_by_email_or_id_WF_TRG_HOOK_02(client: TestClient, h: ApiHarness) -> None:
    by_email = h.publish(hook_flow(identify_by="email", contact_path="$.who"), name="By email")
    by_id = h.publish(hook_flow(identify_by="id", contact_path="$.who"), name="By id")
    ana = h.contact("Ana", email="ana@mail.example")
    assert (
        client.post(f"/hooks/wf/{token_of(h, by_email)}", json={"who": " ANA@mail.example"}).json()["status"]
        == "enrolled"
    )
    assert (
        client.post(f"/hooks/wf/{token_of(h, by_id)}", json={"who": str(ana.id)}).json()["status"]
        == "enrolled"
    )
    assert [r.contact_id for r in h.runs_of(by_email.id) + h.runs_of(by_id.id)] == [ana.id, ana.id]


def test_create_if_not_found_makes_the_contact_with_its_names_WF_TRG_HOOK_02(
    client: TestClient, h: ApiHarness
) -> None:
    workflow = h.publish(
        hook_flow(
            create_if_missing=True, first_name_path="$.customer.first", last_name_path="$.customer.last"
        )
    )
    response = client.post(
        f"/hooks/wf/{token_of(h, workflow)}", json=order("+34 600 999 888", first="Eva", last="Ruiz")
    )
    assert response.json()["status"] == "enrolled"
    with h.container.db.session(readonly=True) as s:
        contact = s.scalars(select(Contact).where(Contact.phone == "+34600999888")).one()
    assert (contact.first_name, contact.last_name, contact.workspace_id) == (
        "Eva",
        "Ruiz",
        h.world.workspace.id,
    )
    assert h.runs_of(workflow.id)[0].contact_id == contact.id


def test_a_contact_that_cannot_be_identified_is_400_and_nothing_changes_WF_TRG_HOOK_04(
    client: TestClient, h: ApiHarness
) -> None:
    workflow = h.publish(hook_flow())
    by_id = h.publish(hook_flow(identify_by="id", contact_path="$.who"), name="By id")
    h.contact("Ana", phone="+34600111222")
    url = f"/hooks/wf/{token_of(h, workflow)}"
    assert_error(client.post(url, json={"order": {"id": 1}}), 400, "contact_not_identified")
    assert_error(client.post(url, json=order("+34600000001")), 400, "contact_not_identified")  # unknown
    assert_error(client.post(url, json=order("not a phone")), 400, "contact_not_identified")
    assert_error(client.post(url, json={"customer": {"phone": {"nested": 1}}}), 400, "contact_not_identified")
    assert_error(
        client.post(url, content=b"{not json", headers={"Content-Type": "application/json"}),
        400,
        "malformed_json",
    )
    assert_error(
        client.post(url, content=b"\xff\xfe", headers={"Content-Type": "application/json"}),
        400,
        "malformed_json",
    )
    id_url = f"/hooks/wf/{token_of(h, by_id)}"
    for who in ("987654", "-1", "99999999999999999999999", "abc"):
        assert_error(client.post(id_url, json={"who": who}), 400, "contact_not_identified")
    assert h.run_count() == 0
    with h.container.db.session(readonly=True) as s:
        assert len(s.scalars(select(Contact)).all()) == 1


def test_refusals_by_the_enrolment_rules_are_ignored_with_a_reason_WF_TRG_HOOK_04(
    client: TestClient, h: ApiHarness
) -> None:
    waiting = h.publish(hook_flow(wait=True), name="Waiting")
    once = h.publish(hook_flow(once=True), name="Once")
    ana = h.contact("Ana", phone="+34600111222")
    bea = h.contact("Bea", phone="+34600111333")
    wait_url, once_url = f"/hooks/wf/{token_of(h, waiting)}", f"/hooks/wf/{token_of(h, once)}"
    assert client.post(wait_url, json=order()).json()["status"] == "enrolled"
    h.drain()
    assert client.post(wait_url, json=order()).json() == {"status": "ignored", "reason": "already_enrolled"}
    assert client.post(once_url, json=order()).json()["status"] == "enrolled"
    h.drain()
    assert client.post(once_url, json=order()).json() == {"status": "ignored", "reason": "once_per_contact"}
    set_blocked(h.session, contact=bea, blocked=True, actor=Actor.system())
    h.session.commit()
    assert client.post(wait_url, json=order(bea.phone or "")).json() == {
        "status": "ignored",
        "reason": "blocked",
    }
    service.stop(h.session, h.owner, workflow_id=waiting.id)
    h.session.commit()
    assert client.post(wait_url, json=order()).json() == {"status": "ignored", "reason": "not_published"}
    assert [r.contact_id for r in h.runs_of(waiting.id)] == [ana.id]


def test_unknown_and_regenerated_tokens_are_404_WF_TRG_HOOK_01(client: TestClient, h: ApiHarness) -> None:
    workflow = h.publish(hook_flow())
    h.contact("Ana", phone="+34600111222")
    old = token_of(h, workflow)
    assert_error(client.post("/hooks/wf/" + "x" * 32, json=order()), 404, "unknown_webhook")
    assert_error(client.post("/hooks/wf/" + "x" * 200, json=order()), 404, "unknown_webhook")
    assert_error(client.post("/hooks/wf/bad%00token", json=order()), 404, "unknown_webhook")
    owner = signed_in(client, h)
    assert owner.post(f"/api/workflows/{workflow.id}/webhook/regenerate").status_code == 200
    assert_error(client.post(f"/hooks/wf/{old}", json=order()), 404, "unknown_webhook")
    assert client.post(f"/hooks/wf/{token_of(h, workflow)}", json=order()).json()["status"] == "enrolled"


def test_a_workflow_whose_trigger_is_no_longer_a_webhook_answers_404_WF_TRG_HOOK_01(
    client: TestClient, h: ApiHarness
) -> None:
    workflow = h.publish(hook_flow())
    token = token_of(h, workflow)
    service.stop(h.session, h.owner, workflow_id=workflow.id)
    h.session.commit()
    assert client.post(f"/hooks/wf/{token}", json=order()).json()["reason"] == "not_published"
    other = definition({"type": "manual", "config": {"inputs": []}}, step("s1", "add_comment", {"text": "x"}))
    service.save_draft(h.session, h.owner, workflow_id=workflow.id, definition=other, revision=2)
    service.publish(h.session, h.owner, workflow_id=workflow.id)
    h.session.commit()
    assert_error(client.post(f"/hooks/wf/{token}", json=order()), 404, "unknown_webhook")


def test_a_signed_webhook_needs_the_right_signature_WF_TRG_HOOK_01(client: TestClient, h: ApiHarness) -> None:
    workflow = h.publish(hook_flow(require_signature=True))
    h.contact("Ana", phone="+34600111222")
    info = signed_in(client, h).get(f"/api/workflows/{workflow.id}/webhook").json()
    token = token_of(h, workflow)
    assert info["path"] == f"/hooks/wf/{token}" and info["url"] == f"http://127.0.0.1:8000/hooks/wf/{token}"
    assert info["signature_header"] == "X-Convoflow-Signature" and len(info["signing_secret"]) == 64
    body = json.dumps(order()).encode()
    url = f"/hooks/wf/{token}"
    headers = {"Content-Type": "application/json"}
    assert_error(client.post(url, content=body, headers=headers), 401, "bad_signature")
    wrong = signature_of("not-the-secret", body)
    assert_error(
        client.post(url, content=body, headers={**headers, "X-Convoflow-Signature": wrong}),
        401,
        "bad_signature",
    )
    tampered = signature_of(info["signing_secret"], body + b" ")
    assert_error(client.post(url, content=body, headers={**headers, "X-Convoflow-Signature": tampered}), 401)
    assert h.run_count() == 0
    good = signature_of(info["signing_secret"], body)
    response = client.post(url, content=body, headers={**headers, "X-Convoflow-Signature": good})
    assert response.json()["status"] == "enrolled"
    # Regenerating the URL also replaces the signing secret.
    signed_in(client, h).post(f"/api/workflows/{workflow.id}/webhook/regenerate")
    assert (
        client.get(f"/api/workflows/{workflow.id}/webhook").json()["signing_secret"] != info["signing_secret"]
    )


def test_a_body_over_256_kb_is_413_WF_TRG_HOOK_01(client: TestClient, h: ApiHarness) -> None:
    workflow = h.publish(hook_flow())
    h.contact("Ana", phone="+34600111222")
    url = f"/hooks/wf/{token_of(h, workflow)}"
    big = json.dumps(order(padding="x" * (256 * 1024))).encode()
    assert_error(
        client.post(url, content=big, headers={"Content-Type": "application/json"}), 413, "payload_too_large"
    )
    fits = json.dumps(order(padding="x" * (250 * 1024))).encode()
    assert len(fits) <= 256 * 1024
    assert (
        client.post(url, content=fits, headers={"Content-Type": "application/json"}).json()["status"]
        == "enrolled"
    )


def test_more_than_20_requests_per_second_are_429_WF_TRG_HOOK_04(
    client: TestClient, h: ApiHarness, clock: FakeClock
) -> None:
    workflow = h.publish(hook_flow())
    other = h.publish(hook_flow(), name="Other")
    url = f"/hooks/wf/{token_of(h, workflow)}"
    for _ in range(20):
        assert client.post(url, json=order()).status_code == 400  # counted even when refused
    response = client.post(url, json=order())
    assert_error(response, 429, "rate_limited")
    assert response.headers["Retry-After"] == "1"
    assert client.post(f"/hooks/wf/{token_of(h, other)}", json=order()).status_code == 400  # per workflow
    clock.advance(seconds=1)
    assert client.post(url, json=order()).status_code == 400


def test_webhook_info_is_for_managers_and_empty_without_a_webhook_trigger(
    client: TestClient, h: ApiHarness
) -> None:
    # WF-GEN-01 for the /api part; the receiver itself is unauthenticated (API-OWN-04).
    plain = h.publish(definition({"type": "manual", "config": {}}, step("s1", "add_comment", {"text": "x"})))
    owner = signed_in(client, h)
    assert owner.get(f"/api/workflows/{plain.id}/webhook").json() == {
        "path": None,
        "url": None,
        "signing_secret": None,
        "signature_header": "X-Convoflow-Signature",
        "listening_until": None,
        "sample": None,
    }
    assert_error(owner.get("/api/workflows/987654/webhook"), 404)
    client.post("/api/auth/logout")
    agent = signed_in(client, h, "agent")
    assert_error(agent.get(f"/api/workflows/{plain.id}/webhook"), 403, "role_required")


def test_listening_for_a_test_event_captures_one_request_and_enrols_nobody_WF_TRG_HOOK_03(
    client: TestClient, h: ApiHarness
) -> None:
    workflow = h.publish(hook_flow())
    h.contact("Ana", phone="+34600111222")
    owner = signed_in(client, h)
    listening = owner.post(f"/api/workflows/{workflow.id}/webhook/listen")
    assert listening.status_code == 200, listening.text
    assert listening.json()["listening_until"] is not None and listening.json()["sample"] is None
    url = f"/hooks/wf/{token_of(h, workflow)}"
    assert client.post(url, json=order()).json() == {"status": "captured", "reason": None}
    assert h.runs_of(workflow.id) == []  # a test event enrols nobody
    info = owner.get(f"/api/workflows/{workflow.id}/webhook").json()
    assert info["listening_until"] is None and info["sample"]["body"] == order()
    assert info["sample"]["received_at"]
    # one request only: the next one is handled as usual
    assert client.post(url, json=order()).json() == {"status": "enrolled", "reason": None}
    assert len(h.runs_of(workflow.id)) == 1


def test_a_draft_can_listen_and_listening_ends_after_ten_minutes_WF_TRG_HOOK_03(
    client: TestClient, h: ApiHarness, clock: FakeClock
) -> None:
    draft = service.create_workflow(h.session, h.owner, name="Draft hook")
    service.save_draft(h.session, h.owner, workflow_id=draft.id, definition=hook_flow(), revision=1)
    h.session.commit()
    owner = signed_in(client, h)
    assert owner.post(f"/api/workflows/{draft.id}/webhook/listen").status_code == 200
    url = f"/hooks/wf/{token_of(h, draft)}"
    assert_error(client.post(url, content=b"{not json", headers={"Content-Type": "application/json"}), 400)
    assert owner.get(f"/api/workflows/{draft.id}/webhook").json()["listening_until"] is not None  # still on
    clock.advance(minutes=10, seconds=1)
    assert client.post(url, json=order()).json() == {"status": "ignored", "reason": "not_published"}
    assert owner.get(f"/api/workflows/{draft.id}/webhook").json()["sample"] is None


def test_only_webhook_workflows_listen_and_only_managers_may_ask_WF_TRG_HOOK_03(
    client: TestClient, h: ApiHarness
) -> None:
    plain = h.publish(definition({"type": "manual", "config": {}}, step("s1", "add_comment", {"text": "x"})))
    hooked = h.publish(hook_flow(), name="Hooked")
    owner = signed_in(client, h)
    assert_error(owner.post(f"/api/workflows/{plain.id}/webhook/listen"), 409, "not_a_webhook_workflow")
    assert_error(owner.post("/api/workflows/987654/webhook/listen"), 404)
    client.post("/api/auth/logout")
    agent = signed_in(client, h, "agent")
    assert_error(agent.post(f"/api/workflows/{hooked.id}/webhook/listen"), 403, "role_required")
    with h.container.db.session(readonly=True) as s:
        assert s.scalar(select(Workflow.hook_listen_until).where(Workflow.id == hooked.id)) is None
