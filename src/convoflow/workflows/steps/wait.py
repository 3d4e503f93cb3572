"""Wait (WF-STEP-WAIT-01): a stored due time; survives restarts; a timer wakes the run."""

from __future__ import annotations

from datetime import timedelta

from convoflow.workflows.definition.steps import WaitConfig
from convoflow.workflows.engine.context import StepContext
from convoflow.workflows.engine.outcomes import Next, Outcome, Suspend, TimerFired

STEP_TYPE = "wait"


def run(cfg: WaitConfig, ctx: StepContext) -> Outcome:
    if isinstance(ctx.wake, TimerFired):
        return Next("next")
    until = ctx.now + timedelta(seconds=cfg.seconds)
    return Suspend("timer", until=until, summary={"until": until.isoformat()})
