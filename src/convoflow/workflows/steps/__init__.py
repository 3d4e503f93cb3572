"""Step handlers, one module per step type; build_registry() hands them to the runner."""

from __future__ import annotations

from convoflow.workflows.engine.registry import Registry
from convoflow.workflows.steps import (
    add_comment,
    ask_question,
    assign_to,
    branch,
    close_conversation,
    date_time,
    http_request,
    jump_to,
    open_conversation,
    send_message,
    trigger_workflow,
    update_field,
    update_lifecycle,
    update_tag,
    wait,
)

MODULES = (
    send_message,
    ask_question,
    assign_to,
    branch,
    update_tag,
    update_field,
    update_lifecycle,
    open_conversation,
    close_conversation,
    add_comment,
    jump_to,
    wait,
    date_time,
    http_request,
    trigger_workflow,
)


def build_registry() -> Registry:
    registry = Registry()
    for module in MODULES:
        registry.step(module.STEP_TYPE)(module.run)
    registry.on_timeout(ask_question.STEP_TYPE, ask_question.on_timeout)
    return registry
