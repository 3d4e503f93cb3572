"""What a user enters to connect a mailbox: the SMTP account that sends and the inbound webhook's secret."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, ConfigDict, Field, field_validator

Security = Literal["starttls", "tls", "none"]


class EmailCredentials(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    smtp_host: str = Field(min_length=1, max_length=255, description="The SMTP server's host name")
    smtp_port: int = Field(587, ge=1, le=65535, description="587 for STARTTLS, 465 for TLS, 25 for none")
    smtp_security: Security = Field(
        "starttls", description="starttls (upgrade after connecting), tls (implicit TLS) or none"
    )
    smtp_username: str | None = Field(None, max_length=320, description="SMTP login, when the server asks")
    smtp_password: str | None = Field(None, max_length=1024, description="SMTP password or app password")
    from_address: str = Field(max_length=320, description="The mailbox that sends and receives")
    from_name: str | None = Field(None, max_length=200, description="The display name beside it")
    default_subject: str | None = Field(
        None,
        max_length=200,
        description="Subject of emails that start a thread (default: 'Message from <name>')",
    )
    inbound_secret: str = Field(
        min_length=32,
        max_length=256,
        description="Shared secret that signs inbound webhook requests (HMAC-SHA256, 32+ characters)",
    )

    @field_validator("from_address")
    @classmethod
    def _address(cls, value: str) -> str:
        try:
            return validate_email(value, check_deliverability=False).normalized.lower()
        except EmailNotValidError as exc:
            raise ValueError(f"from_address is not an email address: {exc}") from None

    @field_validator("smtp_host")
    @classmethod
    def _host(cls, value: str) -> str:
        if any(char.isspace() or char in "/@" for char in value):
            raise ValueError("smtp_host must be a host name or an IP address")
        return value

    @classmethod
    def from_secrets(cls, secrets: Mapping[str, str]) -> EmailCredentials:
        """The stored credentials (kept as strings) read back; ValueError when they are incomplete."""
        return cls.model_validate({key: value for key, value in secrets.items() if key in cls.model_fields})
