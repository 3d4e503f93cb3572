"""Branch (WF-STEP-BRANCH-01..05): the first branch whose conditions hold wins; otherwise Else."""

from __future__ import annotations

from convoflow.workflows.definition.steps import BranchConfig
from convoflow.workflows.engine.conditions import holds
from convoflow.workflows.engine.context import StepContext
from convoflow.workflows.engine.outcomes import Next, Outcome

STEP_TYPE = "branch"


def run(cfg: BranchConfig, ctx: StepContext) -> Outcome:
    facts = ctx.facts()
    for number, branch in enumerate(cfg.branches, start=1):
        if holds(branch, facts):
            return Next(f"branch:{number}", {"branch": branch.name})
    return Next("else", {"branch": "else"})
