"""Jump To (WF-STEP-JUMP-01/02): below the limit, go to the target; at the limit, follow next."""

from __future__ import annotations

from convoflow.workflows.definition.steps import JumpToConfig
from convoflow.workflows.engine.context import StepContext
from convoflow.workflows.engine.outcomes import JumpTo, Next, Outcome

STEP_TYPE = "jump_to"


def run(cfg: JumpToConfig, ctx: StepContext) -> Outcome:
    done = int(ctx.run.jumps.get(ctx.step_key, 0))
    if done >= cfg.max_jumps:
        return Next("next", {"jumps": done, "skipped": True})
    ctx.run.jumps[ctx.step_key] = done + 1
    return JumpTo(cfg.target, {"jumps": done + 1})
