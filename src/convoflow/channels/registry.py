"""Adapters by channel kind, built once by bootstrap."""

from __future__ import annotations

from convoflow.channels.base import ChannelAdapter


class AdapterRegistry:
    def __init__(self, adapters: list[ChannelAdapter]) -> None:
        self._by_kind = {adapter.kind: adapter for adapter in adapters}

    def get(self, kind: str) -> ChannelAdapter | None:
        return self._by_kind.get(kind)
