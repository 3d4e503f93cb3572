"""References to workspace objects inside a definition (WF-IO-02): {ref, id, key, label}."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

RefKind = Literal["user", "team", "channel", "field", "tag", "stage", "category", "workflow"]


class Ref(BaseModel):
    """`id` resolves inside the workspace; `key` is the natural key used across workspaces.

    Natural keys: user → email; channel → "kind:name"; field → slug; the rest → name. A ref with
    neither id nor key is empty: a value still to be chosen (templates) or stripped on import.
    """

    model_config = ConfigDict(extra="forbid")

    ref: RefKind
    id: int | None = None
    key: str | None = Field(None, max_length=320)
    label: str | None = Field(None, max_length=320)

    @property
    def is_empty(self) -> bool:
        return self.id is None and not self.key
