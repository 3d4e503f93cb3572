"""Close Conversation (WF-STEP-CLOSE-01/02): closing ends neither this run nor others."""

from __future__ import annotations

from convoflow.workflows.definition.steps import CloseConversationConfig
from convoflow.workflows.engine.context import StepContext
from convoflow.workflows.engine.outcomes import Next, Outcome

STEP_TYPE = "close_conversation"


def run(cfg: CloseConversationConfig, ctx: StepContext) -> Outcome:
    summary = ctx.render(cfg.summary).strip() or None
    ctx.ops.close_conversation(category_id=None if cfg.category is None else cfg.category.id, summary=summary)
    return Next("next")
