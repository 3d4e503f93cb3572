"""Alembic environment: the engine comes from convoflow.db.migrate, never from alembic.ini."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, Engine

from convoflow.db.models import Base

config = context.config
engine: Engine = config.attributes["engine"]


def _sqlite_foreign_keys(connection: Connection, *, on: bool) -> None:
    """Must run outside a transaction (SQLite ignores the pragma inside one), so on the raw connection."""
    connection.rollback()
    raw = connection.connection.driver_connection
    assert raw is not None
    raw.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Batch mode rebuilds a table by copy, DROP and rename. With foreign keys on, the DROP would
        # cascade to every row referencing the table (a rebuilt `workspaces` would empty the database).
        _sqlite_foreign_keys(connection, on=False)
    try:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=True,  # SQLite cannot ALTER most things; batch mode rebuilds tables
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        if sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
            if broken:
                raise RuntimeError(f"the migration left rows with dangling foreign keys: {broken[:5]}")
        connection.commit()
    finally:
        if sqlite:
            _sqlite_foreign_keys(connection, on=True)
