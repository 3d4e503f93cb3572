"""Flow control, runtime guards, variables and end reasons (workflows.md §8.7, §9, WF-LOOP-04, §11)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from convoflow.accounts.models import Membership, Workspace
from convoflow.bootstrap import Container
from convoflow.contacts import assignment, fields, lifecycle
from convoflow.contacts import service as contacts
from convoflow.contacts.models import Contact
from convoflow.conversations import service as conversations
from convoflow.events.actor import Actor
from convoflow.teams import service as teams
from convoflow.testing.clock import FakeClock
from convoflow.workflows import service
from convoflow.workflows.engine.context import StepContext
from convoflow.workflows.engine.runner import MAX_STEPS_PER_RUN
from convoflow.workflows.enrolment import ENROLMENTS_PER_HOUR
from convoflow.workflows.models import RunStep, Timer
from tests.workflows.engine.support import OPENED, Harness, definition, step

MANUAL = {"type": "manual", "config": {"inputs": ["motivo"]}}


def _clock(container: Container) -> FakeClock:
    clock = container.clock
    assert isinstance(clock, FakeClock)
    return clock


def _move_to(container: Container, moment: datetime) -> None:
    """Time only moves forward, with advance()."""
    clock = _clock(container)
    clock.advance(seconds=(moment - clock.now()).total_seconds())


def _contact(h: Harness, contact_id: int) -> Contact:
    h.session.expire_all()
    contact = h.session.get(Contact, contact_id)
    assert contact is not None
    return contact


def _again(h: Harness, visitor: str, text: str = "hola") -> None:
    """A new trigger event for the same contact: its conversation closes and a new message opens one."""
    inbound = h.inbound(visitor, "…")
    conversations.close_conversation(
        h.session, contact=_contact(h, inbound.contact.id), actor=Actor.system(), category_id=None,
        summary=None, enforce_notes=False,
    )  # fmt: skip
    h.session.commit()
    h.drain()
    h.inbound(visitor, text)
    h.drain()


def _set_timezone(h: Harness, zone: str) -> None:
    workspace = h.session.get(Workspace, h.world.workspace.id)
    assert workspace is not None
    workspace.timezone = zone
    h.session.commit()


# --- Jump To ------------------------------------------------------------------------------------


def test_jump_to_moves_back_until_the_limit_then_follows_next_WF_STEP_JUMP_01_02(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    workflow = h.publish(
        definition(
            OPENED,
            step("s1", "send_message", {"text": "vuelta"}, next="j"),
            step("j", "jump_to", {"target": "s1", "max_jumps": 2}, next="s3"),
            step("s3", "send_message", {"text": "fin"}),
        )
    )
    h.inbound("visitor-1", "hola")
    h.drain()
    assert h.sent_texts() == ["vuelta", "vuelta", "vuelta", "fin"]
    [run] = h.runs(workflow.id)
    assert run.end_reason == "completed"
    jumps = [(s.output, s.summary) for s in h.steps(run.id) if s.step_key == "j"]
    assert jumps == [
        ("jump", {"jumps": 1}),
        ("jump", {"jumps": 2}),
        ("next", {"jumps": 2, "skipped": True}),
    ]
    # each visit is its own record: seq counts visits (DESIGN §3.8)
    assert [s.seq for s in h.steps(run.id)] == list(range(1, 8))


def test_jump_to_counters_are_per_step_and_reset_when_the_run_ends_WF_STEP_JUMP_02(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    workflow = h.publish(
        definition(
            OPENED,
            step("a", "send_message", {"text": "a"}, next="ja"),
            step("ja", "jump_to", {"target": "a", "max_jumps": 1}, next="b"),
            step("b", "send_message", {"text": "b"}, next="jb"),
            step("jb", "jump_to", {"target": "a", "max_jumps": 1}),  # empty next: the run ends
        )
    )
    h.inbound("visitor-1", "hola")
    h.drain()
    # ja jumps once; jb jumps once back to a, where ja's own counter is already used up
    assert h.sent_texts() == ["a", "a", "b", "a", "b"]
    [first] = h.runs(workflow.id)
    assert first.end_reason == "completed"
    _again(h, "visitor-1")
    second = h.runs(workflow.id)[1]
    assert second.end_reason == "completed"
    assert h.sent_texts()[5:] == ["a", "a", "b", "a", "b"]  # a new run starts with fresh counters


# --- Wait ---------------------------------------------------------------------------------------


def test_wait_survives_a_restart_a_new_engine_resumes_the_run_WF_STEP_WAIT_01(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    workflow = h.publish(
        definition(
            OPENED,
            step("w", "wait", {"amount": 3, "unit": "days"}, next="s2"),
            step("s2", "send_message", {"text": "Han pasado 3 días"}),
        )
    )
    h.inbound("visitor-1", "hola")
    h.drain()
    [run] = h.runs(workflow.id)
    assert (run.status, run.wait_kind) == ("waiting", "timer")
    [timer] = session.scalars(select(Timer).where(Timer.run_id == run.id))
    assert timer.due_at == datetime(2026, 1, 8, 9, 0, tzinfo=UTC)
    session.commit()
    del h.engine  # the process "restarts": nothing of the old engine survives but the database
    restarted = container.engine()
    _clock(container).advance(days=2, hours=23)
    restarted.drain()
    assert h.sent_texts() == []
    _clock(container).advance(hours=1)
    restarted.drain()
    assert h.sent_texts() == ["Han pasado 3 días"]
    assert h.runs(workflow.id)[0].end_reason == "completed"


# --- Date & Time --------------------------------------------------------------------------------


def _date_time_flow(config: dict[str, Any], *, outside: bool = True) -> dict[str, Any]:
    steps = [
        step("dt", "date_time", config, next="in", outside="out" if outside else None),
        step("in", "send_message", {"text": "dentro"}),
    ]
    return definition(OPENED, *steps, *([step("out", "send_message", {"text": "fuera"})] if outside else []))


HOURS = {
    "mode": "business_hours",
    "use_workspace_hours": False,
    "days": {
        "mon": [{"start": "09:00", "end": "14:00"}, {"start": "16:00", "end": "19:00"}],
        "sun": [{"start": "10:00", "end": "12:00"}],
    },
}


def test_date_time_business_hours_per_weekday_in_the_workspace_timezone_with_dst_WF_STEP_TIME_01_02(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    _set_timezone(h, "Europe/Madrid")
    h.publish(_date_time_flow(HOURS))
    moments = [
        (datetime(2026, 1, 5, 9, 0, tzinfo=UTC), "dentro"),  # Monday 10:00 CET (UTC+1)
        (datetime(2026, 1, 5, 13, 30, tzinfo=UTC), "fuera"),  # Monday 14:30: between the two intervals
        (datetime(2026, 1, 5, 15, 0, tzinfo=UTC), "dentro"),  # Monday 16:00: the second interval
        (datetime(2026, 1, 6, 10, 0, tzinfo=UTC), "fuera"),  # Tuesday: closed
        # Sunday 29 March 2026, the day summer time starts: 08:30 UTC is 10:30 CEST (UTC+2), inside;
        # a fixed UTC+1 offset would say 09:30, outside
        (datetime(2026, 3, 29, 8, 30, tzinfo=UTC), "dentro"),
        (datetime(2026, 3, 29, 10, 15, tzinfo=UTC), "fuera"),  # 12:15 CEST (UTC+1 would say 11:15)
    ]
    for number, (moment, expected) in enumerate(moments):
        _move_to(container, moment)
        if number == 0:
            h.inbound("visitor-1", "hola")
            h.drain()
        else:
            _again(h, "visitor-1")
        assert h.sent_texts()[-1] == expected, moment


def test_date_time_uses_its_own_timezone_or_the_workspace_hours_WF_STEP_TIME_01(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    _set_timezone(h, "Europe/Madrid")
    # 2026-01-05 09:00 UTC is 03:00 in Mexico City: outside 09:00-14:00 there, inside in Madrid
    own_zone = h.publish(_date_time_flow({**HOURS, "timezone": "America/Mexico_City"}), name="Mexico")
    workspace_hours = h.publish(
        _date_time_flow({"mode": "business_hours", "use_workspace_hours": True}), name="WS"
    )
    h.inbound("visitor-1", "hola")
    h.drain()
    outputs = {
        workflow.id: h.steps(h.runs(workflow.id)[0].id)[0].output for workflow in (own_zone, workspace_hours)
    }
    # workspace hours default to Mon-Fri 09:00-18:00 in the workspace zone: Monday 10:00 Madrid is inside
    assert outputs == {own_zone.id: "outside", workspace_hours.id: "next"}


def test_date_time_range_mode_and_an_empty_outside_branch_ends_the_run_WF_STEP_TIME_01_02_WF_RUN_11(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    config = {
        "mode": "date_range",
        "timezone": "Europe/Madrid",
        "start": "2026-01-05T11:00",
        "end": "2026-01-05T12:00",
    }
    workflow = h.publish(_date_time_flow(config, outside=False))
    h.inbound("visitor-1", "hola")  # 10:00 in Madrid: before the range
    h.drain()
    [run] = h.runs(workflow.id)
    assert [(s.step_key, s.output) for s in h.steps(run.id)] == [("dt", "outside")]
    assert (run.status, run.end_reason) == ("ended", "completed")
    assert h.sent_texts() == []
    _move_to(container, datetime(2026, 1, 5, 10, 0, tzinfo=UTC))  # 11:00 Madrid: the start is inside
    _again(h, "visitor-1")
    _move_to(container, datetime(2026, 1, 5, 11, 0, tzinfo=UTC))  # 12:00 Madrid: the end is not
    _again(h, "visitor-1")
    assert h.sent_texts() == ["dentro"]
    assert [r.end_reason for r in h.runs(workflow.id)] == ["completed"] * 3


# --- Trigger Another Workflow -------------------------------------------------------------------


def _handover_pair(h: Harness, *, target_steps: list[dict[str, Any]] | None = None) -> tuple[int, int]:
    target = h.publish(
        definition(
            MANUAL, *(target_steps or [step("t1", "send_message", {"text": "Motivo: $trigger.motivo"})])
        ),
        name="Target",
    )
    caller = h.publish(
        definition(
            OPENED,
            step(
                "call",
                "trigger_workflow",
                {
                    "workflow": {"ref": "workflow", "id": target.id},
                    "inputs": {"motivo": "ayuda para $contact.firstname"},
                },
            ),
        ),
        name="Caller",
    )
    return caller.id, target.id


def test_trigger_workflow_hands_the_contact_over_with_inputs_as_trigger_variables_WF_STEP_CALL_01(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    caller, target = _handover_pair(h)
    h.inbound("visitor-1", "hola")
    h.drain()
    [left] = h.runs(caller)
    [entered] = h.runs(target)
    assert (left.status, left.end_reason) == ("ended", "handed_over")
    assert entered.end_reason == "completed" and entered.contact_id == left.contact_id
    assert h.sent_texts() == ["Motivo: ayuda para Ana"]


def test_trigger_workflow_is_refused_when_the_target_is_stopped_or_already_has_the_contact_WF_STEP_CALL_01(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    caller, target = _handover_pair(h, target_steps=[step("t1", "wait", {"amount": 1, "unit": "days"})])
    h.inbound("visitor-1", "hola")
    h.drain()
    assert [r.end_reason for r in h.runs(caller)] == ["handed_over"]
    _again(h, "visitor-1")  # the contact still waits in the target: normal rules refuse it (WF-RUN-02)
    assert [r.end_reason for r in h.runs(caller)] == ["handed_over", "handover_refused"]
    assert len(h.runs(target)) == 1
    service.stop(session, h.owner, workflow_id=target)
    session.commit()
    _again(h, "visitor-1")  # the target is no longer published
    assert [r.end_reason for r in h.runs(caller)][-1] == "handover_refused"
    assert [r.end_reason for r in h.runs(target)] == ["workflow_stopped"]


# --- Runtime loop guards (WF-LOOP-04) -----------------------------------------------------------


def test_a_run_ends_with_loop_guard_after_1000_step_executions_WF_LOOP_04(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    always = {
        "mode": "business_hours",
        "use_workspace_hours": False,
        "days": {
            d: [{"start": "00:00", "end": "24:00"}] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        },
    }
    # Jump To allows 10 jumps per step, but a chain of them jumping back to the start multiplies:
    # about 5 * n² step executions for n jump steps, far beyond the budget
    chain = [
        step(f"j{i}", "jump_to", {"target": "start", "max_jumps": 10}, next=f"j{i + 1}" if i < 15 else None)
        for i in range(1, 16)
    ]
    workflow = h.publish(definition(OPENED, step("start", "date_time", always, next="j1"), *chain))
    h.inbound("visitor-1", "hola")
    h.drain()
    [run] = h.runs(workflow.id)
    assert (run.status, run.end_reason, run.steps_done) == ("ended", "loop_guard", MAX_STEPS_PER_RUN)
    executed = session.scalar(select(func.count()).select_from(RunStep).where(RunStep.run_id == run.id))
    assert executed == MAX_STEPS_PER_RUN


def test_more_than_20_enrolments_of_a_contact_in_an_hour_end_with_loop_guard_WF_LOOP_04(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    workflow = h.publish(definition(OPENED, step("close", "close_conversation")))
    h.inbound("visitor-1", "hola")  # opens, the run closes it again: every message opens a new one
    h.drain()
    for _ in range(ENROLMENTS_PER_HOUR - 1):
        _clock(container).advance(minutes=2)
        h.inbound("visitor-1", "otra")
        h.drain()
    assert [r.end_reason for r in h.runs(workflow.id)] == ["completed"] * ENROLMENTS_PER_HOUR
    h.inbound("visitor-1", "una más")  # the 21st within the hour
    h.drain()
    runs = h.runs(workflow.id)
    assert (runs[-1].end_reason, runs[-1].steps_done) == ("loop_guard", 0)
    assert h.steps(runs[-1].id) == []
    # an hour later the window has slid past them all and the contact enrols normally again
    _move_to(container, runs[-1].started_at.replace(tzinfo=UTC) + timedelta(hours=1, seconds=1))
    _again(h, "visitor-1")  # the guarded run closed nothing: close by hand, then a new message opens
    assert h.runs(workflow.id)[-1].end_reason == "completed"


# --- Variables at run time (WF-VAR-01/02/05/06) -------------------------------------------------


def test_variables_render_contact_assignee_system_trigger_and_var_values_WF_VAR_01_02_05(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    _set_timezone(h, "America/Bogota")  # UTC-5: 09:00 UTC is 04:00 local
    ws = h.world.workspace.id
    fields.create_field(session, h.owner, name="City", type="text", slug="city")
    fields.create_field(session, h.owner, name="Born", type="date", slug="born")
    fields.create_field(session, h.owner, name="Newsletter", type="checkbox", slug="newsletter")
    fields.create_field(session, h.owner, name="Score", type="number", slug="score")
    team = teams.create_team(session, h.owner, name="Ventas")
    membership = session.get(Membership, (ws, h.world.manager.id))
    assert membership is not None
    membership.team_id = team.id
    session.commit()
    text = (
        "$contact.id|$contact.name|$Contact.FirstName|$contact.lastname|$contact.email|$contact.phone|"
        "$contact.language|$contact.country|$contact.lifecycle|$contact.city|$contact.born|"
        "$contact.newsletter|$contact.score\n"
        "$assignee.id|$assignee.name|$assignee.firstname|$assignee.lastname|$assignee.email|$assignee.team\n"
        "$system.current_datetime|$system.current_date|$system.current_time\n"
        "$trigger.source|$trigger.channel.name|$var.last_error|$$5"
    )
    workflow = h.publish(definition(OPENED, step("s", "send_message", {"text": text})))
    # the contact exists (with its values and assignee) before the message that opens the conversation
    first = h.inbound("visitor-1", "hola")
    h.drain()
    contact = _contact(h, first.contact.id)
    contacts.update_contact(
        session,
        contact=contact,
        actor=Actor.system(),
        values={"last_name": "Gómez", "email": "ana@example.com", "phone": "+573001234567", "language": "es"},
        custom_fields={"city": "Bogotá", "born": "1990-02-03", "newsletter": True, "score": 7.0},
    )
    stage = lifecycle.find_stage(session, workspace_id=ws, name="Customer")
    assert stage is not None
    lifecycle.set_contact_stage(session, contact=contact, stage_id=stage.id, actor=Actor.system())
    assignment.apply_assignee(session, contact=contact, user_id=h.world.manager.id, actor=Actor.system())
    session.commit()
    _again(h, "visitor-1")
    manager = h.world.manager
    lines = h.sent_texts()[-1].split("\n")
    assert lines[0].split("|") == [
        str(contact.id), "Ana Gómez", "Ana", "Gómez", "ana@example.com", "+573001234567", "es", "CO",
        "Customer", "Bogotá", "1990-02-03", "true", "7",
    ]  # fmt: skip
    assert lines[1].split("|") == [
        str(manager.id), f"{manager.first_name} {manager.last_name}", manager.first_name, manager.last_name,
        manager.email, "Ventas",
    ]  # fmt: skip
    local = _clock(container).now().astimezone(ZoneInfo("America/Bogota"))
    assert lines[2] == "|".join(
        [local.strftime("%Y-%m-%d %H:%M:%S"), local.strftime("%Y-%m-%d"), local.strftime("%H:%M:%S")]
    )
    assert lines[3] == "contact|Test||$5"  # no failure yet: $var.last_error is empty, never the token
    assert len(h.runs(workflow.id)) == 2


def test_var_last_error_names_the_last_failure_and_run_variables_are_erased_at_the_end_WF_VAR_02_06(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    workflow = h.publish(
        definition(
            OPENED,
            step("send", "send_message", {"text": "primero", "failure_branch": True}, failure="report"),
            step("report", "send_message", {"text": "Falló: $var.last_error ($trigger.source)"}),
        )
    )
    container.test_channel.fail_next(reason="número bloqueado")
    h.inbound("visitor-1", "hola")
    h.drain()
    [report] = h.sent_texts()
    assert report.startswith("Falló: ") and "número bloqueado" in report and report.endswith("(contact)")
    [run] = h.runs(workflow.id)
    assert run.end_reason == "completed"
    assert run.variables == {}  # WF-VAR-06: $var and $trigger live for one run only


def test_contact_data_is_read_fresh_at_every_step_WF_VAR_03_WF_RUN_08(
    session: Session, container: Container
) -> None:
    h = Harness(session, container)
    h.publish(
        definition(
            OPENED,
            step("w", "wait", {"amount": 5, "unit": "minutes"}, next="s"),
            step("s", "send_message", {"text": "Hola $contact.firstname"}),
        )
    )
    inbound = h.inbound("visitor-1", "hola")
    h.drain()
    contact = _contact(h, inbound.contact.id)
    contact.first_name = "Anabel"
    session.commit()
    _clock(container).advance(minutes=5, seconds=1)
    h.drain()
    assert h.sent_texts() == ["Hola Anabel"]


# --- End reasons (WF-RUN-09/11) -----------------------------------------------------------------


def test_empty_failure_and_else_outputs_end_the_run_WF_RUN_11(session: Session, container: Container) -> None:
    h = Harness(session, container)
    failing = h.publish(
        definition(OPENED, step("send", "send_message", {"text": "x", "failure_branch": True}, next="n")
                   , step("n", "send_message", {"text": "no"})),
        name="Failing",
    )  # fmt: skip
    branching = h.publish(
        definition(
            OPENED,
            step(
                "b",
                "branch",
                {
                    "branches": [
                        {
                            "name": "never",
                            "conditions": [{"category": "conversation_status", "operator": "is_closed"}],
                        }
                    ]
                },
                **{"branch:1": "n2"},
            ),
            step("n2", "send_message", {"text": "no"}),
        ),
        name="Branching",
    )
    container.test_channel.fail_next()
    h.inbound("visitor-1", "hola")
    h.drain()
    for workflow_id, expected in ((failing.id, "failure"), (branching.id, "else")):
        [run] = h.runs(workflow_id)
        assert (run.status, run.end_reason) == ("ended", "completed")
        assert [s.output for s in h.steps(run.id)] == [expected]
    assert h.sent_texts() == []


def test_an_unexpected_step_error_ends_the_run_with_error_shown_on_the_run_WF_RUN_09(
    session: Session, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = Harness(session, container)
    workflow = h.publish(
        definition(OPENED, step("note", "add_comment", {"text": "x"}, next="s"), step("s", "wait"))
    )

    def broken(cfg: Any, ctx: StepContext) -> Any:
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(container.steps._handlers, "add_comment", broken)  # a bug, on purpose
    h.inbound("visitor-1", "hola")
    h.drain()
    [run] = h.runs(workflow.id)
    assert (run.status, run.end_reason) == ("ended", "error")
    [record] = h.steps(run.id)
    assert record.status == "error" and record.error is not None and "disk on fire" in record.error["message"]
