"""The built-in test channel: in-process, records what it is asked to send, fails on demand.

It lets the engine run end to end before real providers are connected (and in tests and benchmarks).
Sends are de-duplicated by idempotency key, as a provider honouring the key would.
"""

from __future__ import annotations

import fcntl
import json
import threading
from collections import OrderedDict, deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from convoflow.channels.base import (
    Capabilities,
    ChannelConfig,
    InboundItem,
    InboundMessage,
    MalformedPayload,
    NoCredentials,
    OutboundMessage,
    RawRequest,
    ReceiptStatus,
    SenderProfile,
    SendFailed,
    SendResult,
    StatusReceipt,
    TransientSendFailure,
)

KEEP = 10_000  # sends remembered in memory (all of them go to the journal when there is one)


@dataclass(frozen=True)
class Sent:
    channel_id: int
    external_id: str | None
    content: dict[str, Any]
    idempotency_key: str
    provider_message_id: str


class TestChannelHub:
    """Shared by every test-channel adapter of the process.

    With a `journal` file, every accepted send is appended to it as one JSON line under an exclusive
    file lock, and a key already in the file is not sent again: several worker processes then behave
    as one provider honouring idempotency keys, and the file survives a killed process.
    """

    def __init__(self, journal: Path | None = None) -> None:
        self.journal = journal
        self._lock = threading.Lock()
        # A long-running server keeps only the latest sends: the channel must not grow without bound.
        self._sent: deque[Sent] = deque(maxlen=KEEP)
        self._by_key: OrderedDict[str, Sent] = OrderedDict()
        self._failures: list[Exception] = []

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
                # The provider id derives from the key: unique across processes, the same on a re-delivery.
                known = Sent(message.channel_id, message.external_id, message.content, key, f"test-{key}")
                if self.journal is None or _append_once(self.journal, known):
                    self._sent.append(known)
                self._by_key[key] = known
                if len(self._by_key) > KEEP:
                    self._by_key.popitem(last=False)
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


def _append_once(journal: Path, sent: Sent) -> bool:
    """Appends `sent` unless its key is already in the journal; True when appended."""
    with journal.open("a+", encoding="utf-8") as file:
        fcntl.flock(file, fcntl.LOCK_EX)
        file.seek(0)
        if any(json.loads(line)["key"] == sent.idempotency_key for line in file if line.strip()):
            return False
        line = {"key": sent.idempotency_key, "external_id": sent.external_id, "content": sent.content}
        file.write(json.dumps(line) + "\n")
        file.flush()
        return True


def read_journal(journal: Path) -> list[dict[str, Any]]:
    """The sends recorded in a journal file, oldest first."""
    if not journal.exists():
        return []
    lines = journal.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


class _TestMessage(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str = Field(min_length=1, max_length=255)
    sender: str = Field(alias="from", min_length=1, max_length=255)
    content: dict[str, Any]
    first_name: str | None = None


class _TestReceipt(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=255)
    status: ReceiptStatus
    reason: str | None = None


class _TestWebhook(BaseModel):
    """`{"messages": [{"id", "from", "content", "first_name"?}], "receipts": [{"id", "status"}]}`."""

    model_config = ConfigDict(extra="forbid")

    messages: list[_TestMessage] = Field(default_factory=list)
    receipts: list[_TestReceipt] = Field(default_factory=list)


class TestChannelAdapter:
    kind: ClassVar[str] = "test"
    capabilities: ClassVar[Capabilities] = Capabilities(media=True, quick_replies=True, location=True)
    credentials_model: ClassVar[type[BaseModel]] = NoCredentials
    __test__ = False  # not a pytest test class

    def __init__(self, hub: TestChannelHub) -> None:
        self.hub = hub

    def verify(self, request: RawRequest, config: ChannelConfig) -> None:
        """The test channel's webhook is authenticated by the random token in its URL alone."""

    def parse(self, request: RawRequest, config: ChannelConfig) -> list[InboundItem]:
        """Messages and receipts in the test channel's own JSON shape (see `_TestWebhook`)."""
        try:
            webhook = _TestWebhook.model_validate(request.json())
        except ValidationError as exc:
            raise MalformedPayload(f"Not a test channel webhook: {exc.error_count()} problems") from None
        items: list[InboundItem] = [
            InboundMessage(m.sender, m.id, m.content, SenderProfile(first_name=m.first_name))
            for m in webhook.messages
        ]
        items.extend(StatusReceipt(r.id, r.status, r.reason) for r in webhook.receipts)
        return items

    async def send(
        self, message: OutboundMessage, *, config: ChannelConfig, idempotency_key: str
    ) -> SendResult:
        return self.hub.record(message, idempotency_key)

    async def connect(self, config: ChannelConfig, *, webhook_url: str) -> dict[str, Any]:
        return {}

    async def disconnect(self, config: ChannelConfig) -> None:
        return None
