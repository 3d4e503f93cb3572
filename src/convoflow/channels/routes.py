"""/api/channels: the workspace's channels (connecting providers arrives with each adapter)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from convoflow.api.deps import PrincipalDep, SessionDep
from convoflow.channels import service

router = APIRouter(tags=["channels"])


class ChannelRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    name: str
    state: str
    created_at: datetime


@router.get("/channels", response_model=list[ChannelRead])
def list_channels(principal: PrincipalDep, session: SessionDep) -> list[ChannelRead]:
    return [
        ChannelRead.model_validate(c)
        for c in service.list_channels(session, workspace_id=principal.workspace_id)
    ]
