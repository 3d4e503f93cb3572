"""Channel credentials encrypted at rest (CRM-CHAN-01), with a key derived from the instance secret key.

Fernet (AES-128-CBC with HMAC-SHA256) seals one JSON object of strings per channel. The key is derived
with HKDF-SHA256 from `CONVOFLOW_SECRET_KEY`, so the database alone reveals no bot token or access
token, and changing the secret key makes stored credentials unreadable (they must be entered again).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from functools import cached_property

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_INFO = b"convoflow channel credentials v1"


class CredentialsUnreadable(Exception):
    """Stored credentials cannot be decrypted: the secret key changed since they were saved."""


class SecretBox:
    """Seals and opens channel credentials. The key is read on first use, not at construction."""

    def __init__(self, secret_key: Callable[[], str]) -> None:
        self._secret_key = secret_key

    @cached_property
    def _fernet(self) -> Fernet:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
            self._secret_key().encode()
        )
        return Fernet(base64.urlsafe_b64encode(derived))

    def seal(self, values: Mapping[str, str]) -> str:
        """The ciphertext of `values` (a fresh random IV each time)."""
        return self._fernet.encrypt(json.dumps(dict(values), sort_keys=True).encode()).decode()

    def open(self, sealed: str | None) -> dict[str, str]:
        """The credentials sealed in `sealed`; {} for a channel without any."""
        if not sealed:
            return {}
        try:
            values = json.loads(self._fernet.decrypt(sealed.encode()))
        except InvalidToken:
            raise CredentialsUnreadable(
                "The channel's credentials cannot be decrypted (was the secret key changed?); "
                "enter them again"
            ) from None
        return {str(key): str(value) for key, value in values.items()}
