"""Close Conversation (WF-STEP-CLOSE-01/02): closing ends neither this run nor others."""

from __future__ import annotations

from convoflow.workflows.definition.steps import CloseConversationConfig
from convoflow.workflows.engine.context import StepContext
from convoflow.workflows.engine.outcomes import Next, Outcome

STEP_TYPE = "close_conversation"
SUMMARY_MAX = 512  # WF-STEP-CLOSE-01


def run(cfg: CloseConversationConfig, ctx: StepContext) -> Outcome:
    summary = ctx.render(cfg.summary).strip()[:SUMMARY_MAX] or None  # variables may make it longer
    ctx.ops.close_conversation(category_id=None if cfg.category is None else cfg.category.id, summary=summary)
    return Next("next")
