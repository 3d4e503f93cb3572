"""The runner's view of storage (implemented over SQL by workflows/store.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from convoflow.workflows.definition.graph import WorkflowDefinition
from convoflow.workflows.engine.context import WorkspaceFacts
from convoflow.workflows.engine.ports import ContactOps, Effects, Handover
from convoflow.workflows.engine.snapshot import ContactSnapshot
from convoflow.workflows.engine.state import RunState


@dataclass
class StepRecord:
    """A run_steps row as the runner needs it: the step's saved state and attempt number."""

    seq: int
    state: dict[str, Any]
    attempt: int
    existing: bool


class RunHost(Protocol):
    def definition(self, version_id: int) -> WorkflowDefinition: ...
    def contact(self, contact_id: int) -> ContactSnapshot | None: ...
    def workspace(self, workspace_id: int) -> WorkspaceFacts: ...
    def ops(self, run: RunState, seq: int) -> ContactOps: ...
    def effects(self, run: RunState, seq: int, attempt: int, state: dict[str, Any]) -> Effects: ...
    def handover(self, run: RunState) -> Handover: ...
    def step_record(self, run: RunState, seq: int, step_key: str, step_type: str) -> StepRecord: ...
    def finish_step(
        self,
        run: RunState,
        record: StepRecord,
        *,
        status: str,
        output: str | None,
        summary: dict[str, Any],
        error: dict[str, Any] | None = None,
    ) -> None: ...
    def suspend_step(self, run: RunState, record: StepRecord, *, summary: dict[str, Any]) -> None: ...
    def add_timer(self, run: RunState, due_at: datetime) -> None: ...
    def save(self, run: RunState) -> None: ...
    def savepoint(self) -> Any:
        """A context manager: a nested transaction that rolls back when the block raises."""
        ...
