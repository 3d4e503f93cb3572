"""Composition root: settings -> database, clock, password hasher -> app and commands."""

from __future__ import annotations

from dataclasses import dataclass

from convoflow.accounts.login_throttle import LoginThrottle
from convoflow.accounts.passwords import PasswordHasher
from convoflow.clock import Clock, SystemClock
from convoflow.db.engine import build_engine, is_sqlite
from convoflow.db.session import Database
from convoflow.settings import Settings


@dataclass
class Container:
    settings: Settings
    clock: Clock
    db: Database
    hasher: PasswordHasher
    login_throttle: LoginThrottle

    def close(self) -> None:
        self.db.dispose()


def build_container(settings: Settings, *, clock: Clock | None = None) -> Container:
    url = settings.resolved_database_url()
    if is_sqlite(url) and settings.database_url is None:
        settings.ensure_data_dir()
    engine = build_engine(url, sqlite_synchronous=settings.sqlite_synchronous)
    clock = clock or SystemClock()
    return Container(
        settings=settings,
        clock=clock,
        db=Database(engine, clock),
        hasher=PasswordHasher(settings.password_hashing),
        login_throttle=LoginThrottle(clock),
    )
