"""GET /api/workflows/{id}/runs, /runs/{run_id} and /step-counts: the per-contact run log and the live
counts of a workflow (WF-RUN-18)."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from convoflow.testing.clock import FakeClock
from convoflow.worker.engine import Engine
from convoflow.workflows import runs
from convoflow.workflows.engine.outcomes import EffectResult
from tests.support import assert_error, login, seed_world
from tests.workflows.api.support import ApiHarness, manual, plan_flow, signed_in
from tests.workflows.engine.support import definition, step


def _ids(body: dict[str, Any]) -> list[int]:
    return [item["id"] for item in body["items"]]


def test_runs_list_filters_by_status_end_reason_and_contact_WF_RUN_18(
    client: TestClient, h: ApiHarness
) -> None:
    workflow = h.publish(plan_flow())
    ana, bea, carla = h.contact("Ana", last_name="Pérez"), h.contact("Bea"), h.contact("Carla")
    waiting = h.enrol(workflow, ana, plan="pro")
    done_b = h.enrol(workflow, bea, plan="free")
    done_c = h.enrol(workflow, carla, plan="free")
    owner = signed_in(client, h)
    url = f"/api/workflows/{workflow.id}/runs"

    everything = owner.get(url).json()
    assert _ids(everything) == [done_c, done_b, waiting]  # newest first
    first = everything["items"][2]
    assert first["contact"] == {"id": ana.id, "name": "Ana Pérez"}
    assert (first["status"], first["end_reason"], first["version"]) == ("waiting", None, 1)
    assert first["current_step"] == {"key": "s2", "name": "Step s2", "type": "wait"}
    assert first["wait_kind"] == "timer"
    assert _ids(owner.get(url, params={"status": "active"}).json()) == [waiting]
    assert _ids(owner.get(url, params={"status": "ended"}).json()) == [done_c, done_b]
    assert _ids(owner.get(url, params={"end_reason": "completed"}).json()) == [done_c, done_b]
    assert _ids(owner.get(url, params={"end_reason": "timeout"}).json()) == []
    assert _ids(owner.get(url, params={"contact_id": bea.id}).json()) == [done_b]

    page = owner.get(url, params={"limit": 2}).json()
    assert _ids(page) == [done_c, done_b] and page["next_cursor"] == str(done_b)
    rest = owner.get(url, params={"limit": 2, "cursor": page["next_cursor"]}).json()
    assert _ids(rest) == [waiting] and rest["next_cursor"] is None

    assert_error(owner.get(url, params={"status": "paused"}), 422, "validation_error")
    assert_error(owner.get(url, params={"end_reason": "exploded"}), 422, "validation_error")
    assert_error(owner.get(url, params={"cursor": "abc"}), 400, "invalid_cursor")
    assert_error(owner.get(url, params={"contact_id": 0}), 422, "validation_error")


def test_run_detail_shows_version_trigger_steps_branches_and_timings_WF_RUN_18(
    client: TestClient, h: ApiHarness, clock: FakeClock
) -> None:
    workflow = h.publish(plan_flow())
    ana, bea = h.contact("Ana"), h.contact("Bea")
    waiting = h.enrol(workflow, ana, plan="pro")
    done = h.enrol(workflow, bea, plan="free")
    owner = signed_in(client, h)

    body = owner.get(f"/api/workflows/{workflow.id}/runs/{done}").json()
    assert (body["status"], body["end_reason"], body["version"]) == ("ended", "completed", 1)
    assert body["trigger_type"] == "manual" and body["trigger_event"] is None
    assert [
        (s["seq"], s["key"], s["type"], s["status"], s["output"], s["branch"]) for s in body["steps"]
    ] == [
        (1, "s1", "branch", "done", "else", "Else"),
        (2, "s3", "update_tag", "done", "next", None),
    ]
    assert all(s["started_at"] and s["finished_at"] and s["error"] is None for s in body["steps"])
    assert body["ended_at"] is not None

    live = owner.get(f"/api/workflows/{workflow.id}/runs/{waiting}").json()
    assert live["trigger_variables"] == {"plan": "pro"}  # run-scoped: kept while the run lives (WF-VAR-06)
    assert [(s["key"], s["status"], s["branch"]) for s in live["steps"]] == [
        ("s1", "done", "Pro"),
        ("s2", "waiting", None),
    ]
    assert live["current_step"]["key"] == "s2" and live["steps"][1]["finished_at"] is None
    clock.advance(hours=1, seconds=1)
    h.drain()
    after = owner.get(f"/api/workflows/{workflow.id}/runs/{waiting}").json()
    assert [(s["key"], s["status"]) for s in after["steps"]] == [
        ("s1", "done"),
        ("s2", "done"),
        ("s4", "done"),
    ]


def test_run_detail_shows_the_trigger_event_of_an_event_triggered_run_WF_RUN_18(
    client: TestClient, h: ApiHarness
) -> None:
    workflow = h.publish(
        definition(
            {"type": "conversation_opened", "config": {"sources": ["contact"]}},
            step("s1", "add_comment", {"text": "Hola"}, next="s2"),
            step("s2", "wait", {"amount": 1, "unit": "hours"}),
        )
    )
    h.inbound("visitor-1", "Buenas")
    h.drain()
    [run] = h.runs_of(workflow.id)
    body = signed_in(client, h).get(f"/api/workflows/{workflow.id}/runs/{run.id}").json()
    assert body["trigger_event"]["type"] == "conversation.opened"
    assert body["trigger_event"]["id"] == run.trigger_event_id
    assert body["trigger_variables"]["source"] == "contact"


SECRET_BEARER = "Bearer s3cr3t-bearer-value"
SECRET_CUSTOM = "custom-secret-9876"


def test_run_detail_redacts_secret_headers_and_credentials_WF_RUN_18(
    client: TestClient, h: ApiHarness
) -> None:
    # WF-IO-03 secret headers (flagged, or named like a credential) never leave the server in the log,
    # nor do their values where they were rendered into the URL or body, nor response credentials.
    seen: list[dict[str, Any]] = []

    async def fake_http(request: dict[str, Any], key: str) -> EffectResult:
        seen.append(request)
        return EffectResult(True, {"status": 200, "json": {"access_token": "resp-token-555", "plan": "pro"}})

    h.engine = Engine(
        h.container.db,
        registry=h.container.steps,
        adapters=h.container.adapters,
        wake=h.container.wake,
        http=fake_http,
    )
    workflow = h.publish(
        definition(
            manual(),
            step(
                "s1",
                "http_request",
                {
                    "method": "POST",
                    "url": "https://api.example.com/orders?api_key=k-123456&page=2",
                    "headers": [
                        {"name": "Authorization", "value": SECRET_BEARER},
                        {"name": "X-Custom", "value": SECRET_CUSTOM, "secret": True},
                        {"name": "X-Api-Key", "value": "apikey-777777"},
                        {"name": "X-Trace", "value": "visible-trace"},
                    ],
                    "body_type": "raw",
                    "body": f"echo {SECRET_CUSTOM} for $contact.firstname",
                    "mappings": [{"path": "$.plan", "variable": "plan"}],
                },
                next="s2",
            ),
            step("s2", "wait", {"amount": 1, "unit": "hours"}),
        )
    )
    run_id = h.enrol(workflow, h.contact("Ana"))
    assert seen and seen[0]["headers"]["Authorization"] == SECRET_BEARER  # the real call had the secret
    response = signed_in(client, h).get(f"/api/workflows/{workflow.id}/runs/{run_id}")
    assert response.status_code == 200
    text = response.text
    for secret in (SECRET_BEARER, SECRET_CUSTOM, "apikey-777777", "k-123456", "resp-token-555"):
        assert secret not in text
    [effect] = response.json()["steps"][0]["effects"]
    assert effect["kind"] == "http" and effect["status"] == "done"
    headers = effect["request"]["headers"]
    assert headers["Authorization"] == headers["X-Custom"] == headers["X-Api-Key"] == "[redacted]"
    assert headers["X-Trace"] == "visible-trace"
    assert effect["request"]["body"] == "echo [redacted] for Ana"
    assert "page=2" in effect["request"]["url"] and "api_key=[redacted]" in effect["request"]["url"]
    assert effect["result"]["json"] == {"access_token": "[redacted]", "plan": "pro"}
    assert response.json()["variables"] == {"plan": "pro"}
    json.dumps(response.json())


def test_run_detail_records_a_failed_step_and_the_error_WF_RUN_18(client: TestClient, h: ApiHarness) -> None:
    # Without an HTTP executor the call fails: the step takes `next` and the log names the error.
    h.engine = Engine(
        h.container.db, registry=h.container.steps, adapters=h.container.adapters, wake=h.container.wake
    )
    workflow = h.publish(
        definition(manual(), step("s1", "http_request", {"method": "GET", "url": "https://example.com/x"}))
    )
    run_id = h.enrol(workflow, h.contact("Ana"))
    body = signed_in(client, h).get(f"/api/workflows/{workflow.id}/runs/{run_id}").json()
    [effect] = body["steps"][0]["effects"]
    assert effect["status"] == "failed" and "not enabled" in effect["result"]["error"]
    assert body["steps"][0]["summary"]["error"] == effect["result"]["error"]
    assert body["steps"][0]["output"] == "next"


def test_step_counts_are_live_per_step_with_totals_WF_RUN_18(client: TestClient, h: ApiHarness) -> None:
    workflow = h.publish(plan_flow())
    contacts = [h.contact(name) for name in ("Ana", "Bea", "Carla", "Dora")]
    h.enrol(workflow, contacts[0], plan="pro")
    h.enrol(workflow, contacts[1], plan="pro")
    h.enrol(workflow, contacts[2], plan="free")
    h.enrol(workflow, contacts[3], plan="pro")
    runs.end_active_runs(h.session, reason="stopped_for_contact", contact_id=contacts[3].id)
    h.session.commit()
    body = signed_in(client, h).get(f"/api/workflows/{workflow.id}/step-counts").json()
    assert body == {
        "active": 2,
        "completed": 1,
        "other_ended": 1,
        "ended_by_reason": {"completed": 1, "stopped_for_contact": 1},
        "steps": [{"step": {"key": "s2", "name": "Step s2", "type": "wait"}, "contacts": 2}],
    }


def test_run_endpoints_hide_other_workspaces_and_unknown_ids_WF_GEN_03(
    client: TestClient, h: ApiHarness
) -> None:
    workflow = h.publish(plan_flow())
    run_id = h.enrol(workflow, h.contact("Ana"), plan="free")
    other = seed_world(h.session, h.container.hasher, name="Globex")
    login(client, other.owner)
    for path in (
        f"/api/workflows/{workflow.id}/runs",
        f"/api/workflows/{workflow.id}/runs/{run_id}",
        f"/api/workflows/{workflow.id}/step-counts",
    ):
        assert_error(client.get(path), 404, "not_found")
    client.post("/api/auth/logout")
    owner = signed_in(client, h)
    assert_error(owner.get(f"/api/workflows/{workflow.id}/runs/987654"), 404, "run_not_found")
    assert_error(owner.get("/api/workflows/987654/runs"), 404, "not_found")
    second = h.publish(plan_flow(), name="Second")
    assert_error(owner.get(f"/api/workflows/{second.id}/runs/{run_id}"), 404, "run_not_found")


def test_agents_cannot_read_run_logs_WF_GEN_01(client: TestClient, h: ApiHarness) -> None:
    workflow = h.publish(plan_flow())
    run_id = h.enrol(workflow, h.contact("Ana"), plan="free")
    agent = signed_in(client, h, "agent")
    for path in (
        f"/api/workflows/{workflow.id}/runs",
        f"/api/workflows/{workflow.id}/runs/{run_id}",
        f"/api/workflows/{workflow.id}/step-counts",
    ):
        assert_error(agent.get(path), 403, "role_required")
