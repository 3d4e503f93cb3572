"""Settings: CONVOFLOW_* environment variables, defaults, refusals, the generated secret key."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from convoflow.settings import PasswordHashing, Settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("CONVOFLOW_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_defaults(tmp_path: Path) -> None:
    settings = Settings()
    assert settings.data_dir == Path("data")
    assert settings.database_url is None
    assert settings.resolved_database_url() == f"sqlite:///{tmp_path.resolve() / 'data' / 'convoflow.db'}"
    assert settings.secret_key is None
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.public_base_url == "http://127.0.0.1:8000"
    assert settings.max_body_bytes == 1024 * 1024
    assert settings.session_days == 14
    assert settings.cookie_secure is False
    assert settings.invitation_days == 7
    assert settings.sqlite_synchronous == "normal"
    assert (settings.log_level, settings.log_format) == ("INFO", "console")
    assert settings.password_hashing == PasswordHashing(time_cost=3, memory_kib=65536, parallelism=4)


def test_environment_variables_with_prefix_and_nested_delimiter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONVOFLOW_DATA_DIR", "/srv/convoflow")
    monkeypatch.setenv("CONVOFLOW_DATABASE_URL", "postgresql+psycopg://u:p@db:5432/convoflow")
    monkeypatch.setenv("CONVOFLOW_SECRET_KEY", "k" * 32)
    monkeypatch.setenv("CONVOFLOW_PORT", "9000")
    monkeypatch.setenv("CONVOFLOW_COOKIE_SECURE", "true")
    monkeypatch.setenv("CONVOFLOW_SQLITE_SYNCHRONOUS", "full")
    monkeypatch.setenv("CONVOFLOW_LOG_LEVEL", "debug")
    monkeypatch.setenv("CONVOFLOW_LOG_FORMAT", "json")
    monkeypatch.setenv("CONVOFLOW_PUBLIC_BASE_URL", "https://crm.example.com/")
    monkeypatch.setenv("CONVOFLOW_PASSWORD_HASHING__TIME_COST", "1")
    monkeypatch.setenv("CONVOFLOW_PASSWORD_HASHING__MEMORY_KIB", "8")
    monkeypatch.setenv("CONVOFLOW_PASSWORD_HASHING__PARALLELISM", "1")
    monkeypatch.setenv("PORT", "1")  # unprefixed variables are not ours

    settings = Settings()

    assert settings.data_dir == Path("/srv/convoflow")
    assert settings.resolved_database_url() == "postgresql+psycopg://u:p@db:5432/convoflow"
    assert settings.secret_key is not None and settings.secret_key.get_secret_value() == "k" * 32
    assert "k" * 32 not in repr(settings)
    assert settings.port == 9000
    assert settings.cookie_secure is True
    assert settings.sqlite_synchronous == "full"
    assert settings.log_level == "DEBUG"
    assert settings.log_format == "json"
    assert settings.public_base_url == "https://crm.example.com"
    assert settings.password_hashing == PasswordHashing(time_cost=1, memory_kib=8, parallelism=1)


def test_empty_database_url_and_secret_key_mean_unset(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CONVOFLOW_DATABASE_URL", "")
    monkeypatch.setenv("CONVOFLOW_SECRET_KEY", "  ")
    settings = Settings()
    assert settings.database_url is None
    assert settings.secret_key is None
    assert settings.resolved_database_url().startswith(f"sqlite:///{tmp_path.resolve()}")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CONVOFLOW_PORT", "0"),
        ("CONVOFLOW_PORT", "65536"),
        ("CONVOFLOW_PORT", "http"),
        ("CONVOFLOW_SQLITE_SYNCHRONOUS", "off"),
        ("CONVOFLOW_LOG_FORMAT", "xml"),
        ("CONVOFLOW_LOG_LEVEL", "verbose"),
        ("CONVOFLOW_MAX_BODY_BYTES", "10"),
        ("CONVOFLOW_SESSION_DAYS", "0"),
        ("CONVOFLOW_INVITATION_DAYS", "-1"),
        ("CONVOFLOW_COOKIE_SECURE", "perhaps"),
        ("CONVOFLOW_PUBLIC_BASE_URL", "crm.example.com"),
        ("CONVOFLOW_PASSWORD_HASHING__MEMORY_KIB", "4"),
        ("CONVOFLOW_PASSWORD_HASHING__TIME_COST", "0"),
    ],
)
def test_invalid_values_are_refused_at_start(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    field = name.removeprefix("CONVOFLOW_").lower().split("__")[0]
    with pytest.raises(ValidationError, match=field):
        Settings()


def test_secret_key_is_generated_once_and_reused(tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh" / "data"
    first = Settings(data_dir=data_dir).resolved_secret_key().get_secret_value()

    path = data_dir / "secret_key"
    assert len(first) >= 48
    assert path.read_text() == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in data_dir.iterdir()) == ["secret_key"]  # no temporary file left

    again = Settings(data_dir=data_dir).resolved_secret_key().get_secret_value()
    assert again == first
    assert path.read_text() == first


def test_an_existing_key_file_is_never_replaced(tmp_path: Path) -> None:
    tmp_path.joinpath("secret_key").write_text("kept-from-an-earlier-install\n")
    assert (
        Settings(data_dir=tmp_path).resolved_secret_key().get_secret_value() == "kept-from-an-earlier-install"
    )
    assert tmp_path.joinpath("secret_key").read_text() == "kept-from-an-earlier-install\n"


def test_configured_secret_key_writes_no_file(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", secret_key="configured-key")
    assert settings.resolved_secret_key().get_secret_value() == "configured-key"
    assert not (tmp_path / "data").exists()


def test_an_empty_key_file_is_an_error_not_an_empty_key(tmp_path: Path) -> None:
    tmp_path.joinpath("secret_key").write_text("\n")
    with pytest.raises(RuntimeError, match="is empty"):
        Settings(data_dir=tmp_path).resolved_secret_key()
