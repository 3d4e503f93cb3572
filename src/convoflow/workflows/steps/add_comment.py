"""Add Comment (WF-STEP-NOTE-01): an internal note, never sent to the contact."""

from __future__ import annotations

from convoflow.workflows.definition.steps import AddCommentConfig
from convoflow.workflows.engine.context import StepContext
from convoflow.workflows.engine.outcomes import Next, Outcome

STEP_TYPE = "add_comment"


def run(cfg: AddCommentConfig, ctx: StepContext) -> Outcome:
    text = ctx.render(cfg.text).strip()[:1000] or "(empty)"
    mentions = [ref.id for ref in cfg.mentions if ref.id is not None]
    ctx.ops.add_comment(text=text, mentions=mentions)
    return Next("next")
