"""Connecting, updating and disconnecting channels (CRM-CHAN-01): Owners and Managers only.

These verbs validate and store. The provider itself (webhook registration) is called by the route
between two transactions, since no transaction stays open while a provider is called (DESIGN §1).
Credentials are sealed with the instance key before they reach the session and never leave it in clear.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from convoflow.accounts.principal import Principal
from convoflow.channels import service
from convoflow.channels.base import WEBHOOK_SECRET
from convoflow.channels.credentials import SecretBox
from convoflow.channels.kinds import CHANNEL_KINDS
from convoflow.channels.models import Channel
from convoflow.errors import InvalidInput, field_error
from convoflow.validators import fold


def webhook_path(channel: Channel) -> str:
    """Where the provider posts this channel's updates (`channels/hook_routes.py`)."""
    return f"/hooks/channels/{channel.id}/{channel.token}"


def check_kind(principal: Principal, *, kind: str, available: Collection[str]) -> None:
    """Only Owners and Managers connect channels, and only of a kind with an adapter."""
    principal.require_manager("restrict_space_setting")
    if kind not in CHANNEL_KINDS:
        raise field_error("kind", f"kind must be one of {', '.join(CHANNEL_KINDS)}")
    if kind not in available:
        raise field_error(
            "kind", f"{kind} channels cannot be connected yet", error="channel_kind_unavailable"
        )


def validate_credentials(model: type[BaseModel], raw: Mapping[str, Any]) -> dict[str, str]:
    """The credentials checked by the kind's model, plus a fresh webhook secret; 422 naming each field."""
    try:
        parsed = model.model_validate(dict(raw))
    except ValidationError as exc:
        details = [
            {"field": ".".join(["credentials", *map(str, error["loc"])]), "message": error["msg"]}
            for error in exc.errors()
        ]
        raise InvalidInput(
            "The channel's credentials are not valid", error="invalid_credentials", details=details
        ) from None
    values = {key: str(value) for key, value in parsed.model_dump(exclude_none=True).items()}
    # A new secret with every set of credentials: another bot left pointing at our URL is then refused.
    values[WEBHOOK_SECRET] = secrets.token_urlsafe(32)
    return values


def check_name(session: Session, principal: Principal, *, name: str, channel_id: int | None = None) -> str:
    """The cleaned name, checked before any provider is called (422 invalid, 409 taken)."""
    principal.require_manager("restrict_space_setting")
    return service.unique_name(session, workspace_id=principal.workspace_id, name=name, channel_id=channel_id)


def add_channel(
    session: Session,
    principal: Principal,
    *,
    kind: str,
    name: str,
    credentials: Mapping[str, str],
    box: SecretBox,
) -> Channel:
    """A new channel with its sealed credentials; the route then registers its webhook."""
    principal.require_manager("restrict_space_setting")
    return service.create_channel(
        session,
        workspace_id=principal.workspace_id,
        kind=kind,
        name=name,
        sealed_secrets=box.seal(credentials),
    )


def managed_channel(session: Session, principal: Principal, *, channel_id: int) -> Channel:
    """A channel of the caller's workspace, for an Owner or a Manager."""
    principal.require_manager("restrict_space_setting")
    return service.get_channel(session, workspace_id=principal.workspace_id, channel_id=channel_id)


def connected(session: Session, channel: Channel, *, settings: Mapping[str, Any]) -> Channel:
    """The provider accepted the channel: keep what it told (the bot's name) and mark it connected."""
    channel.config = {**channel.config, **settings}
    channel.state = "connected"
    session.flush()
    return channel


def abandon(session: Session, *, channel_id: int) -> None:
    """Forgets a channel created a moment ago whose provider refused the connection: nothing is kept.

    It can hold no message or identity yet, since the provider never learnt its webhook.
    """
    channel = session.get(Channel, channel_id)
    if channel is not None:
        session.delete(channel)
        session.flush()


def update_channel(
    session: Session,
    principal: Principal,
    *,
    channel_id: int,
    name: str | None = None,
    credentials: Mapping[str, str] | None = None,
    settings: Mapping[str, Any] | None = None,
    box: SecretBox,
) -> Channel:
    """Renames the channel and/or stores new credentials the provider accepted (reconnecting it)."""
    channel = managed_channel(session, principal, channel_id=channel_id)
    if name is not None:
        channel.name = check_name(session, principal, name=name, channel_id=channel.id)
        channel.name_norm = fold(channel.name)
    if credentials is not None:
        channel.secrets = box.seal(credentials)
        connected(session, channel, settings=settings or {})
    session.flush()
    return channel


def disconnect_channel(session: Session, principal: Principal, *, channel_id: int) -> Channel:
    """CRM-CHAN-01: the channel stays with its history, its credentials are erased, it stops working:
    its webhook answers 410 and sends from it fail."""
    channel = managed_channel(session, principal, channel_id=channel_id)
    channel.state = "disconnected"
    channel.secrets = None
    session.flush()
    return channel
