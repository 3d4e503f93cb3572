"""Timeouts that end a run are applied set-based by the timer loop (worker/timers.py), and must leave
exactly the rows the runner leaves when it runs the timed-out step itself (WF-STEP-ASK-07, WF-RUN-11)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session

from convoflow.bootstrap import Container
from convoflow.contacts import service as contacts
from convoflow.contacts.models import Contact
from convoflow.events.actor import Actor
from convoflow.workflows.engine.registry import Registry
from convoflow.workflows.steps import MODULES
from tests.support import events_of
from tests.workflows.engine.support import OPENED, Harness, definition, step


def _runner_only() -> Registry:
    """The steps without their timeout rules: every timer wakes its run for the runner."""
    registry = Registry()
    for module in MODULES:
        registry.step(module.STEP_TYPE)(module.run)
    return registry


def _ask(timeout_seconds: int, config: dict[str, Any], **outputs: str) -> dict[str, Any]:
    steps = [
        step(
            "s1",
            "ask_question",
            {"question": "¿Pregunta?", "timeout_seconds": timeout_seconds, **config},
            next="s2",
            **outputs,
        ),
        step("s2", "send_message", {"text": "Gracias"}),
    ]
    if "timeout" in outputs:
        steps.append(step("t", "send_message", {"text": "Se acabó el tiempo"}))
    return definition(OPENED, *steps)


def _recorded(h: Harness, workflow_id: int, started: datetime) -> dict[str, Any]:
    """What a run left behind, without ids and with times relative to the enrolment (the step state's
    keys only: its deadline differs between the two workflows)."""
    [run] = h.runs(workflow_id)
    left = [
        {key: value for key, value in event.payload.items() if key not in ("run_id", "workflow_id")}
        for event in events_of(h.session, workspace_id=h.world.workspace.id, type="workflow.left")
        if event.payload["run_id"] == run.id
    ]
    return {
        "run": (
            run.status,
            run.end_reason,
            run.cursor,
            run.wait_kind,
            run.wake,
            run.variables,
            run.steps_done,
        ),
        "ended_after": None if run.ended_at is None else run.ended_at - started,
        "steps": [
            (s.step_key, s.status, s.output, s.summary, s.error, sorted(s.state), s.finished_at - started)
            for s in h.steps(run.id)
            if s.finished_at is not None
        ],
        "left": left,
    }


@pytest.mark.parametrize(
    "config", [{}, {"timeout_branch": True}], ids=["without_timeout_branch", "with_an_empty_timeout_branch"]
)
def test_a_timeout_ending_the_run_is_recorded_as_the_runner_records_it_WF_STEP_ASK_07_WF_RUN_11(
    session: Session, container: Container, config: dict[str, Any]
) -> None:
    h = Harness(session, container)
    in_bulk = h.publish(_ask(3600, config), name="In bulk")
    by_runner = h.publish(_ask(7200, config), name="By the runner")
    started = container.clock.now()
    h.inbound("visitor-1", "hola")
    h.drain()
    assert h.sent_texts() == ["¿Pregunta?", "¿Pregunta?"]

    container.clock.advance(hours=1)  # type: ignore[attr-defined]
    h.engine.timers_once()
    assert h.runs(in_bulk.id)[0].status == "ended"  # ended by the timer loop itself, no runner visit
    h.drain()

    h.engine.registry = _runner_only()
    container.clock.advance(hours=1)  # type: ignore[attr-defined]
    h.engine.timers_once()
    assert h.runs(by_runner.id)[0].status == "ready"  # woken for the runner
    h.drain()

    bulk, runner = _recorded(h, in_bulk.id, started), _recorded(h, by_runner.id, started)
    reason = "completed" if config else "timeout"
    assert bulk["run"] == runner["run"] == ("ended", reason, None, None, None, {}, 1)
    assert (bulk["ended_after"].total_seconds(), runner["ended_after"].total_seconds()) == (3600, 7200)
    assert [s[:6] for s in bulk["steps"]] == [s[:6] for s in runner["steps"]]
    assert bulk["steps"][0][1:3] == ("done", "timeout" if config else None)
    assert bulk["left"] == [{"workflow_name": "In bulk", "reason": reason}]
    assert runner["left"] == [{"workflow_name": "By the runner", "reason": reason}]
    assert h.sent_texts() == ["¿Pregunta?", "¿Pregunta?"]


def test_a_connected_timeout_branch_is_left_to_the_runner_WF_STEP_ASK_07(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    workflow = h.publish(_ask(3600, {"timeout_branch": True}, timeout="t"))
    h.inbound("visitor-1", "hola")
    h.drain()
    container.clock.advance(hours=1)  # type: ignore[attr-defined]
    h.engine.timers_once()
    assert h.runs(workflow.id)[0].status == "ready"
    h.drain()
    [run] = h.runs(workflow.id)
    assert (run.status, run.end_reason) == ("ended", "completed")
    assert h.sent_texts() == ["¿Pregunta?", "Se acabó el tiempo"]


def test_a_blocked_contacts_timeout_is_left_to_the_runner_which_stops_the_run_WF_RUN_16(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    workflow = h.publish(_ask(3600, {}))
    inbound = h.inbound("visitor-1", "hola")
    h.drain()
    contact = session.get(Contact, inbound.contact.id)
    assert contact is not None
    contacts.set_blocked(session, contact=contact, blocked=True, actor=Actor.system())
    session.commit()
    h.drain()
    container.clock.advance(hours=1)  # type: ignore[attr-defined]
    h.drain()
    [run] = h.runs(workflow.id)
    assert (run.status, run.end_reason) == ("ended", "stopped_for_contact")


def test_a_stale_timer_vanishes_without_touching_the_run_WF_STEP_ASK_07(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    workflow = h.publish(_ask(3600, {}))
    h.inbound("visitor-1", "hola")
    h.drain()
    h.inbound("visitor-1", "una respuesta")  # answered: the run moves on and ends
    h.drain()
    [run] = h.runs(workflow.id)
    assert (run.status, run.end_reason) == ("ended", "completed")
    container.clock.advance(hours=1)  # type: ignore[attr-defined]
    assert h.engine.timers_once() == 1  # the answered question's timer, taken and dropped
    assert h.engine.timers_once() == 0
    [after] = h.runs(workflow.id)
    assert (after.status, after.end_reason, after.steps_done) == ("ended", "completed", run.steps_done)
