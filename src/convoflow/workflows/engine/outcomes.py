"""What a step returns to the runner, and why a waiting step was woken."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

WaitKind = Literal["reply", "timer", "effect", "assignment"]


@dataclass(frozen=True, slots=True)
class Next:
    """Done: follow `output` ("next", "failure", "timeout", "branch:2", "else", "outside")."""

    output: str = "next"
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Suspend:
    """Wait for a reply, a timer, an external effect's result or an assignment chance, until `until`."""

    on: WaitKind
    until: datetime | None = None
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class JumpTo:
    """Jump To: continue at another step of the workflow."""

    target: str
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class End:
    """The run ends here with `reason` (WF-RUN-09)."""

    reason: str
    summary: dict[str, Any] = field(default_factory=dict)


Outcome = Next | Suspend | JumpTo | End


@dataclass(frozen=True, slots=True)
class TimerFired:
    pass


@dataclass(frozen=True, slots=True)
class Reply:
    """The contact's next inbound message, offered to the waiting question (WF-STEP-ASK-02)."""

    message_id: int
    type: str
    text: str
    content: dict[str, Any]


@dataclass(frozen=True, slots=True)
class EffectResult:
    ok: bool
    data: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Retry:
    """A queued Assign To is offered another chance (WF-STEP-ASSIGN-05)."""


Wake = TimerFired | Reply | EffectResult | Retry | None


def wake_to_json(wake: Wake) -> dict[str, Any] | None:
    match wake:
        case None:
            return None
        case TimerFired():
            return {"kind": "timer"}
        case Reply():
            return {
                "kind": "reply",
                "message_id": wake.message_id,
                "type": wake.type,
                "text": wake.text,
                "content": wake.content,
            }
        case EffectResult():
            return {"kind": "effect", "ok": wake.ok, "data": wake.data, "error": wake.error}
        case Retry():
            return {"kind": "retry"}


def wake_from_json(data: dict[str, Any] | None) -> Wake:
    if not data:
        return None
    match data.get("kind"):
        case "timer":
            return TimerFired()
        case "reply":
            return Reply(int(data["message_id"]), str(data["type"]), str(data["text"]), dict(data["content"]))
        case "effect":
            return EffectResult(bool(data["ok"]), dict(data.get("data") or {}), data.get("error"))
        case "retry":
            return Retry()
    return None
