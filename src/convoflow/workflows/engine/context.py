"""StepContext: everything a step handler may read and do during one step execution."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from convoflow.workflows.engine.conditions import Facts
from convoflow.workflows.engine.outcomes import Wake
from convoflow.workflows.engine.ports import ContactOps, Effects, Handover
from convoflow.workflows.engine.render import render_text
from convoflow.workflows.engine.snapshot import ContactSnapshot
from convoflow.workflows.engine.state import RunState


@dataclass(frozen=True)
class WorkspaceFacts:
    zone: ZoneInfo
    business_hours: dict[str, Any]  # WorkspaceSettings.business_hours as JSON (CRM-HOURS-01)
    date_format: str = "DD/MM/YYYY"
    default_country: str | None = None


@dataclass
class StepContext:
    run: RunState
    step_key: str
    seq: int
    attempt: int
    contact: ContactSnapshot
    now: datetime
    workspace: WorkspaceFacts
    wake: Wake
    ops: ContactOps
    effects: Effects
    handover: Handover
    state: dict[str, Any] = field(default_factory=dict)  # persisted across this step's wake-ups

    def render(self, text: str) -> str:
        return render_text(
            text, contact=self.contact, variables=self.run.variables, now=self.now, zone=self.workspace.zone
        )

    def facts(self) -> Facts:
        return Facts(
            contact=self.contact, now=self.now, zone=self.workspace.zone, variables=self.run.variables
        )

    def set_var(self, name: str, value: Any) -> None:
        """A `$var.<name>` for the rest of the run (WF-VAR-06)."""
        self.run.variables.setdefault("var", {})[name] = value
