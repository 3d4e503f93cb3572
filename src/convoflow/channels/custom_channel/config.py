"""What a user enters to connect a custom channel."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator


class CustomChannelCredentials(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    outbound_url: str = Field(
        max_length=2048, description="Where convoflow POSTs outgoing messages (http or https)"
    )
    signing_secret: str = Field(
        min_length=32,
        max_length=256,
        description="Shared secret of the HMAC-SHA256 signatures, in both directions (32+ characters)",
    )

    @field_validator("outbound_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("outbound_url must be an http or https URL with a host")
        return value
