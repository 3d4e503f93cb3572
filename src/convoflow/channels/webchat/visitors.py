"""Visitor tokens: who a widget speaks for, so one visitor can neither read nor post as another.

The server picks the visitor id (random, 144 bits) and signs it with HMAC-SHA256 under a key derived
from the instance secret key and bound to the channel. The widget keeps the token in local storage and
shows it on every request. A client-chosen id signed on demand would make the id alone the secret; a
server-chosen one means a forged or borrowed id is worth nothing without the signature.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from functools import cached_property

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from convoflow.channels.base import InvalidSignature

_INFO = b"convoflow webchat visitor tokens v1"
_VISITOR_ID = re.compile(r"^[A-Za-z0-9_-]{24}$")
MAX_TOKEN_LENGTH = 128


class VisitorKeys:
    """Issues and checks visitor tokens `"{visitor_id}.{signature}"`; the key is read on first use."""

    def __init__(self, secret_key: Callable[[], str]) -> None:
        self._secret_key = secret_key

    @cached_property
    def _key(self) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
            self._secret_key().encode()
        )

    def _signature(self, channel_id: int, visitor_id: str) -> str:
        digest = hmac.new(self._key, f"{channel_id}:{visitor_id}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def issue(self, channel_id: int) -> str:
        """A token for a new visitor of the channel."""
        visitor_id = secrets.token_urlsafe(18)
        return f"{visitor_id}.{self._signature(channel_id, visitor_id)}"

    def visitor_of(self, channel_id: int, token: str | None) -> str:
        """The visitor id in a token; InvalidSignature when it is missing, forged or another channel's."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise InvalidSignature("Missing or malformed visitor token")
        visitor_id, _, signature = token.partition(".")
        if not _VISITOR_ID.match(visitor_id):
            raise InvalidSignature("Missing or malformed visitor token")
        expected = self._signature(channel_id, visitor_id)
        if not hmac.compare_digest(signature.encode(), expected.encode()):
            raise InvalidSignature("The visitor token is not valid for this chat")
        return visitor_id


def bearer(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header."""
    if authorization is None:
        return None
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None
