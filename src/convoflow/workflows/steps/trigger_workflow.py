"""Trigger Another Workflow (WF-STEP-CALL-01): enrol in a Manual-trigger workflow and leave this one."""

from __future__ import annotations

from convoflow.workflows.definition.steps import TriggerWorkflowConfig
from convoflow.workflows.engine.context import StepContext
from convoflow.workflows.engine.outcomes import End, Outcome

STEP_TYPE = "trigger_workflow"


def run(cfg: TriggerWorkflowConfig, ctx: StepContext) -> Outcome:
    target = None if cfg.workflow is None else cfg.workflow.id
    inputs = {name: ctx.render(value) for name, value in cfg.inputs.items()}
    if target is not None and ctx.handover.enrol_manual(workflow_id=target, inputs=inputs):
        return End("handed_over", {"workflow_id": target})
    return End("handover_refused", {"workflow_id": target})
