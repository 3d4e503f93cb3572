"""The built-in test channel: in-process, records what it is asked to send, fails on demand.

It lets the engine run end to end before real providers are connected (and in tests and benchmarks).
Sends are de-duplicated by idempotency key, as a provider honouring the key would.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass
from typing import Any, ClassVar

from convoflow.channels.base import OutboundMessage, SendFailed, SendResult, TransientSendFailure


@dataclass(frozen=True)
class Sent:
    channel_id: int
    external_id: str | None
    content: dict[str, Any]
    idempotency_key: str
    provider_message_id: str


class TestChannelHub:
    """Shared by every test-channel adapter of the process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sent: list[Sent] = []
        self._by_key: dict[str, Sent] = {}
        self._failures: list[Exception] = []
        self._ids = itertools.count(1)

    def fail_next(
        self, count: int = 1, *, transient: bool = False, reason: str = "refused by the test channel"
    ) -> None:
        with self._lock:
            for _ in range(count):
                self._failures.append(TransientSendFailure(reason) if transient else SendFailed(reason))

    def record(self, message: OutboundMessage, key: str) -> SendResult:
        with self._lock:
            if self._failures:
                raise self._failures.pop(0)
            known = self._by_key.get(key)
            if known is None:
                known = Sent(
                    message.channel_id, message.external_id, message.content, key, f"test-{next(self._ids)}"
                )
                self._sent.append(known)
                self._by_key[key] = known
            return SendResult(known.provider_message_id)

    @property
    def sent(self) -> list[Sent]:
        with self._lock:
            return list(self._sent)

    def clear(self) -> None:
        with self._lock:
            self._sent.clear()
            self._by_key.clear()
            self._failures.clear()


class TestChannelAdapter:
    kind: ClassVar[str] = "test"
    __test__ = False  # not a pytest test class

    def __init__(self, hub: TestChannelHub) -> None:
        self.hub = hub

    async def send(
        self, message: OutboundMessage, *, config: dict[str, Any], idempotency_key: str
    ) -> SendResult:
        return self.hub.record(message, idempotency_key)
