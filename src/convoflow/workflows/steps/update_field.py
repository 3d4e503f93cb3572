"""Update Contact Field (WF-STEP-FIELD-01): a row whose value is invalid or taken is skipped and logged."""

from __future__ import annotations

from convoflow.workflows.definition.steps import UpdateFieldConfig
from convoflow.workflows.engine.context import StepContext
from convoflow.workflows.engine.outcomes import Next, Outcome

STEP_TYPE = "update_field"


def run(cfg: UpdateFieldConfig, ctx: StepContext) -> Outcome:
    skipped = {}
    for row in cfg.rows:
        value = None if row.clear else ctx.render(row.value)
        problem = ctx.ops.set_field(row.field, value)
        if problem is not None:
            skipped[row.field] = problem
    return Next("next", {"skipped": skipped} if skipped else {})
