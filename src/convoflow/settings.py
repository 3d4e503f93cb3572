"""Runtime configuration. This module is the only reader of the environment."""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from convoflow.validators import http_url


class PasswordHashing(BaseModel):
    """argon2id cost parameters (RFC 9106 second recommended option by default)."""

    time_cost: int = Field(3, ge=1, description="argon2 iterations")
    memory_kib: int = Field(65536, ge=8, description="argon2 memory in KiB")
    parallelism: int = Field(4, ge=1, description="argon2 lanes")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CONVOFLOW_", env_nested_delimiter="__", extra="ignore", validate_default=True
    )

    data_dir: Path = Field(
        Path("data"), description="Directory for the SQLite file and the generated secret key"
    )
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default is an SQLite file in the data directory"
    )
    secret_key: SecretStr | None = Field(
        None, description="Key for encrypting channel secrets; generated into the data directory when unset"
    )
    host: str = Field("127.0.0.1", description="Address `convoflow serve` binds to")
    port: int = Field(8000, ge=1, le=65535, description="Port `convoflow serve` listens on")
    public_base_url: str = Field("http://127.0.0.1:8000", description="Public origin used in links")
    max_body_bytes: int = Field(1024 * 1024, ge=1024, description="Largest accepted request body")
    session_days: int = Field(14, ge=1, description="Browser sessions expire after this many idle days")
    cookie_secure: bool = Field(False, description="Mark session cookies Secure (set behind HTTPS)")
    invitation_days: int = Field(7, ge=1, description="Invitation links stay valid this many days")
    sqlite_synchronous: Literal["normal", "full"] = Field(
        "normal", description="SQLite synchronous pragma; full survives power loss at a lower commit rate"
    )
    allow_internal_http: bool = Field(
        False,
        description="Let HTTP Request steps and custom channels reach private, loopback, link-local hosts",
    )
    test_channel_journal: Path | None = Field(
        None,
        description="File where the built-in test channel appends what it sends, shared by all processes",
    )
    telegram_api_url: str = Field(
        "https://api.telegram.org",
        description="Bot API server for Telegram channels (a self-hosted telegram-bot-api server works too)",
    )
    twilio_api_url: str = Field(
        "https://api.twilio.com", description="Twilio REST API origin for SMS channels (tests use a fake)"
    )
    whatsapp_api_url: str = Field(
        "https://graph.facebook.com",
        description="Graph API origin for WhatsApp Cloud API channels (tests use a fake)",
    )
    metrics_token: SecretStr | None = Field(
        None,
        description="Bearer token for /metrics; unset: /metrics answers only unproxied loopback clients",
    )
    log_level: str = Field("INFO", description="Root log level")
    log_format: Literal["console", "json"] = Field("console", description="Log line format")
    password_hashing: PasswordHashing = Field(default_factory=PasswordHashing)

    @field_validator("database_url", "secret_key", "metrics_token", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        """`CONVOFLOW_DATABASE_URL=` (set but empty) means the default, as if it were not set."""
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError("log level must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return level

    @field_validator("public_base_url", "telegram_api_url", "twilio_api_url", "whatsapp_api_url")
    @classmethod
    def _origin(cls, value: str) -> str:
        """An http(s) URL without a trailing slash, so paths can be appended."""
        return http_url(value).rstrip("/")

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'convoflow.db').resolve()}"

    def ensure_data_dir(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)

    def resolved_secret_key(self) -> SecretStr:
        """The configured key, or one generated once and kept in the data directory."""
        if self.secret_key is not None:
            return self.secret_key
        self.ensure_data_dir()
        path = self.data_dir / "secret_key"
        if not path.exists():
            _create_once(path, secrets.token_urlsafe(48))
        key = path.read_text().strip()
        if not key:
            raise RuntimeError(f"{path} is empty: delete it or set CONVOFLOW_SECRET_KEY")
        return SecretStr(key)


def _create_once(path: Path, content: str) -> None:
    """Writes `path` complete and readable by its owner only, unless another process created it first."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".secret_key.")  # mode 0600
    try:
        with os.fdopen(fd, "w") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileExistsError):  # a concurrent first start won: use its key
            os.link(temporary, path)
    finally:
        os.unlink(temporary)
