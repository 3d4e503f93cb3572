"""GET /metrics: Prometheus counters and gauges of the engine, and who may scrape them (docs/decisions.md)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from convoflow import metrics
from convoflow.api.app import create_app
from convoflow.bootstrap import Container
from convoflow.testing.clock import FakeClock
from convoflow.workflows import run_control, service
from tests.support import assert_error
from tests.workflows.api.support import ApiHarness, manual, plan_flow
from tests.workflows.engine.support import OPENED, definition, step

TOKEN = "metrics-token-123"


def value(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def scraper(container: Container) -> Iterator[TestClient]:
    container.settings.metrics_token = SecretStr(TOKEN)
    with TestClient(create_app(container), headers={"Authorization": f"Bearer {TOKEN}"}) as c:
        yield c


def test_metrics_need_the_token_when_one_is_set(container: Container, client: TestClient) -> None:
    container.settings.metrics_token = SecretStr(TOKEN)
    assert_error(client.get("/metrics"), 401, "invalid_token")
    assert_error(client.get("/metrics", headers={"Authorization": "Bearer wrong"}), 401, "invalid_token")
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "convoflow_runs_started_total" in response.text


def test_without_a_token_only_direct_loopback_clients_may_scrape(
    container: Container, client: TestClient
) -> None:
    assert_error(client.get("/metrics"), 403, "metrics_forbidden")  # the test client is not loopback
    with TestClient(create_app(container), client=("127.0.0.1", 50000)) as local:
        assert local.get("/metrics").status_code == 200
        # A reverse proxy on the same host makes public requests look local; its headers give it away.
        assert_error(
            local.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}), 403, "metrics_forbidden"
        )
    with TestClient(create_app(container), client=("::1", 50000)) as local6:
        assert local6.get("/metrics").status_code == 200


def test_runs_started_and_finished_are_counted_by_trigger_and_reason(
    h: ApiHarness, scraper: TestClient
) -> None:
    workflow = h.publish(plan_flow())
    started = value("convoflow_runs_started_total", trigger="manual")
    completed = value("convoflow_runs_finished_total", reason="completed")
    stopped = value("convoflow_runs_finished_total", reason="workflow_stopped")
    h.enrol(workflow, h.contact("Ana"), plan="free")
    h.enrol(workflow, h.contact("Bea"), plan="pro")
    assert value("convoflow_runs_started_total", trigger="manual") == started + 2
    assert value("convoflow_runs_finished_total", reason="completed") == completed + 1
    service.stop(h.session, h.owner, workflow_id=workflow.id)
    h.session.commit()
    assert value("convoflow_runs_finished_total", reason="workflow_stopped") == stopped + 1
    text = scraper.get("/metrics").text
    assert 'convoflow_runs_finished_total{reason="completed"}' in text


def test_rolled_back_work_is_not_counted(h: ApiHarness) -> None:
    workflow = h.publish(plan_flow())
    ana = h.contact("Ana")
    started = value("convoflow_runs_started_total", trigger="manual")
    run_control.enrol_by_hand(h.session, h.owner, workflow_id=workflow.id, contact_id=ana.id, inputs={})
    h.session.rollback()
    assert value("convoflow_runs_started_total", trigger="manual") == started
    assert h.run_count() == 0


def test_failed_sends_count_as_failed_runs_and_failed_deliveries(h: ApiHarness, scraper: TestClient) -> None:
    # WF-RUN-10: a failed Send a Message without failure branch ends the run `send_failed`.
    workflow = h.publish(definition(OPENED, step("s1", "send_message", {"text": "Hola"})))
    failed = value("convoflow_runs_failed_total", reason="send_failed")
    deliveries = value("convoflow_outbox_deliveries_total", kind="message", result="failed")
    dispatched = value("convoflow_events_dispatched_total", type="conversation.opened")
    h.container.test_channel.fail_next()
    h.inbound("visitor-1", "hola")
    h.drain()
    [run] = h.runs_of(workflow.id)
    assert run.end_reason == "send_failed"
    assert value("convoflow_runs_failed_total", reason="send_failed") == failed + 1
    assert value("convoflow_outbox_deliveries_total", kind="message", result="failed") == deliveries + 1
    assert value("convoflow_events_dispatched_total", type="conversation.opened") == dispatched + 1
    assert value("convoflow_step_duration_seconds_count", step_type="send_message") >= 1


def test_the_outbox_backlog_is_read_at_scrape_time(h: ApiHarness, scraper: TestClient) -> None:
    h.publish(definition(OPENED, step("s1", "send_message", {"text": "Hola"})))
    h.inbound("visitor-1", "hola")
    h.engine.contacts_once()  # the message is staged; the relay has not run
    scraper.get("/metrics")
    assert value("convoflow_outbox_backlog", kind="message") == 1
    assert value("convoflow_runs_active", status="waiting") == 1
    done = value("convoflow_outbox_deliveries_total", kind="message", result="done")
    h.drain()
    scraper.get("/metrics")
    assert value("convoflow_outbox_backlog", kind="message") == 0
    assert value("convoflow_runs_active", status="waiting") == 0
    assert value("convoflow_outbox_deliveries_total", kind="message", result="done") == done + 1


def test_due_timer_lag_and_overdue_timers(h: ApiHarness, scraper: TestClient, clock: FakeClock) -> None:
    # WF-RUN-07 is watched through this histogram: how late each timer fired.
    workflow = h.publish(definition(manual(), step("w1", "wait", {"amount": 1, "unit": "minutes"})))
    h.enrol(workflow, h.contact("Ana"))
    count = value("convoflow_timer_lag_seconds_count")
    total = value("convoflow_timer_lag_seconds_sum")
    clock.advance(minutes=1, seconds=5)
    scraper.get("/metrics")
    assert value("convoflow_timers_overdue") == 1
    h.drain()
    assert value("convoflow_timer_lag_seconds_count") == count + 1
    assert value("convoflow_timer_lag_seconds_sum") == pytest.approx(total + 5)
    scraper.get("/metrics")
    assert value("convoflow_timers_overdue") == 0
