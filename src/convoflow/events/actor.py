"""Who caused a change: the `source` and actor ids every domain event carries (CRM-EVT-02)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Source = Literal["contact", "user", "workflow", "api", "broadcast", "system"]


@dataclass(frozen=True, slots=True)
class Actor:
    source: Source
    user_id: int | None = None
    token_id: int | None = None
    run_id: int | None = None
    contact_id: int | None = None

    @classmethod
    def user(cls, user_id: int) -> Actor:
        return cls("user", user_id=user_id)

    @classmethod
    def api(cls, token_id: int) -> Actor:
        return cls("api", token_id=token_id)

    @classmethod
    def workflow(cls, run_id: int) -> Actor:
        return cls("workflow", run_id=run_id)

    @classmethod
    def contact(cls, contact_id: int) -> Actor:
        return cls("contact", contact_id=contact_id)

    @classmethod
    def system(cls) -> Actor:
        return cls("system")

    @property
    def actor_id(self) -> int | None:
        """The id stored on the event: a user id, API-token id, run id or contact id, by source."""
        match self.source:
            case "user":
                return self.user_id
            case "api":
                return self.token_id
            case "workflow":
                return self.run_id
            case "contact":
                return self.contact_id
            case _:
                return None
