"""Channels of a workspace (CRM-CHAN-01). Connecting real providers lives with each adapter."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from convoflow.channels.kinds import CHANNEL_KINDS
from convoflow.channels.models import Channel
from convoflow.db.session import now
from convoflow.errors import Conflict, NotFound, field_error
from convoflow.validators import clean_name, fold

MAX_NAME_LENGTH = 100


def create_channel(
    session: Session,
    *,
    workspace_id: int,
    kind: str,
    name: str,
    config: dict[str, Any] | None = None,
    sealed_secrets: str | None = None,
) -> Channel:
    """CRM-CHAN-01: the name (1-100 characters, our decision) is unique in the workspace ignoring case."""
    if kind not in CHANNEL_KINDS:
        raise field_error("kind", f"kind must be one of {', '.join(CHANNEL_KINDS)}")
    name = unique_name(session, workspace_id=workspace_id, name=name)
    channel = Channel(
        workspace_id=workspace_id,
        kind=kind,
        name=name,
        name_norm=fold(name),
        token=secrets.token_urlsafe(24),
        config=config or {},
        secrets=sealed_secrets,
        state="connected",
        created_at=now(session),
    )
    session.add(channel)
    session.flush()
    return channel


def unique_name(session: Session, *, workspace_id: int, name: str, channel_id: int | None = None) -> str:
    """The cleaned name, unless it is invalid (422) or another channel of the workspace has it (409)."""
    try:
        name = clean_name(name, field="name", max_length=MAX_NAME_LENGTH)
    except ValueError as exc:
        raise field_error("name", str(exc)) from None
    taken = select(Channel.id).where(Channel.workspace_id == workspace_id, Channel.name_norm == fold(name))
    if channel_id is not None:
        taken = taken.where(Channel.id != channel_id)
    if session.scalar(taken) is not None:
        raise Conflict(f"A channel named {name!r} already exists", error="channel_name_taken")
    return name


def get_channel(session: Session, *, workspace_id: int, channel_id: int) -> Channel:
    channel = session.scalar(
        select(Channel).where(Channel.id == channel_id, Channel.workspace_id == workspace_id)
    )
    if channel is None:
        raise NotFound("Channel not found")
    return channel


def list_channels(session: Session, *, workspace_id: int) -> Sequence[Channel]:
    return session.scalars(
        select(Channel).where(Channel.workspace_id == workspace_id).order_by(Channel.id)
    ).all()
