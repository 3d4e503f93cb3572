"""The workflow definition document: one trigger and a tree of steps (WF-GEN-02, WF-STEP-01)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from convoflow.workflows.definition import limits
from convoflow.workflows.definition.steps import Step, StepKey, allowed_outputs
from convoflow.workflows.definition.triggers import Trigger

SCHEMA_VERSION = 1


class WorkflowSettings(BaseModel):
    """WF-LIFE-11."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    allow_stop_for_contact: bool = Field(False, alias="allowStopForContact")


class WorkflowDefinition(BaseModel):
    """What a draft holds and a version freezes. The trigger may be empty while a draft is built."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    schema_version: Literal[1] = Field(1, alias="schemaVersion")
    trigger: Trigger | None = None
    root: StepKey | None = None
    steps: list[Step] = Field(default_factory=list, max_length=limits.MAX_STEPS)

    def step(self, key: str | None) -> Step | None:
        return next((s for s in self.steps if s.key == key), None) if key else None

    def edges(self) -> Iterator[tuple[Step, str, str]]:
        """(step, output, target key) for every connected output the step's config allows."""
        for step in self.steps:
            allowed = allowed_outputs(step)
            for output, target in step.outputs.items():
                if target is not None and output in allowed:
                    yield step, output, target

    def reachable(self) -> set[str]:
        """Keys reachable from the root along outputs."""
        children: dict[str, list[str]] = {}
        for step, _output, target in self.edges():
            children.setdefault(step.key, []).append(target)
        seen: set[str] = set()
        pending = [self.root] if self.root and self.step(self.root) else []
        while pending:
            key = pending.pop()
            if key in seen:
                continue
            seen.add(key)
            pending.extend(children.get(key, []))
        return seen

    def to_json(self) -> dict[str, object]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=False)


def empty_definition() -> WorkflowDefinition:
    return WorkflowDefinition()
