"""HMAC-SHA256 signatures of inbound email webhooks: the custom channel's scheme, so one forwarder fits both.

`X-Convoflow-Timestamp` carries the Unix time in seconds and `X-Convoflow-Signature` is
`sha256=` + hex(HMAC-SHA256(inbound_secret, "{timestamp}." + raw email)). A request signed more than 5
minutes from our clock is refused as a replay; within the window the Message-ID makes it a duplicate.
(Adapters import only the protocol and their own package, so the scheme is repeated here, not shared.)
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from convoflow.channels.base import InvalidSignature, RawRequest

TIMESTAMP_HEADER = "X-Convoflow-Timestamp"
SIGNATURE_HEADER = "X-Convoflow-Signature"
REPLAY_WINDOW = timedelta(minutes=5)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def headers(secret: str, now: datetime, body: bytes) -> dict[str, str]:
    """The signature headers of a request sent now (what a forwarder adds)."""
    timestamp = int(now.timestamp())
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: signature(secret, timestamp, body)}


def check(request: RawRequest, *, secret: str, now: datetime) -> None:
    """InvalidSignature unless the request is signed with `secret` within the replay window."""
    raw_timestamp = request.header(TIMESTAMP_HEADER)
    given = request.header(SIGNATURE_HEADER)
    if not secret or not raw_timestamp or not given:
        raise InvalidSignature(f"Missing {TIMESTAMP_HEADER} or {SIGNATURE_HEADER} header")
    if not (raw_timestamp.isascii() and raw_timestamp.isdigit() and len(raw_timestamp) <= 12):
        raise InvalidSignature(f"{TIMESTAMP_HEADER} must be a Unix time in seconds")
    timestamp = int(raw_timestamp)
    if not hmac.compare_digest(given.strip().encode(), signature(secret, timestamp, request.body).encode()):
        raise InvalidSignature(f"Wrong {SIGNATURE_HEADER}")
    if abs(now.timestamp() - timestamp) > REPLAY_WINDOW.total_seconds():
        raise InvalidSignature(
            f"{TIMESTAMP_HEADER} is more than 5 minutes away from now "
            "(a replayed request, or a clock out of sync)"
        )
