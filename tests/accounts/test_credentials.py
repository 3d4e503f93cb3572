"""Secrets, digests and the API token format (CRM-TOKEN-01: stored hashed, shown once)."""

from __future__ import annotations

import hashlib

import pytest

from convoflow.accounts import credentials


def test_new_secret_is_random_url_safe_and_long() -> None:
    secrets = {credentials.new_secret() for _ in range(20)}
    assert len(secrets) == 20
    for secret in secrets:
        assert len(secret) >= 43  # 32 bytes, base64url without padding
        assert set(secret) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_digest_is_sha256_hex_and_matches_only_the_same_secret() -> None:
    assert credentials.digest("abc") == hashlib.sha256(b"abc").hexdigest()
    assert len(credentials.digest("x")) == 64
    stored = credentials.digest("s3cret")
    assert credentials.matches("s3cret", stored)
    assert not credentials.matches("s3cret ", stored)
    assert not credentials.matches("", stored)


def test_token_prefix_is_12_lower_alphanumerics() -> None:
    prefixes = {credentials.new_token_prefix() for _ in range(20)}
    assert len(prefixes) == 20
    for prefix in prefixes:
        assert len(prefix) == 12 and prefix.isalnum() and prefix == prefix.lower()


def test_format_and_parse_round_trip() -> None:
    # CRM-TOKEN-01: cfk_<12-char prefix>_<secret>; the secret itself may contain underscores.
    prefix, secret = credentials.new_token_prefix(), "ab_cd-ef_"
    raw = credentials.format_api_token(prefix, secret)
    assert raw == f"cfk_{prefix}_{secret}"
    assert credentials.parse_api_token(raw) == (prefix, secret)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "cfk",
        "cfk_abcdefghijkl",
        "cfk_abcdefghijkl_",
        "cfk_short_secret",
        "cfk_abcdefghijklm_secret",
        "xyz_abcdefghijkl_secret",
        "CFK_abcdefghijkl_secret",
        "abcdefghijkl_secret",
    ],
)
def test_malformed_tokens_do_not_parse(raw: str) -> None:
    assert credentials.parse_api_token(raw) is None
