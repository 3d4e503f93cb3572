"""Channel tests run against fake providers on the loopback interface (one server per session each)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from convoflow.settings import Settings
from tests.channels.fake_custom import FakeCustomSystem
from tests.channels.fake_smtp import FakeSmtp
from tests.channels.fake_telegram import FakeTelegram
from tests.channels.fake_twilio import FakeTwilio
from tests.channels.fake_whatsapp import FakeWhatsapp
from tests.conftest import FAST_HASHING


@pytest.fixture(scope="session")
def telegram_server() -> Iterator[FakeTelegram]:
    fake = FakeTelegram().start()
    yield fake
    fake.stop()


@pytest.fixture
def telegram(telegram_server: FakeTelegram) -> FakeTelegram:
    telegram_server.reset()
    return telegram_server


@pytest.fixture(scope="session")
def custom_server() -> Iterator[FakeCustomSystem]:
    fake = FakeCustomSystem().start()
    yield fake
    fake.stop()


@pytest.fixture
def custom(custom_server: FakeCustomSystem) -> FakeCustomSystem:
    custom_server.reset()
    return custom_server


@pytest.fixture(scope="session")
def twilio_server() -> Iterator[FakeTwilio]:
    fake = FakeTwilio().start()
    yield fake
    fake.stop()


@pytest.fixture
def twilio(twilio_server: FakeTwilio) -> FakeTwilio:
    twilio_server.reset()
    return twilio_server


@pytest.fixture(scope="session")
def whatsapp_server() -> Iterator[FakeWhatsapp]:
    fake = FakeWhatsapp().start()
    yield fake
    fake.stop()


@pytest.fixture
def whatsapp(whatsapp_server: FakeWhatsapp) -> FakeWhatsapp:
    whatsapp_server.reset()
    return whatsapp_server


@pytest.fixture
def settings(
    db_url: str, tmp_path: Path, telegram: FakeTelegram, twilio: FakeTwilio, whatsapp: FakeWhatsapp
) -> Settings:
    return Settings(
        database_url=db_url,
        data_dir=tmp_path / "data",
        password_hashing=FAST_HASHING,
        secret_key="test-secret-key",
        public_base_url="https://convoflow.example",
        telegram_api_url=telegram.url,
        twilio_api_url=twilio.url,
        whatsapp_api_url=whatsapp.url,
        allow_internal_http=True,  # the fake providers listen on 127.0.0.1
    )


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[FakeSmtp]:
    fake = FakeSmtp().start()
    yield fake
    fake.stop()


@pytest.fixture
def smtp(smtp_server: FakeSmtp) -> FakeSmtp:
    smtp_server.reset()
    return smtp_server
