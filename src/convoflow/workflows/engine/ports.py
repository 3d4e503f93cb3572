"""What steps may do, as protocols: the engine's only way to the contact and the outside world.

workflows/store.py implements them over SQL inside the step's transaction; nothing here knows SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol


@dataclass(frozen=True, slots=True)
class AssigneeChoice:
    """The outcome of looking for an assignee: a user, nobody in the team, or nobody eligible now."""

    user_id: int | None
    reason: Literal["chosen", "no_members", "none_eligible"]


class ContactOps(Protocol):
    """Internal effects on the run's contact; they commit with the step (exactly once)."""

    def add_tags(self, tags: list[tuple[int | None, str]]) -> list[str]:
        """Adds tags named by id (current name) or by name (created when missing); returns those added."""
        ...

    def remove_tags(self, tags: list[tuple[int | None, str]]) -> list[str]: ...
    def set_field(self, field: str, value: str | None) -> str | None:
        """Sets a standard field or custom slug from text; returns why it was skipped, or None."""
        ...

    def set_stage(self, stage_id: int | None) -> None: ...
    def assign(self, user_id: int | None) -> bool:
        """False when the user cannot be assigned any more (deactivated): the contact stays as it is."""
        ...

    def choose_assignee(
        self,
        *,
        team_id: int | None,
        logic: Literal["round_robin", "least_open"],
        online_only: bool,
        max_open_contacts: int | None,
    ) -> AssigneeChoice: ...
    def open_conversation(self) -> None: ...
    def close_conversation(self, *, category_id: int | None, summary: str | None) -> None: ...
    def add_comment(self, *, text: str, mentions: list[int]) -> None: ...


@dataclass(frozen=True, slots=True)
class ChannelInfo:
    id: int
    kind: str


class Effects(Protocol):
    """External effects: staged in the outbox under the step's idempotency key; the run then waits."""

    def channel(self, channel_id: int | None) -> ChannelInfo | None:
        """The channel a send would use: the chosen one, else the contact's default (CRM-MSG-06)."""
        ...

    def send_message(self, *, content: dict[str, Any], channel_id: int | None) -> str | None:
        """Queues the message; returns a failure reason when it cannot even be queued (no channel)."""
        ...

    def http_request(self, *, request: dict[str, Any]) -> None: ...


class Handover(Protocol):
    def enrol_manual(self, *, workflow_id: int, inputs: dict[str, str]) -> bool:
        """Enrols the contact in a published Manual-trigger workflow; False when refused."""
        ...
