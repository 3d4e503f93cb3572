"""The one gate for run status changes (DESIGN §3.7)."""

from __future__ import annotations

from convoflow.workflows.engine.state import END_REASONS, RunState, RunStatus

ALLOWED: dict[str, set[str]] = {
    "ready": {"running", "ended"},
    "running": {"ready", "waiting", "ended"},
    "waiting": {"ready", "ended"},
    "ended": set(),
}


class IllegalTransition(RuntimeError):
    pass


def transition(run: RunState, to: RunStatus) -> None:
    if to != run.status and to not in ALLOWED[run.status]:
        raise IllegalTransition(f"run {run.id}: {run.status} -> {to}")
    run.status = to


def end_run(run: RunState, reason: str) -> None:
    if reason not in END_REASONS:
        raise ValueError(f"unknown end reason {reason!r}")
    transition(run, "ended")
    run.end_reason = reason
    run.wait_kind = None
    run.cursor = None
    run.variables = {}  # WF-VAR-06: $var and $trigger values live for one run only
