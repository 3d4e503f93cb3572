"""Password hashing with argon2id."""

from __future__ import annotations

from argon2 import PasswordHasher as _Argon2
from argon2.exceptions import InvalidHashError, VerificationError

from convoflow.settings import PasswordHashing

MIN_LENGTH = 8
MAX_LENGTH = 1024  # bounds the hashing work an attacker can ask for


def check_password_policy(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise ValueError(f"password must be at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise ValueError(f"password must be at most {MAX_LENGTH} characters")
    return password


class PasswordHasher:
    def __init__(self, params: PasswordHashing) -> None:
        self._argon2 = _Argon2(
            time_cost=params.time_cost, memory_cost=params.memory_kib, parallelism=params.parallelism
        )
        # Verifying against this when the email is unknown keeps login timing uniform.
        self._dummy = self._argon2.hash("convoflow-dummy-password")

    def hash(self, password: str) -> str:
        return self._argon2.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """True only when `password` matches a real stored hash; a missing hash never matches."""
        if not password_hash:
            # Hash anyway so an unknown email costs as much as a known one, then refuse.
            self._check(self._dummy, password)
            return False
        return self._check(password_hash, password)

    def _check(self, password_hash: str, password: str) -> bool:
        try:
            return self._argon2.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False
