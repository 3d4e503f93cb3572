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
        try:
            return self._argon2.verify(password_hash or self._dummy, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False
