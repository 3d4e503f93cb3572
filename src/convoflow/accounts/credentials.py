"""Random secrets and their stored digests (session cookies, CSRF, invitations, API tokens)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string

_ALPHANUMERIC = string.ascii_lowercase + string.digits
API_TOKEN_PREFIX = "cfk"


def new_secret() -> str:
    """256 bits, URL-safe."""
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """SHA-256 hex. Enough for 256-bit random secrets; argon2 is for human passwords."""
    return hashlib.sha256(secret.encode()).hexdigest()


def matches(secret: str, stored_digest: str) -> bool:
    return hmac.compare_digest(digest(secret), stored_digest)


def new_token_prefix() -> str:
    return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(12))


def format_api_token(prefix: str, secret: str) -> str:
    return f"{API_TOKEN_PREFIX}_{prefix}_{secret}"


def parse_api_token(raw: str) -> tuple[str, str] | None:
    """(prefix, secret) of a well-formed token, else None."""
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != API_TOKEN_PREFIX or len(parts[1]) != 12 or not parts[2]:
        return None
    return parts[1], parts[2]
