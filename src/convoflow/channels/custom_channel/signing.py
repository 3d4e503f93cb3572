"""HMAC-SHA256 signatures of custom-channel requests, the same in both directions.

`X-Convoflow-Timestamp` carries the Unix time in seconds and `X-Convoflow-Signature` is
`sha256=` + hex(HMAC-SHA256(secret, "{timestamp}." + body)). Signing the timestamp with the body lets the
receiver refuse a captured request replayed later: one outside the window is refused, and within it the
message id makes a replay a duplicate.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from convoflow.channels.base import InvalidSignature, RawRequest

TIMESTAMP_HEADER = "X-Convoflow-Timestamp"
SIGNATURE_HEADER = "X-Convoflow-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAY_WINDOW = timedelta(minutes=5)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def headers(secret: str, now: datetime, body: bytes) -> dict[str, str]:
    """The signature headers of a request sent now."""
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
    expected = signature(secret, timestamp, request.body)
    if not hmac.compare_digest(given.strip().encode(), expected.encode()):
        raise InvalidSignature(f"Wrong {SIGNATURE_HEADER}")
    if abs(now.timestamp() - timestamp) > REPLAY_WINDOW.total_seconds():
        raise InvalidSignature(
            f"{TIMESTAMP_HEADER} is more than {int(REPLAY_WINDOW.total_seconds() // 60)} minutes "
            "away from now (a replayed request, or a clock out of sync)"
        )
