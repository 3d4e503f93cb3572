"""Advancing a run: one step at a time, each result recorded under (run, seq) (WF-RUN-04/06)."""

from __future__ import annotations

import logging
from datetime import datetime

from convoflow.workflows.definition.steps import allowed_outputs
from convoflow.workflows.engine.context import StepContext
from convoflow.workflows.engine.errors import StepUserError
from convoflow.workflows.engine.host import RunHost
from convoflow.workflows.engine.outcomes import End, JumpTo, Next, Suspend, wake_from_json
from convoflow.workflows.engine.registry import Registry
from convoflow.workflows.engine.state import RunState
from convoflow.workflows.engine.transitions import end_run, transition

log = logging.getLogger("convoflow.engine")
MAX_STEPS_PER_RUN = 1000  # WF-LOOP-04


def advance(run: RunState, *, host: RunHost, registry: Registry, now: datetime, budget: int = 100) -> int:
    """Executes the run's steps until it waits, ends, or `budget` steps ran; returns the steps run."""
    executed = 0
    while run.status == "ready" and executed < budget:
        executed += 1
        _one_step(run, host=host, registry=registry, now=now)
    host.save(run)
    return executed


def _one_step(run: RunState, *, host: RunHost, registry: Registry, now: datetime) -> None:
    if run.version_id is None:
        end_run(run, "error")
        return
    definition = host.definition(run.version_id)
    step = definition.step(run.cursor)
    if step is None:
        end_run(run, "completed")
        return
    contact = host.contact(run.contact_id)
    if contact is None:
        end_run(run, "contact_deleted")
        return
    if contact.blocked:
        end_run(run, "stopped_for_contact")  # CRM-CONT-07, WF-RUN-16
        return
    if run.steps_done >= MAX_STEPS_PER_RUN:
        end_run(run, "loop_guard")  # WF-LOOP-04
        return
    woken = run.wake is not None
    if not woken:
        run.next_seq += 1
    seq = run.current_seq
    record = host.step_record(run, seq, step.key, step.type)
    transition(run, "running")
    ctx = StepContext(
        run=run,
        step_key=step.key,
        seq=seq,
        attempt=record.attempt,
        contact=contact,
        now=now,
        workspace=host.workspace(run.workspace_id),
        wake=wake_from_json(run.wake),
        ops=host.ops(run, seq),
        effects=host.effects(run, seq, record.attempt, record.state),
        handover=host.handover(run),
        state=record.state,
    )
    run.wake = None
    try:
        with host.savepoint():
            outcome = registry.handler(step.type)(step.config, ctx)
    except StepUserError as exc:
        outcome = End("error", {"error": str(exc)})
    except Exception as exc:  # a bug: end the run, keep the worker alive, record what happened
        log.exception("run.step.crashed", extra={"run_id": run.id, "step": step.key})
        host.finish_step(
            run, record, status="error", output=None, summary={}, error={"message": repr(exc)[:500]}
        )
        end_run(run, "error")
        return
    match outcome:
        case Next(output=output, summary=summary):
            host.finish_step(run, record, status="done", output=output, summary=summary)
            run.steps_done += 1
            target = step.outputs.get(output) if output in allowed_outputs(step) else None
            run.cursor = target
            if target is None:
                end_run(run, "completed")  # WF-RUN-09/11: an output with no step ends the run
            else:
                transition(run, "ready")
        case JumpTo(target=target, summary=summary):
            host.finish_step(run, record, status="done", output="jump", summary=summary)
            run.steps_done += 1
            run.cursor = target
            transition(run, "ready")
        case Suspend(on=on, until=until, summary=summary):
            host.suspend_step(run, record, summary=summary)
            run.wait_kind = on
            run.wait_token += 1
            run.waiting_since = now
            transition(run, "waiting")
            if until is not None:
                host.add_timer(run, until)
        case End(reason=reason, summary=summary):
            host.finish_step(run, record, status="done", output=None, summary={**summary, "ended": reason})
            run.steps_done += 1
            end_run(run, reason)
