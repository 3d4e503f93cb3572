"""/api/channels: every member lists the workspace's channels; Owners and Managers connect, update
and disconnect them (CRM-CHAN-01, CRM-ROLE-01).

The provider is called between transactions: the new channel is committed, then its webhook is
registered, and a refusal removes the channel again, so a failed connect leaves nothing behind.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import anyio.from_thread
from fastapi import APIRouter, status

from convoflow.api.deps import ContainerDep, PrincipalDep, SessionDep
from convoflow.api.ids import Id
from convoflow.bootstrap import Container
from convoflow.channels import connections, service
from convoflow.channels.base import ChannelAdapter, ChannelConfig, ConnectFailed
from convoflow.channels.credentials import CredentialsUnreadable
from convoflow.channels.models import Channel
from convoflow.channels.schemas import ChannelCreate, ChannelDetail, ChannelRead, ChannelUpdate
from convoflow.errors import InvalidInput, field_error

router = APIRouter(tags=["channels"])
T = TypeVar("T")


def _provider(call: Callable[..., Coroutine[Any, Any, T]], *args: Any, **kwargs: Any) -> T:
    """Runs an adapter's coroutine on the app's event loop from this worker thread."""
    return anyio.from_thread.run(functools.partial(call, *args, **kwargs))


def _detail(channel: Channel, container: Container) -> ChannelDetail:
    path = connections.webhook_path(channel)
    return ChannelDetail(
        id=channel.id,
        kind=channel.kind,
        name=channel.name,
        state=channel.state,
        created_at=channel.created_at,
        settings=dict(channel.config),
        webhook_path=path,
        webhook_url=container.settings.public_base_url + path,
        has_credentials=channel.secrets is not None,
    )


def _connect(adapter: ChannelAdapter, config: ChannelConfig, url: str) -> dict[str, Any]:
    try:
        return _provider(adapter.connect, config, webhook_url=url)
    except ConnectFailed as exc:
        raise InvalidInput(
            f"The provider refused the channel: {exc}", error="channel_connect_failed"
        ) from None


@router.get("/channels", response_model=list[ChannelRead])
def list_channels(principal: PrincipalDep, session: SessionDep) -> list[ChannelRead]:
    return [
        ChannelRead.model_validate(c)
        for c in service.list_channels(session, workspace_id=principal.workspace_id)
    ]


@router.post("/channels", response_model=ChannelDetail, status_code=status.HTTP_201_CREATED)
def connect_channel(
    body: ChannelCreate, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> ChannelDetail:
    """Connects a channel: checks its credentials with the provider and registers our webhook there."""
    registry = container.adapters
    connections.check_kind(principal, kind=body.kind, available=registry.kinds)
    adapter = registry.get(body.kind)
    assert adapter is not None
    credentials = connections.validate_credentials(adapter.credentials_model, body.credentials)
    channel = connections.add_channel(
        session, principal, kind=body.kind, name=body.name, credentials=credentials, box=registry.secrets
    )
    session.commit()
    url = container.settings.public_base_url + connections.webhook_path(channel)
    try:
        settings = _connect(adapter, registry.config_for(channel), url)
    except InvalidInput:
        connections.abandon(session, channel_id=channel.id)
        session.commit()
        raise
    connections.connected(session, channel, settings=settings)
    session.commit()
    return _detail(channel, container)


@router.get("/channels/{channel_id}", response_model=ChannelDetail)
def get_channel(
    channel_id: Id, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> ChannelDetail:
    channel = connections.managed_channel(session, principal, channel_id=channel_id)
    return _detail(channel, container)


@router.patch("/channels/{channel_id}", response_model=ChannelDetail)
def update_channel(
    channel_id: Id,
    body: ChannelUpdate,
    principal: PrincipalDep,
    session: SessionDep,
    container: ContainerDep,
) -> ChannelDetail:
    """Renames the channel and/or connects it again with new credentials (also after a disconnect)."""
    registry = container.adapters
    channel = connections.managed_channel(session, principal, channel_id=channel_id)
    if body.name is not None:
        connections.check_name(session, principal, name=body.name, channel_id=channel.id)
    credentials = settings = None
    if body.credentials is not None:
        adapter = registry.get(channel.kind)
        if adapter is None:
            raise field_error("credentials", f"{channel.kind} channels cannot be connected yet")
        credentials = connections.validate_credentials(adapter.credentials_model, body.credentials)
        session.commit()  # no transaction stays open while the provider is called
        config = ChannelConfig(channel.id, dict(channel.config), credentials)
        url = container.settings.public_base_url + connections.webhook_path(channel)
        settings = _connect(adapter, config, url)
    channel = connections.update_channel(
        session,
        principal,
        channel_id=channel_id,
        name=body.name,
        credentials=credentials,
        settings=settings,
        box=registry.secrets,
    )
    session.commit()
    return _detail(channel, container)


@router.delete("/channels/{channel_id}", response_model=ChannelDetail)
def disconnect_channel(
    channel_id: Id, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> ChannelDetail:
    """Disconnects the channel (CRM-CHAN-01): history stays, credentials go, the provider is told."""
    registry = container.adapters
    channel = connections.managed_channel(session, principal, channel_id=channel_id)
    adapter = registry.get(channel.kind)
    config = None
    if channel.state != "disconnected":
        try:
            config = registry.config_for(channel)
        except CredentialsUnreadable:
            config = None  # nothing to tell the provider with
    channel = connections.disconnect_channel(session, principal, channel_id=channel_id)
    session.commit()
    if adapter is not None and config is not None:
        _provider(adapter.disconnect, config)
    return _detail(channel, container)
