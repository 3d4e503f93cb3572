"""Open Conversation (WF-STEP-OPEN-01): opens one if none is open (source workflow), else nothing."""

from __future__ import annotations

from convoflow.workflows.definition.steps import OpenConversationConfig
from convoflow.workflows.engine.context import StepContext
from convoflow.workflows.engine.outcomes import Next, Outcome

STEP_TYPE = "open_conversation"


def run(cfg: OpenConversationConfig, ctx: StepContext) -> Outcome:
    ctx.ops.open_conversation()
    return Next("next")
