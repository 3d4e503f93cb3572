"""Fixtures: a clean database per test on SQLite (always) and PostgreSQL (when configured).

PostgreSQL runs when CONVOFLOW_TEST_POSTGRES_URL is set; with REQUIRE_POSTGRES=1 a missing or
unreachable PostgreSQL fails the run instead of skipping that half.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from convoflow.api.app import create_app
from convoflow.bootstrap import Container, build_container
from convoflow.db import migrate
from convoflow.db.engine import build_engine, checkpoint
from convoflow.db.models import Base
from convoflow.settings import PasswordHashing, Settings
from convoflow.testing.clock import FakeClock

POSTGRES_URL = os.environ.get("CONVOFLOW_TEST_POSTGRES_URL")
REQUIRE_POSTGRES = os.environ.get("REQUIRE_POSTGRES") == "1"
FAST_HASHING = PasswordHashing(time_cost=1, memory_kib=8, parallelism=1)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for every test."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = build_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    checkpoint(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A database of our own on the configured server, migrated once, dropped at the end."""
    if not POSTGRES_URL:
        message = "CONVOFLOW_TEST_POSTGRES_URL is not set"
        if REQUIRE_POSTGRES:
            pytest.fail(f"REQUIRE_POSTGRES=1 but {message}")
        pytest.skip(message)
    admin_url = make_url(POSTGRES_URL)
    name = f"convoflow_test_{os.getpid()}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL is required but unusable: {exc}")
        pytest.skip(f"PostgreSQL unusable: {exc}")
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    engine = build_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


_TABLES = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty, migrated database for this test."""
    if request.param == "sqlite":
        path = tmp_path / "convoflow.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_database")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {_TABLES} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=db_url,
        data_dir=tmp_path / "data",
        password_hashing=FAST_HASHING,
        secret_key="test-secret-key",
    )


@pytest.fixture
def container(settings: Settings, clock: FakeClock) -> Iterator[Container]:
    built = build_container(settings, clock=clock)
    yield built
    built.close()


@pytest.fixture
def session(container: Container) -> Iterator[Session]:
    """A read-write session for arranging data and checking rows; commit what the API must see."""
    with container.db.session() as s:
        yield s


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container)) as test_client:
        yield test_client


@pytest.fixture
def make_client(container: Container) -> Iterator[Any]:
    """Extra clients (one cookie jar each) for tests with several signed-in users."""
    clients: list[TestClient] = []
    app = create_app(container)

    def factory() -> TestClient:
        c = TestClient(app)
        c.__enter__()
        clients.append(c)
        return c

    yield factory
    for c in clients:
        c.__exit__(None, None, None)
