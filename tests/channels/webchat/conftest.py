"""Web Chat tests need no fake provider: convoflow is the provider. The harness adds a web chat channel."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from convoflow.bootstrap import Container
from convoflow.settings import Settings
from tests.channels.webchat.support import Chat
from tests.conftest import FAST_HASHING
from tests.workflows.engine.support import Harness


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=db_url,
        data_dir=tmp_path / "data",
        password_hashing=FAST_HASHING,
        secret_key="test-secret-key",
        public_base_url="https://chat.example",
    )


@pytest.fixture
def h(session: Session, container: Container) -> Harness:
    return Harness(session, container)


@pytest.fixture
def chat(h: Harness) -> Chat:
    return Chat.create(h)
