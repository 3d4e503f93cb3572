"""Assign To (WF-STEP-ASSIGN-01..07): a user, a user of a team or the workspace, or unassign.

With no eligible user the contact queues on the step: it is offered another chance every 60 s until
the step's timeout, then takes the timeout branch or ends (WF-STEP-ASSIGN-05/06).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from convoflow.workflows.definition.steps import AssignToConfig
from convoflow.workflows.engine.context import StepContext
from convoflow.workflows.engine.outcomes import End, Next, Outcome, Suspend

STEP_TYPE = "assign_to"
RETRY_EVERY = timedelta(seconds=60)


def run(cfg: AssignToConfig, ctx: StepContext) -> Outcome:
    if cfg.action == "unassign":
        ctx.ops.assign(None)  # always succeeds (WF-STEP-ASSIGN-07)
        return Next("next")
    if cfg.action == "user":
        user_id = None if cfg.user is None else cfg.user.id
        assigned = user_id is not None and ctx.ops.assign(user_id)
        return Next("next", {"assigned": user_id if assigned else None})  # deactivated: continue unassigned
    if "deadline" not in ctx.state:
        ctx.state["deadline"] = (ctx.now + timedelta(seconds=cfg.timeout_seconds)).isoformat()
    deadline = datetime.fromisoformat(ctx.state["deadline"])
    choice = ctx.ops.choose_assignee(
        team_id=cfg.team.id if cfg.action == "team" and cfg.team is not None else None,
        logic=cfg.logic,
        online_only=cfg.online_only,
        max_open_contacts=cfg.max_open_contacts,
    )
    if choice.reason == "no_members":
        return Next("next", {"assigned": None, "reason": "no_members"})  # WF-STEP-ASSIGN-04
    if choice.reason == "chosen" and choice.user_id is not None and ctx.ops.assign(choice.user_id):
        return Next("next", {"assigned": choice.user_id})
    if ctx.now >= deadline:
        return Next("timeout") if cfg.timeout_branch else End("timeout")  # WF-STEP-ASSIGN-06
    return Suspend("assignment", until=min(deadline, ctx.now + RETRY_EVERY), summary={"queued": True})
