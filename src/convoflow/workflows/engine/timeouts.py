"""Timeouts that end a run: decided from the workflow alone, so they can be applied to a batch of runs.

A timer firing normally wakes its run, and the contact worker runs the waiting step again. When the
step's timeout outcome depends only on its config (an Ask a Question without a connected Timeout
branch ends the run), worker/timers.py ends the run directly with exactly what the runner would record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from convoflow.workflows.definition.graph import WorkflowDefinition
from convoflow.workflows.definition.steps import allowed_outputs
from convoflow.workflows.engine.outcomes import End, Next
from convoflow.workflows.engine.registry import Registry


@dataclass(frozen=True, slots=True)
class TimeoutEnding:
    """The step record and end reason the runner would write for a run timing out at this step."""

    reason: str
    output: str | None
    summary: dict[str, Any]


def ending_on_timeout(
    definition: WorkflowDefinition, cursor: str | None, registry: Registry
) -> TimeoutEnding | None:
    """How a run waiting at `cursor` ends when its timer fires; None when it goes on (or may, depending
    on the contact), which leaves the run to the runner."""
    step = definition.step(cursor)
    if step is None:
        return None
    rule = registry.timeout_rule(step.type)
    if rule is None:
        return None
    match rule(step.config):
        case End(reason=reason, summary=summary):
            return TimeoutEnding(reason, None, {**summary, "ended": reason})
        case Next(output=output, summary=summary):
            connected = step.outputs.get(output) if output in allowed_outputs(step) else None
            return TimeoutEnding("completed", output, summary) if connected is None else None
    return None
