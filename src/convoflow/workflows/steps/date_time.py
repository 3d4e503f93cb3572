"""Date & Time (WF-STEP-TIME-01/02): inside business hours or a date range → next, else outside."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from convoflow.workflows.definition.steps import DateTimeConfig
from convoflow.workflows.engine.context import StepContext
from convoflow.workflows.engine.outcomes import Next, Outcome

STEP_TYPE = "date_time"
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def within_hours(local: datetime, days: Mapping[str, list[dict[str, Any]]]) -> bool:
    """Whether local wall-clock time falls in one of the weekday's intervals (end exclusive)."""
    clock = local.strftime("%H:%M")
    return any(i["start"] <= clock < i["end"] for i in days.get(_WEEKDAYS[local.weekday()], []))


def run(cfg: DateTimeConfig, ctx: StepContext) -> Outcome:
    if cfg.mode == "date_range":
        zone = ZoneInfo(cfg.timezone) if cfg.timezone else ctx.workspace.zone
        local = ctx.now.astimezone(zone).replace(tzinfo=None)
        start = datetime.fromisoformat(cfg.start or "")
        end = datetime.fromisoformat(cfg.end or "")
        inside = start <= local < end
    elif cfg.use_workspace_hours:
        hours = ctx.workspace.business_hours
        zone = ZoneInfo(hours["timezone"]) if hours.get("timezone") else ctx.workspace.zone
        inside = within_hours(ctx.now.astimezone(zone), hours.get("days", {}))
    else:
        zone = ZoneInfo(cfg.timezone) if cfg.timezone else ctx.workspace.zone
        days: dict[str, list[dict[str, Any]]] = {
            d: [i.model_dump() for i in ivs] for d, ivs in cfg.days.items()
        }
        inside = within_hours(ctx.now.astimezone(zone), days)  # DST follows the IANA zone
    return Next("next" if inside else "outside", {"inside": inside})
