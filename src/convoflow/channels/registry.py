"""Adapters by channel kind, built once by bootstrap, and each channel's decrypted configuration."""

from __future__ import annotations

from convoflow.channels.base import ChannelAdapter, ChannelConfig
from convoflow.channels.credentials import SecretBox
from convoflow.channels.models import Channel


class AdapterRegistry:
    def __init__(self, adapters: list[ChannelAdapter], *, secrets: SecretBox) -> None:
        self._by_kind = {adapter.kind: adapter for adapter in adapters}
        self.secrets = secrets

    def get(self, kind: str) -> ChannelAdapter | None:
        return self._by_kind.get(kind)

    @property
    def kinds(self) -> tuple[str, ...]:
        """The kinds that can be connected: those with an adapter."""
        return tuple(self._by_kind)

    def config_for(self, channel: Channel) -> ChannelConfig:
        """What the channel's adapter needs; raises CredentialsUnreadable after a secret key change."""
        return ChannelConfig(
            channel_id=channel.id,
            settings=dict(channel.config),
            secrets=self.secrets.open(channel.secrets),
        )
