"""Alembic environment: the engine comes from convoflow.db.migrate, never from alembic.ini."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from convoflow.db.models import Base

config = context.config
engine: Engine = config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode rebuilds tables
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
