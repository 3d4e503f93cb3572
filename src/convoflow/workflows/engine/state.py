"""A run as the engine handles it, mirrored from and saved back to its row by the store."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

RunStatus = Literal["ready", "running", "waiting", "ended"]

# WF-RUN-09 end reasons.
END_REASONS = frozenset(
    {
        "completed",
        "timeout",
        "send_failed",
        "invalid_answer",
        "handed_over",
        "handover_refused",
        "workflow_stopped",
        "stopped_for_contact",
        "contact_deleted",
        "loop_guard",
        "error",
    }
)


@dataclass
class RunState:
    id: int
    workspace_id: int
    workflow_id: int | None
    workflow_name: str
    version_id: int | None
    contact_id: int
    status: RunStatus
    cursor: str | None
    next_seq: int
    wait_kind: str | None
    wait_token: int
    wake: dict[str, Any] | None
    variables: dict[str, Any] = field(default_factory=dict)
    jumps: dict[str, int] = field(default_factory=dict)
    steps_done: int = 0
    end_reason: str | None = None
    waiting_since: datetime | None = None

    @property
    def current_seq(self) -> int:
        """The seq of the step the run is at (the last one started)."""
        return self.next_seq - 1
