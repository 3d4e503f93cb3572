"""The step registry: step type → handler. bootstrap fills it from workflows/steps/."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from convoflow.workflows.engine.context import StepContext
from convoflow.workflows.engine.outcomes import Outcome

StepHandler = Callable[[Any, StepContext], Outcome]
TimeoutRule = Callable[[Any], Outcome]  # a step's outcome when its timer fires, from its config alone


class Registry:
    def __init__(self) -> None:
        self._handlers: dict[str, StepHandler] = {}
        self._timeout_rules: dict[str, TimeoutRule] = {}

    def step(self, step_type: str) -> Callable[[StepHandler], StepHandler]:
        def register(handler: StepHandler) -> StepHandler:
            if step_type in self._handlers:
                raise ValueError(f"step {step_type!r} registered twice")
            self._handlers[step_type] = handler
            return handler

        return register

    def handler(self, step_type: str) -> StepHandler:
        return self._handlers[step_type]

    def on_timeout(self, step_type: str, rule: TimeoutRule) -> None:
        """Declares that a timer firing on this step type gives `rule(config)`, whatever the contact: the
        engine may then apply the outcome to many runs at once (worker/timers.py)."""
        self._timeout_rules[step_type] = rule

    def timeout_rule(self, step_type: str) -> TimeoutRule | None:
        return self._timeout_rules.get(step_type)

    def types(self) -> set[str]:
        return set(self._handlers)
