"""Update Contact Tag (WF-STEP-TAG-01): add or remove 1-10 tags; no-ops emit nothing."""

from __future__ import annotations

from convoflow.workflows.definition.steps import UpdateTagConfig
from convoflow.workflows.engine.context import StepContext
from convoflow.workflows.engine.outcomes import Next, Outcome

STEP_TYPE = "update_tag"


def run(cfg: UpdateTagConfig, ctx: StepContext) -> Outcome:
    wanted = [(ref.id, ref.key or ref.label or "") for ref in cfg.tags]
    if cfg.action == "add":
        return Next("next", {"added": ctx.ops.add_tags(wanted)})
    return Next("next", {"removed": ctx.ops.remove_tags(wanted)})
