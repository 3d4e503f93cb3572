"""Password policy and argon2id verification."""

from __future__ import annotations

import pytest

from convoflow.accounts.passwords import MAX_LENGTH, MIN_LENGTH, PasswordHasher, check_password_policy
from convoflow.settings import PasswordHashing

FAST = PasswordHashing(time_cost=1, memory_kib=8, parallelism=1)


@pytest.fixture(scope="module")
def hasher() -> PasswordHasher:
    return PasswordHasher(FAST)


def test_policy_bounds_length() -> None:
    assert check_password_policy("x" * MIN_LENGTH) == "x" * MIN_LENGTH
    assert check_password_policy("ñ" * MAX_LENGTH) == "ñ" * MAX_LENGTH
    with pytest.raises(ValueError, match="at least 8"):
        check_password_policy("x" * (MIN_LENGTH - 1))
    with pytest.raises(ValueError, match="at most 1024"):
        check_password_policy("x" * (MAX_LENGTH + 1))


def test_hash_is_argon2id_salted_and_verifies(hasher: PasswordHasher) -> None:
    first, second = hasher.hash("correct horse"), hasher.hash("correct horse")
    assert first.startswith("$argon2id$")
    assert first != second  # salted
    assert "correct horse" not in first
    assert hasher.verify(first, "correct horse")
    assert hasher.verify(second, "correct horse")


def test_wrong_password_does_not_verify(hasher: PasswordHasher) -> None:
    stored = hasher.hash("correct horse")
    assert not hasher.verify(stored, "correct horsE")
    assert not hasher.verify(stored, "")


def test_missing_or_invalid_hash_never_verifies(hasher: PasswordHasher) -> None:
    # An unknown email verifies against a dummy hash (uniform timing) but must still fail,
    # even with the dummy's own password.
    assert not hasher.verify(None, "convoflow-dummy-password")
    assert not hasher.verify(None, "anything at all")
    assert not hasher.verify("", "convoflow-dummy-password")
    assert not hasher.verify("not a hash", "correct horse")
    assert not hasher.verify("$2b$12$abcdefghijklmnopqrstuuSGZq3Qwz6QOQoF1wY3x0XyN1Xb3H4i6", "correct horse")
