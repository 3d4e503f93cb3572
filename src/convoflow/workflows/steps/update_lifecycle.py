"""Update Lifecycle (WF-STEP-LIFE-01): set a stage or clear it; emits Lifecycle Updated (source workflow)."""

from __future__ import annotations

from convoflow.errors import ConvoflowError
from convoflow.workflows.definition.steps import UpdateLifecycleConfig
from convoflow.workflows.engine.context import StepContext
from convoflow.workflows.engine.outcomes import Next, Outcome

STEP_TYPE = "update_lifecycle"


def run(cfg: UpdateLifecycleConfig, ctx: StepContext) -> Outcome:
    stage_id = None if cfg.clear or cfg.stage is None else cfg.stage.id
    try:
        ctx.ops.set_stage(stage_id)
    except ConvoflowError as exc:  # stages switched off or the stage deleted since publishing
        return Next("next", {"skipped": exc.message})
    return Next("next")
