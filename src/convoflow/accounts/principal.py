"""The caller of a request: who acts, in which workspace, with which role, and what they may do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from convoflow.errors import PermissionDenied
from convoflow.events.actor import Actor

Role = Literal["owner", "manager", "agent"]
ManagerFlag = Literal[
    "restrict_space_setting",
    "restrict_contact_deletion",
    "restrict_data_export",
    "restrict_space_integration",
]


class Restrictions(BaseModel):
    """CRM-ROLE-02 (Manager flags) and CRM-ROLE-03 (Agent flags); flags of the other role are ignored."""

    model_config = ConfigDict(extra="forbid")

    restrict_space_setting: bool = Field(False, description="Manager: no workspace settings")
    restrict_contact_deletion: bool = Field(False, description="Manager: may not delete contacts")
    restrict_data_export: bool = Field(False, description="Manager: may not export data")
    restrict_space_integration: bool = Field(False, description="Manager: no integrations or API tokens")
    contact_visibility: Literal["all", "team", "mine"] = Field(
        "all", description="Agent: all contacts, their team's (and unassigned) contacts, or only their own"
    )
    restrict_shortcuts: bool = Field(False, description="Agent: Shortcut triggers are hidden")


@dataclass(frozen=True, slots=True)
class Principal:
    workspace_id: int
    role: Role
    restrictions: Restrictions
    user_id: int | None = None
    token_id: int | None = None
    team_id: int | None = None

    @property
    def actor(self) -> Actor:
        if self.token_id is not None:
            return Actor.api(self.token_id)
        assert self.user_id is not None
        return Actor.user(self.user_id)

    @property
    def is_manager_or_owner(self) -> bool:
        return self.role in ("owner", "manager")

    def require_manager(self, flag: ManagerFlag | None = None) -> None:
        """Owners pass; Managers pass unless `flag` restricts them; Agents never pass (CRM-ROLE-01)."""
        if self.role == "owner":
            return
        if self.role == "manager":
            if flag is not None and getattr(self.restrictions, flag):
                raise PermissionDenied("Your role is restricted from this action", error="restricted")
            return
        raise PermissionDenied("This action needs the Owner or Manager role", error="role_required")

    def require_owner(self) -> None:
        if self.role != "owner":
            raise PermissionDenied("This action needs the Owner role", error="role_required")

    def require_user(self) -> int:
        """The acting user's id; API tokens are refused."""
        if self.user_id is None:
            raise PermissionDenied(
                "This action needs a signed-in user, not an API token", error="user_required"
            )
        return self.user_id
