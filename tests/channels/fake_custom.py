"""A fake external system behind a custom channel: it checks our signature and answers `{"mId": ...}`.

It honours the idempotency key as a well-behaved receiver would: a redelivery gets the first answer's id.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from convoflow.channels.base import InvalidSignature, RawRequest
from convoflow.channels.custom_channel import signing
from tests.channels.fake_server import Answer, FakeServer, Recorded, json_answer

SECRET = "s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t-0123"
PATH = "/convoflow/outgoing"


class FakeCustomSystem(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.forget()

    def forget(self) -> None:
        self._ids = itertools.count(1)
        self._by_key: dict[str, str] = {}

    @property
    def outbound_url(self) -> str:
        return self.url + PATH

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The bodies of the outgoing messages received (those answered 2xx or not)."""
        return [request.json() for request in self.to(PATH)]

    def respond(self, request: Recorded) -> Answer:
        raw = RawRequest(request.method, request.headers, request.body)
        try:
            signing.check(raw, secret=SECRET, now=_signed_at(request))
        except InvalidSignature as exc:  # the fake refuses what a real receiver would
            return json_answer(401, {"error": str(exc)})
        key = request.headers.get(signing.IDEMPOTENCY_HEADER.lower(), "")
        if key not in self._by_key:
            self._by_key[key] = f"ext-{next(self._ids)}"
        return json_answer(200, {"mId": self._by_key[key]})


def _signed_at(request: Recorded) -> datetime:
    """The fake takes the request's own time as now: tests move a FakeClock, not the wall clock."""
    stamp = request.headers.get(signing.TIMESTAMP_HEADER.lower(), "0")
    return datetime.fromtimestamp(int(stamp) if stamp.isdigit() else 0, UTC)
